"""Helper processes for a search whose Dask workers are threads of this process.

Threads of one process share its GIL: two models whose ``partial_fit`` is mostly Python (an MLP on small
batches) train no faster side by side than one after the other. When the driver measures that, it moves its
tasks to a few helper processes of its own (`HelperPool`), one per core:

- **How they start.** One fresh interpreter (``python -c``: no fork of this threaded process, and the user's
  script is not run again, as it is under ``multiprocessing``'s spawn) imports the modules the tasks need once
  and then forks the helpers, as ``multiprocessing``'s forkserver does; each helper connects back over a Unix
  socket with an auth key. They ignore Ctrl-C (this process handles it) and exit when this process goes.
- **What travels.** A data block is sent to a helper once, the first time a task there needs it, and stays
  there; a model travels with its task and comes back with its score (the driver keeps it between steps, so
  any helper can train it next). Warnings raised in a helper are issued again here, under the user's filters.
- **When it goes wrong.** A task whose inputs cannot be sent, or whose helper died, runs here on the calling
  thread instead, and the pool stops taking tasks (`broken` says why): the search goes on without helpers and
  loses nothing. An exception raised by the estimator itself is the task's result, as on a thread.

``HYPERSWEEP_HELPER_PROCESSES=0`` in the environment turns helpers off.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import os
import pickle
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable
from typing import Any

__all__ = ["HelperPool", "helpers_allowed"]

logger = logging.getLogger("hypersweep.sklearn")

#: The most data (bytes, summed over the blocks a search shares) copied into each helper.
MAX_SHARED_BYTES = 512 * 2**20
_ENV_SWITCH = "HYPERSWEEP_HELPER_PROCESSES"
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def helpers_allowed() -> bool:
    """Whether helper processes may be used here: a POSIX system with ``fork``, not switched off."""
    if os.environ.get(_ENV_SWITCH, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return hasattr(os, "fork") and sys.platform != "win32"


class _Ref:
    """Stands for a shared data object in a task's arguments; the helper swaps it for its copy."""

    __slots__ = ("token",)

    def __init__(self, token: int) -> None:
        self.token = token

    def __reduce__(self) -> tuple:
        return _Ref, (self.token,)


class _Helper:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.has: set[int] = set()  # tokens of the shared objects this helper holds


class HelperPool:
    """``n`` helper processes behind ``n`` threads of this process; see the module doc. For example::

        pool = HelperPool(2, shared=[block], preload=["sklearn.neural_network"])
        future = pool.submit(train, [block, model])  # block goes to that helper once, then by reference
        model, record = future.result()
        pool.close()
    """

    def __init__(self, n: int, shared: Iterable[Any], preload: Iterable[str] = (), threads_each: int = 1) -> None:
        self.n = n
        self.broken: str | None = None
        self._closed = False
        self._shared: dict[int, tuple[int, Any]] = {}
        for token, obj in enumerate(shared):
            self._shared.setdefault(id(obj), (token, obj))
        self._idle: queue.Queue[_Helper] = queue.Queue()
        self._helpers: list[_Helper] = []
        self._pool = cf.ThreadPoolExecutor(n, thread_name_prefix="hypersweep-helper")
        self._tmp = tempfile.TemporaryDirectory(prefix="hypersweep-helpers-")
        address = os.path.join(self._tmp.name, "socket")
        self._authkey = secrets.token_bytes(32)
        from multiprocessing.connection import Listener

        self._listener = Listener(address, family="AF_UNIX", authkey=self._authkey)
        env = dict(os.environ)
        env.update({name: str(threads_each) for name in _THREAD_VARS})
        env[_ENV_SWITCH] = "0"  # a helper never starts helpers of its own
        config = {"address": address, "authkey": self._authkey, "n": n, "sys_path": list(sys.path),
                  "preload": [m for m in preload if m and m != "__main__"]}
        self._zygote = subprocess.Popen(
            [sys.executable, "-c", "from hypersweep.sklearn._helpers import _zygote; _zygote()"],
            stdin=subprocess.PIPE, env=env, start_new_session=True,
        )
        assert self._zygote.stdin is not None
        self._zygote.stdin.write(pickle.dumps(config))
        self._zygote.stdin.close()
        self._accepting = threading.Thread(target=self._accept, name="hypersweep-helper-accept", daemon=True)
        self._accepting.start()

    # --- state ----------------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Whether every helper has connected (and the pool is not broken)."""
        if self.broken is None and len(self._helpers) < self.n and self._zygote.poll() not in (None, 0):
            self.broken = f"the helper launcher exited with code {self._zygote.returncode}"
        return self.broken is None and len(self._helpers) == self.n

    def _accept(self) -> None:
        while len(self._helpers) < self.n and not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:  # closed, or a bad connection
                if self._closed:
                    return
                continue
            helper = _Helper(conn)
            self._helpers.append(helper)
            self._idle.put(helper)

    # --- tasks ----------------------------------------------------------------------------------------------
    def submit(self, fn: Any, args: list[Any]) -> cf.Future:
        """Run ``fn(*args)`` on a free helper; the future holds its result (or the exception it raised).
        ``args`` may hold futures (they are waited for here)."""
        return self._pool.submit(self._proxy, fn, args)

    def _proxy(self, fn: Any, args: list[Any]) -> Any:
        from hypersweep.sklearn._backend import _resolve

        args = [_resolve(a) for a in args]
        if self.broken is not None or self._closed:
            return fn(*args)
        helper = self._idle.get()
        try:
            new: dict[int, Any] = {}
            sent = self._refer(args, helper.has, new)
            start = time.perf_counter()
            try:
                helper.conn.send(("call", fn, sent, new))
                kind, value, caught = helper.conn.recv()
            except Exception as error:  # cannot be sent, or the helper died: run it here
                if self._closed:
                    raise cf.CancelledError() from None
                self._break(f"{type(error).__name__}: {error}")
                return fn(*args)
            if kind == "unreadable":  # the helper cannot rebuild the inputs (e.g. a class it cannot import)
                self._break(value)
                return fn(*args)
            helper.has.update(new)
            for message, category, filename, lineno in caught:
                warnings.warn_explicit(message, category, filename, lineno)
            if kind == "raised":
                raise value
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict) and "task_time" in value[1]:
                value[1]["task_time"] = time.perf_counter() - start  # what the task cost here, sending included
            return value
        finally:
            self._idle.put(helper)

    def _refer(self, obj: Any, has: set[int], new: dict[int, Any]) -> Any:
        shared = self._shared.get(id(obj))
        if shared is not None:
            token, value = shared
            if token not in has:
                new[token] = value
            return _Ref(token)
        if isinstance(obj, list):
            return [self._refer(o, has, new) for o in obj]
        return obj

    def _break(self, why: str) -> None:
        if self.broken is None:
            self.broken = why
            logger.info("helper processes are off for the rest of this search: %s", why)

    def close(self) -> None:
        """Stop the helpers (a task in flight there is abandoned) and wait for the threads."""
        self._closed = True
        self.broken = self.broken or "closed"
        for helper in self._helpers:
            with contextlib.suppress(Exception):
                helper.conn.close()
        with contextlib.suppress(Exception):
            self._listener.close()
        # Helpers end when their connection does (after the task they run, if any); the launcher reaps them
        # and ends. One still busy is stopped by the launcher (SIGTERM), which reaps it too.
        for stop in (None, signal.SIGTERM, signal.SIGKILL):
            if stop is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    (self._zygote.send_signal(stop) if stop == signal.SIGTERM else os.killpg(self._zygote.pid, stop))
            try:
                self._zygote.wait(timeout=0.5 if stop is None else 5)
                break
            except subprocess.TimeoutExpired:
                continue
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._tmp.cleanup()


