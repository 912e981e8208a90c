"""Where the models of a search live and train: on a Dask cluster (data blocks and models stay on the
workers as futures; only scores come back) or, without a ``distributed`` Client, in a local thread pool.

Both backends answer the same five calls: `put` (data, once), `submit` (a task; its result stays where it
ran), `item` (one part of a task's result, still remote), `wait_any` and `fetch` (bring a result here).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import operator
import os
from collections.abc import Iterable
from typing import Any

__all__ = ["Backend", "get_backend"]

logger = logging.getLogger("hypersweep.sklearn")


class Backend:
    """The interface; see the module docstring."""

    n_slots: int = 1

    def put(self, obj: Any) -> Any:
        raise NotImplementedError

    def compute(self, delayed: Any) -> Any:
        raise NotImplementedError

    def submit(self, fn: Any, *args: Any, priority: int = 0, offload: bool = False) -> Any:
        """Run ``fn(*args)`` (arguments may be handles); ``offload``: on a helper process if there are any."""
        raise NotImplementedError

    def item(self, handle: Any, index: int) -> Any:
        raise NotImplementedError

    def wait_any(self, handles: Iterable[Any]) -> set[Any]:
        raise NotImplementedError

    def fetch(self, handle: Any) -> Any:
        raise NotImplementedError

    def cancel(self, handles: Iterable[Any]) -> None:
        pass

    def close(self) -> None:
        pass

    def start_helpers(self, shared: list[Any], preload: list[str]) -> bool:
        """Start helper processes (`hypersweep.sklearn._helpers`) for tasks submitted with ``offload=True``,
        copying the ``shared`` data handles into each when first needed; False where this backend has none
        (its tasks already run in processes, or the data is too large to copy)."""
        return False

    @property
    def helpers(self) -> str:
        """``"ready"``, ``"starting"``, ``"off"`` (none started) or why they stopped."""
        return "off"

    @property
    def max_helpers(self) -> int:
        """How many helper processes `start_helpers` would start (0: none here)."""
        return 0

    def threads_here(self) -> int:
        """How many of the task threads run in this process (0: none, they are in worker processes)."""
        return 0

    def native_threads(self) -> Any:
        """A context in which the numeric libraries' own thread pools (BLAS, OpenMP) of this process are cut to
        ``cores // task threads``, so that models trained side by side do not oversubscribe the CPU, as Dask
        does for its worker processes (``OMP_NUM_THREADS=1``); nothing changes when no task runs here."""
        here = self.threads_here()
        if not here:
            return contextlib.nullcontext()
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=max(1, _cores() // here))


class DaskBackend(Backend):
    """A ``distributed`` Client: tasks are submitted with their inputs as futures, so data never passes
    through the client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        threads = client.nthreads()
        self.n_slots = max(1, sum(threads.values()))
        try:
            pids = client.run(os.getpid)
        except Exception:  # a cluster that cannot run functions on its workers: assume they are elsewhere
            pids = {}
        self._here = sum(threads.get(w, 0) for w, pid in pids.items() if pid == os.getpid())

    def threads_here(self) -> int:
        return self._here

    def put(self, obj: Any) -> Any:
        return self.client.scatter(obj, hash=False)

    def compute(self, delayed: Any) -> Any:
        return self.client.compute(delayed)

    def submit(self, fn: Any, *args: Any, priority: int = 0, offload: bool = False) -> Any:
        return self.client.submit(fn, *args, pure=False, priority=priority)

    def item(self, handle: Any, index: int) -> Any:
        return self.client.submit(operator.getitem, handle, index, pure=False)

    def wait_any(self, handles: Iterable[Any]) -> set[Any]:
        from distributed import wait

        return set(wait(list(handles), return_when="FIRST_COMPLETED").done)

    def fetch(self, handle: Any) -> Any:
        return handle.result()

    def cancel(self, handles: Iterable[Any]) -> None:
        handles = list(handles)
        if handles:
            self.client.cancel(handles)


class _Item:
    """Part ``index`` of a local task's result (resolved when a later task needs it)."""

    def __init__(self, future: cf.Future, index: int) -> None:
        self.future, self.index = future, index

    def result(self) -> Any:
        return self.future.result()[self.index]


