"""Executors on this machine: serial (in the calling thread), a thread pool, a process pool."""

from __future__ import annotations

import contextlib
import importlib.machinery
import multiprocessing
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from hypersweep._validation import check_int
from hypersweep.execution.base import BaseExecutor

__all__ = ["SerialExecutor", "ThreadExecutor", "ProcessExecutor"]


class SerialExecutor(BaseExecutor):
    """Runs each call at once in the calling thread: simplest, reproducible, easy to debug.

    >>> SerialExecutor().submit(sum, [1, 2]).result()
    3
    """

    in_process = True

    def __init__(self, n_workers: int = 1) -> None:
        self.n_workers = 1

    def submit(self, fn, *args):
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            future.set_exception(exc)
        return future


class ThreadExecutor(BaseExecutor):
    """A pool of threads: for objectives that release the GIL (numpy, I/O, subprocesses).

    >>> with ThreadExecutor(2) as ex:
    ...     ex.submit(sum, [1, 2]).result()
    3
    """

    in_process = True

    def __init__(self, n_workers: int = 1) -> None:
        self.n_workers = _check_workers(n_workers)
        self._pool = ThreadPoolExecutor(self.n_workers, thread_name_prefix="hypersweep")

    def submit(self, fn, *args):
        return self._pool.submit(fn, *args)

    def shutdown(self, wait=True):
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class ProcessExecutor(BaseExecutor):
    """Worker processes: for CPU-bound objectives in pure Python.

    Each worker is its own single-process pool, so a worker that dies (segfault, out-of-memory kill,
    ``os._exit``) fails only the call it was running; that worker is then replaced by a fresh one. A large
    ``bytes`` argument that comes back call after call (the pickled objective, when it closes over data)
    travels to each worker once, not with every call.

    >>> with ProcessExecutor(2) as ex:
    ...     ex.submit(abs, -3).result()
    3
    """

    def __init__(self, n_workers: int = 1, start_method: str | None = None) -> None:
        self.n_workers = _check_workers(n_workers)
        if start_method is None:
            # fork is fastest but unsafe once threads run; forkserver is the safe default on Linux
            start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # workers fork from a server that has already imported what they run (hypersweep, numpy,
            # cloudpickle): a new worker, or one replacing a dead one, starts in milliseconds
            self._context.set_forkserver_preload(list(_WORKER_MODULES))
        self._lock = threading.Lock()
        self._pools = [self._new_pool() for _ in range(self.n_workers)]
        self._running: list[set[Future]] = [set() for _ in range(self.n_workers)]
        self._sent: list[set[str]] = [set() for _ in range(self.n_workers)]  # blob tokens each worker holds
        self._blobs: dict[int, tuple[bytes, str]] = {}  # id(large bytes argument) -> (it, its token)
        with _main_script_not_reimported():
            for pool in self._pools:  # start the workers now, all at once, rather than on their first trial
                pool.submit(int)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, mp_context=self._context)

    def submit(self, fn, *args):
        with self._lock:
            # the least loaded worker, counted from the futures themselves: a call that has just finished
            # counts as finished even before its done-callbacks have run
            slot = min(range(self.n_workers), key=lambda i: sum(not f.done() for f in self._running[i]))
            pool = self._pools[slot]
            try:
                call, carried = self._call(slot, fn, args)
                future = pool.submit(*call)
            except BrokenProcessPool:  # its worker died earlier: start a fresh one
                pool.shutdown(wait=False, cancel_futures=True)
                pool = self._pools[slot] = self._new_pool()
                self._sent[slot].clear()
                call, carried = self._call(slot, fn, args)
                with _main_script_not_reimported():
                    future = pool.submit(*call)
            self._running[slot].add(future)
        future.add_done_callback(lambda f: self._done(slot, pool, f, carried))
        return future

    def _call(self, slot: int, fn: Callable[..., Any], args: tuple) -> tuple[tuple, list[str]]:
        """What to submit for ``fn(*args)`` to ``slot``, and the tokens of the large arguments sent with it.

        Large ``bytes`` arguments become `_Blob`s, with their data unless that worker already has it.
        """
        if not any(isinstance(arg, bytes) and len(arg) >= _BLOB_BYTES for arg in args):
            return (fn, *args), []
        shipped, carried = [], []
        for arg in args:
            if isinstance(arg, bytes) and len(arg) >= _BLOB_BYTES:
                kept = self._blobs.get(id(arg))
                if kept is None or kept[0] is not arg:
                    if len(self._blobs) >= _KEPT_BLOBS:  # a new objective: the earlier ones are done with
                        self._blobs.clear()
                        for sent in self._sent:
                            sent.clear()
                    kept = self._blobs[id(arg)] = (arg, uuid.uuid4().hex)
                token = kept[1]
                if token not in self._sent[slot]:
                    carried.append(token)
                arg = _Blob(token, arg if token in carried else None)
            shipped.append(arg)
        live = frozenset(token for _, token in self._blobs.values())
        return (_with_blobs, fn, live, *shipped), carried

    def _done(self, slot: int, pool: ProcessPoolExecutor, future: Future, carried: list[str]) -> None:
        with self._lock:
            self._running[slot].discard(future)
            # the worker holds what this call carried once it ran it (a call that never ran carried nothing)
            if carried and self._pools[slot] is pool and not future.cancelled() and future.exception() is None:
                self._sent[slot].update(carried)

    def shutdown(self, wait=True):
        for pool in self._pools:
            pool.shutdown(wait=wait, cancel_futures=not wait)


