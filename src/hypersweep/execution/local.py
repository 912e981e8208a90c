"""Executors on this machine: serial (in the calling thread), a thread pool, a process pool."""

from __future__ import annotations

import multiprocessing
import os
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
    """A pool of worker processes: for CPU-bound objectives in pure Python.

    A worker that dies fails the calls it was running; the pool is then rebuilt for the next calls.
    The objective must be importable (defined in a module, not in ``__main__`` of an interactive session)
    unless the start method is "fork".
    """

    def __init__(self, n_workers: int = 1, start_method: str | None = None) -> None:
        self.n_workers = _check_workers(n_workers)
        if start_method is None:
            # fork is fastest but unsafe once threads run; forkserver is the safe default on Linux
            start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self._context = multiprocessing.get_context(start_method)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.n_workers, mp_context=self._context)

    def submit(self, fn, *args):
        try:
            return self._pool.submit(fn, *args)
        except RuntimeError:  # BrokenProcessPool after a worker died: start a fresh pool
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(fn, *args)

    def shutdown(self, wait=True):
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _check_workers(n_workers: int) -> int:
    if not isinstance(n_workers, int) or isinstance(n_workers, bool):
        raise TypeError(f"n_workers must be an int, got {n_workers!r}")
    if n_workers == -1:
        return os.cpu_count() or 1
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1 (or -1 for one per CPU), got {n_workers}")
    return n_workers
