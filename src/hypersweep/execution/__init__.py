"""Where trials run: serial, threads, processes, a Dask cluster, or Ray.

`get_executor` resolves what a user passes as ``executor=``; Dask and Ray are imported only when asked for.
"""

from __future__ import annotations

import sys
from typing import Any

from hypersweep.execution.base import BaseExecutor
from hypersweep.execution.local import ProcessExecutor, SerialExecutor, ThreadExecutor

__all__ = [
    "BaseExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "ThreadExecutor",
    "close_dask_clusters",
    "get_executor",
]

_NAMES = ("serial", "thread", "process", "dask", "ray")


def get_executor(executor: Any = "serial", n_workers: int = 1) -> tuple[BaseExecutor, bool]:
    """Resolve ``executor=`` into (executor, owned); ``owned`` executors are shut down by the caller.

    Accepts "serial", "thread", "process", "dask" (a local cluster, kept for later calls), "ray" (this
    process's Ray session, else a local one), a Dask scheduler address ("tcp://host:8786"), a Ray Client
    address ("ray://host:10001"), a `distributed.Client`, or a `BaseExecutor`. With an address the
    cluster's size sets the number of workers.

    >>> ex, owned = get_executor("thread", n_workers=2)
    >>> ex.n_workers, owned
    (2, True)
    >>> ex.shutdown()
    """
    if isinstance(executor, BaseExecutor):
        return executor, False
    if isinstance(executor, str):
        name = executor.lower()
        if name == "serial":
            if n_workers not in (1, -1):
                raise ValueError(
                    f"executor='serial' runs one trial at a time, got n_workers={n_workers}; "
                    "use executor='thread', 'process', 'dask' or 'ray' for parallel trials"
                )
            return SerialExecutor(), True
        if name == "thread":
            return ThreadExecutor(n_workers), True
        if name == "process":
            return ProcessExecutor(n_workers), True
        if name == "dask":
            from hypersweep.execution.dask import DaskExecutor

            return DaskExecutor(None, n_workers=n_workers), True
        if name == "ray" or name.startswith("ray://"):
            from hypersweep.execution.ray import RayExecutor

            if name == "ray":
                return RayExecutor(n_workers=n_workers), True
            return RayExecutor(executor), True
        if "://" in executor:
            from hypersweep.execution.dask import DaskExecutor

            return DaskExecutor(executor), True
        raise ValueError(
            f"executor={executor!r} is not known; use one of {list(_NAMES)}, a Dask scheduler address "
            "('tcp://host:8786'), a Ray Client address ('ray://host:10001'), a distributed.Client, or a BaseExecutor"
        )
    if type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed"):
        from hypersweep.execution.dask import DaskExecutor

        return DaskExecutor(executor), False
    raise TypeError(f"executor= must be a name, a distributed.Client or a BaseExecutor, got {executor!r}")


def close_dask_clusters() -> None:
    """Close the Dask LocalClusters that ``executor="dask"`` started and keeps for later `optimize` calls.

    They close at interpreter exit anyway; call this to free their worker processes earlier.

    >>> close_dask_clusters()  # none started: nothing to do
    """
    dask_module = sys.modules.get("hypersweep.execution.dask")  # not imported: no cluster was started
    if dask_module is not None:
        dask_module.close_dask_clusters()
