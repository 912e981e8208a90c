"""Dask distributed executor: a `distributed.Client`, a scheduler address, or a local cluster on demand.

Scale across machines (or HPC nodes with dask-jobqueue) by pointing it at the cluster's scheduler.
"""

from __future__ import annotations

import socket
from concurrent.futures import Future
from typing import Any

from hypersweep.execution.base import BaseExecutor

__all__ = ["DaskExecutor"]


class DaskExecutor(BaseExecutor):
    """Runs calls as Dask tasks.

    ``client`` is a `distributed.Client`, a scheduler address ("tcp://host:8786"), or None to start a
    `LocalCluster` with ``n_workers`` single-threaded worker processes (closed again by `shutdown`).
    A worker that dies is handled by Dask: its task is retried elsewhere, then fails as `KilledWorker`.
    """

    def __init__(self, client: Any = None, n_workers: int = 1, **cluster_kwargs: Any) -> None:
        from distributed import Client, LocalCluster

        self._owned: list[Any] = []
        if client is None:
            import dask

            from hypersweep.execution.local import _main_script_not_reimported

            # the worker profiler samples stacks every few ms while holding the GIL: pure-Python trials pay for it
            with dask.config.set({"distributed.worker.profile.enabled": False}), _main_script_not_reimported():
                cluster = LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                    **cluster_kwargs,
                )
            client = Client(cluster)
            self._owned = [client, cluster]
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