class LocalBackend(Backend):
    """Threads in this process (scikit-learn's estimators release the GIL in their numeric kernels)."""

    def __init__(self, n_jobs: int | None = None) -> None:
        self.n_slots = max(1, n_jobs or os.cpu_count() or 1)
        self._pool = cf.ThreadPoolExecutor(self.n_slots, thread_name_prefix="hypersweep-sklearn")
        self._helpers: Any = None

    def put(self, obj: Any) -> Any:
        return obj

    def compute(self, delayed: Any) -> Any:
        import dask

        (value,) = dask.compute(delayed, scheduler="sync")
        return value

    def submit(self, fn: Any, *args: Any, priority: int = 0, offload: bool = False) -> Any:
        if offload and self._helpers is not None and self._helpers.broken is None:
            return self._helpers.submit(fn, list(args))
        return self._pool.submit(_call, fn, args)

    def start_helpers(self, shared: list[Any], preload: list[str]) -> bool:
        from hypersweep.sklearn import _helpers

        if self._helpers is not None:
            return self._helpers.broken is None
        n = self.max_helpers
        if not n:
            return False
        data = [_resolve(h) for h in shared]
        size = _helpers.shared_bytes(data)
        if size > _helpers.MAX_SHARED_BYTES:
            logger.debug("no helper processes: %d MB of data would be copied into each", size // 2**20)
            return False
        try:
            self._helpers = _helpers.HelperPool(n, data, preload, threads_each=max(1, _cores() // n))
        except Exception as error:  # no Unix sockets, no subprocesses: stay on threads
            logger.debug("no helper processes: %s", error)
            return False
        return True

    @property
    def max_helpers(self) -> int:
        from hypersweep.sklearn._helpers import helpers_allowed

        n = min(self.n_slots, _cores())  # one per core: more would only share the cores
        return n if n >= 2 and helpers_allowed() else 0

    @property
    def helpers(self) -> str:
        if self._helpers is None:
            return "off"
        if self._helpers.ready:
            return "ready"
        return "starting" if self._helpers.broken is None else self._helpers.broken

    def item(self, handle: Any, index: int) -> Any:
        return _Item(handle, index) if isinstance(handle, cf.Future) else handle[index]

    def wait_any(self, handles: Iterable[Any]) -> set[Any]:
        by_future: dict[cf.Future, list[Any]] = {}
        for handle in handles:
            by_future.setdefault(handle.future if isinstance(handle, _Item) else handle, []).append(handle)
        done = cf.wait(list(by_future), return_when=cf.FIRST_COMPLETED).done
        return {handle for future in done for handle in by_future[future]}

    def fetch(self, handle: Any) -> Any:
        return handle.result() if isinstance(handle, (cf.Future, _Item)) else handle

    def cancel(self, handles: Iterable[Any]) -> None:
        for handle in handles:
            (handle.future if isinstance(handle, _Item) else handle).cancel()

    def close(self) -> None:
        if self._helpers is not None:
            self._helpers.close()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def threads_here(self) -> int:
        return self.n_slots


class InProcessBackend(LocalBackend):
    """A ``distributed`` Client whose workers all run in this process (``Client(processes=False)``): the
    models train on threads of this process, as the workers' would, without a scheduler round trip per task
    (about 10 ms each, more than many ``partial_fit`` calls take); Dask collections are computed by the
    client, so data it holds is used where it is."""

    def __init__(self, client: Any, n_threads: int) -> None:
        super().__init__(n_threads)
        self.client = client

    def compute(self, delayed: Any) -> Any:
        return self.client.compute(delayed).result()


def _call(fn: Any, args: tuple) -> Any:
    return fn(*[_resolve(a) for a in args])


def _resolve(arg: Any) -> Any:
    if isinstance(arg, (cf.Future, _Item)):
        return arg.result()
    if isinstance(arg, list):
        return [_resolve(a) for a in arg]
    return arg


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_backend(n_jobs: int | None = None) -> Backend:
    """The running ``distributed`` Client's backend when there is one (`InProcessBackend` when its workers
    all live in this process), else local threads."""
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        return LocalBackend(n_jobs)
    backend = DaskBackend(client)
    if backend.threads_here() == backend.n_slots:  # every worker thread is in this process
        return InProcessBackend(client, backend.n_slots)
    return backend
