"""Executors on this machine: serial (in the calling thread), a thread pool, a process pool."""

from __future__ import annotations

import contextlib
import importlib.machinery
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor

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
    ``os._exit``) fails only the call it was running; that worker is then replaced by a fresh one.

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
            # workers fork from a server that has already imported hypersweep (numpy, cloudpickle): each
            # new worker starts in milliseconds instead of re-importing them
            self._context.set_forkserver_preload(["hypersweep.objective"])
        self._pools = [self._new_pool() for _ in range(self.n_workers)]
        with _main_script_not_reimported():
            for pool in self._pools:  # start the workers now, all at once, rather than on their first trial
                pool.submit(int)
        self._busy = [0] * self.n_workers
        self._lock = threading.Lock()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, mp_context=self._context)

    def submit(self, fn, *args):
        with self._lock:
            slot = min(range(self.n_workers), key=self._busy.__getitem__)
            try:
                future = self._pools[slot].submit(fn, *args)
            except RuntimeError:  # BrokenProcessPool: its worker died earlier; start a fresh one
                self._pools[slot].shutdown(wait=False, cancel_futures=True)
                self._pools[slot] = self._new_pool()
                with _main_script_not_reimported():
                    future = self._pools[slot].submit(fn, *args)
            self._busy[slot] += 1
        future.add_done_callback(lambda _, slot=slot: self._release(slot))
        return future

    def _release(self, slot: int) -> None:
        with self._lock:
            self._busy[slot] -= 1

    def shutdown(self, wait=True):
        for pool in self._pools:
            pool.shutdown(wait=wait, cancel_futures=not wait)


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
    if not isinstance(n_workers, int) or isinstance(n_workers, bool):
        raise TypeError(f"n_workers must be an int, got {n_workers!r}")
    if n_workers == -1:
        return os.cpu_count() or 1
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1 (or -1 for one per CPU), got {n_workers}")
    return n_workers