# --- the other side -----------------------------------------------------------------------------------------
def _zygote() -> None:
    """The launcher: read the config, import what the tasks need, fork the helpers, wait for them."""
    config = pickle.loads(sys.stdin.buffer.read())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.path[:] = config["sys_path"]
    import importlib

    for name in ["hypersweep.sklearn._tasks", *config["preload"]]:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    children: list[int] = []

    def stop(signum: int, frame: Any) -> None:  # the pool is closing while a helper is busy: end them all
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child, 0)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    for _ in range(config["n"]):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = 0
            try:
                from multiprocessing.connection import Client

                _serve(Client(config["address"], family="AF_UNIX", authkey=config["authkey"]))
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _serve(conn: Any) -> None:
    """A helper's loop: take a task, run it, send back ``(kind, value, warnings)``; end when the pipe does."""
    store: dict[int, Any] = {}
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            _, fn, args, new = pickle.loads(raw)
        except Exception as error:
            conn.send(("unreadable", f"a task's inputs could not be rebuilt in a helper ({type(error).__name__}: "
                                     f"{error})", []))
            continue
        store.update(new)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                kind, value = "ok", fn(*_deref(args, store))
            except Exception as error:
                kind, value = "raised", error
        notes = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
        try:
            conn.send((kind, value, notes))
        except Exception as error:  # the result (or the exception) does not pickle
            conn.send(("raised", RuntimeError(f"{type(value).__name__} from a helper could not be sent back: "
                                              f"{type(error).__name__}: {error}"), notes))


def _deref(obj: Any, store: dict[int, Any]) -> Any:
    if isinstance(obj, _Ref):
        return store[obj.token]
    if isinstance(obj, list):
        return [_deref(o, store) for o in obj]
    return obj


def shared_bytes(objects: Iterable[Any]) -> int:
    """About how many bytes ``objects`` (data blocks: arrays, frames, sparse matrices, tuples and lists of
    them) hold; what cannot be sized counts as 0."""
    total = 0
    stack = list(objects)
    while stack:
        obj = stack.pop()
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif hasattr(obj, "memory_usage") and hasattr(obj, "iloc"):  # pandas
            usage = obj.memory_usage(index=True)
            total += int(usage.sum() if hasattr(usage, "sum") else usage)
        elif hasattr(obj, "nbytes"):
            total += int(obj.nbytes)
        elif hasattr(obj, "data") and hasattr(obj, "indices"):  # scipy.sparse
            total += int(obj.data.nbytes + obj.indices.nbytes + getattr(obj, "indptr", obj.indices).nbytes)
    return total