#: what process workers run: imported by the forkserver before it forks them
_WORKER_MODULES = ("hypersweep.objective", "cloudpickle")

#: ``bytes`` arguments from this size on are sent to each process worker once (`ProcessExecutor._call`)
_BLOB_BYTES = 64 * 1024
_KEPT_BLOBS = 4

_WORKER_BLOBS: dict[str, bytes] = {}  # in a worker: the large arguments received, by token


class _Blob:
    """A large ``bytes`` argument on its way to a worker: with its data the first time, by token afterwards."""

    __slots__ = ("token", "data")

    def __init__(self, token: str, data: bytes | None) -> None:
        self.token = token
        self.data = data

    def __reduce__(self):
        return _Blob, (self.token, self.data)


def _with_blobs(fn: Callable[..., Any], live: frozenset[str], *args: Any) -> Any:
    """Runs in a worker: ``fn(*args)``, each `_Blob` replaced by its bytes (the same object every call).

    Blobs whose token is not ``live`` any more are dropped: the executor never refers to them again.
    """
    for token in [token for token in _WORKER_BLOBS if token not in live]:
        del _WORKER_BLOBS[token]
    resolved = []
    for arg in args:
        if isinstance(arg, _Blob):
            if arg.data is not None:
                _WORKER_BLOBS[arg.token] = arg.data
            elif arg.token not in _WORKER_BLOBS:
                raise RuntimeError(f"this worker never received the argument {arg.token}; please report it")
            arg = _WORKER_BLOBS[arg.token]
        resolved.append(arg)
    return fn(*resolved)


@contextlib.contextmanager
def _main_script_not_reimported() -> Iterator[None]:
    """Start worker processes without re-running the user's script in them.

    forkserver and spawn children import the parent's ``__main__`` script again, so a script that starts a
    search at top level (no ``if __name__ == "__main__":`` guard) would start it again in every worker.
    Objectives travel as cloudpickle bytes (functions of ``__main__`` by value), so workers need nothing from
    the script: while workers start, ``__main__`` is marked as a module named "__main__", which
    multiprocessing skips when preparing a child.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not getattr(main, "__file__", None):
        yield
        return
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = None


def _check_workers(n_workers: int) -> int:
    if n_workers == -1 and not isinstance(n_workers, bool):
        return os.cpu_count() or 1
    return check_int("n_workers", n_workers, minimum=1, fix="or n_workers=-1 for one per CPU")
