"""Dask distributed executor: a `distributed.Client`, a scheduler address, or a local cluster on demand.

Scale across machines (or HPC nodes with dask-jobqueue) by pointing it at the cluster's scheduler. A local cluster
made on demand is kept for later `optimize` calls in the process; `close_dask_clusters` closes it early.
"""

from __future__ import annotations

import atexit
import logging
import socket
import threading
from concurrent.futures import Future
from typing import Any

from hypersweep.execution.base import BaseExecutor

__all__ = ["DaskExecutor", "close_dask_clusters"]

logger = logging.getLogger(__name__)

# LocalClusters started on demand, by (n_workers, cluster_kwargs), with the Client that uses them
_LOCAL: dict[tuple, tuple[Any, Any]] = {}
_LOCAL_LOCK = threading.Lock()
_closing_at_exit = False


class DaskExecutor(BaseExecutor):
    """Runs calls as Dask tasks.

    ``client`` is a `distributed.Client`, a scheduler address ("tcp://host:8786"), or None for a `LocalCluster`
    of ``n_workers`` single-threaded worker processes. That cluster is started on the first call and reused by
    later executors asking for the same ``n_workers`` (and ``cluster_kwargs``) in this process, so a second
    `optimize` does not pay its start again; it is closed at interpreter exit, or earlier by
    `close_dask_clusters`. One that was closed or died meanwhile is replaced by a new one.
    A worker that dies is handled by Dask: its task is retried elsewhere, then fails as `KilledWorker`.
    """

    def __init__(self, client: Any = None, n_workers: int = 1, **cluster_kwargs: Any) -> None:
        from distributed import Client

        self._owned: list[Any] = []
        if client is None:
            client = _local_client(n_workers, cluster_kwargs, self._owned)
        elif isinstance(client, str):
            client = Client(client)
            self._owned = [client]
        elif not isinstance(client, Client):
            raise TypeError(
                f"executor= for Dask takes a distributed.Client or a scheduler address such as "
                f"'tcp://127.0.0.1:8786', got {type(client).__name__}"
            )
        self.client = client
        n_threads = sum(client.nthreads().values()) if client.scheduler_info().get("workers") else n_workers
        self.n_workers = max(1, n_threads)
        self._live: set[Any] = set()

    def submit(self, fn, *args):
        dask_future = self.client.submit(fn, *args, pure=False)
        future: Future = Future()
        self._live.add(dask_future)

        def _done(f: Any) -> None:
            self._live.discard(f)
            try:
                future.set_result(f.result())
            except BaseException as exc:  # noqa: BLE001 - forwarded to the caller
                future.set_exception(exc)

        dask_future.add_done_callback(_done)
        return future

    def report_host(self) -> str:
        addresses = list(self.client.scheduler_info().get("workers", {}))
        if all("127.0.0.1" in a or "localhost" in a for a in addresses):
            return "127.0.0.1"
        return socket.gethostbyname(socket.gethostname())

    def shutdown(self, wait=True):
        for f in list(self._live):
            f.cancel()
        for obj in self._owned:
            obj.close()
        self._owned = []


def _local_client(n_workers: int, cluster_kwargs: dict[str, Any], owned: list[Any]) -> Any:
    """A Client of a running LocalCluster for ``n_workers``: the cached one, else a new one (cached too).

    With unhashable ``cluster_kwargs`` the cluster is not cached: it goes to ``owned``, closed with its executor.
    """
    global _closing_at_exit
    try:
        key: tuple | None = (n_workers, tuple(sorted(cluster_kwargs.items())))
        hash(key)
    except TypeError:
        key = None
    with _LOCAL_LOCK:
        cached = _LOCAL.pop(key, None) if key is not None else None
        if cached is not None:
            if _running(*cached):
                _LOCAL[key] = cached
                return cached[1]
            logger.info("the Dask LocalCluster kept for n_workers=%d is gone; starting a new one", n_workers)
            _close(*cached)
        cluster, client = _start_local_cluster(n_workers, cluster_kwargs)
        if key is None:
            owned += [client, cluster]
            return client
        _LOCAL[key] = (cluster, client)
        if not _closing_at_exit:  # registered after distributed's exit handlers, so it runs before them
            atexit.register(close_dask_clusters)
            _closing_at_exit = True
        return client


def _start_local_cluster(n_workers: int, cluster_kwargs: dict[str, Any]) -> tuple[Any, Any]:
    import dask
    from distributed import Client, LocalCluster

    from hypersweep.execution.local import _main_script_not_reimported

    # the worker profiler samples stacks every few ms while holding the GIL: pure-Python trials pay for it
    with dask.config.set({"distributed.worker.profile.enabled": False}), _main_script_not_reimported():
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, **cluster_kwargs
        )
    return cluster, Client(cluster)


def _running(cluster: Any, client: Any) -> bool:
    from distributed.core import Status

    return cluster.status == Status.running and client.status == "running"


def _close(cluster: Any, client: Any) -> None:
    for obj in (client, cluster):
        try:
            obj.close()
        except Exception:  # already closed, or its event loop is gone: nothing left to release
            logger.debug("closing %r failed", obj, exc_info=True)


def close_dask_clusters() -> None:
    """Close the Dask LocalClusters that ``executor="dask"`` started and keeps for later `optimize` calls.

    They close at interpreter exit anyway; call this to free their worker processes earlier. The next
    ``executor="dask"`` starts a new cluster.

    >>> close_dask_clusters()  # nothing to close: does nothing
    """
    with _LOCAL_LOCK:
        kept = list(_LOCAL.values())
        _LOCAL.clear()
    for cluster, client in kept:
        _close(cluster, client)
