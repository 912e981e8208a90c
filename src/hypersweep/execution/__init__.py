"""Where trials run: serial, threads, processes, or a Dask cluster.

`get_executor` resolves what a user passes as ``executor=``.
"""

from __future__ import annotations

from typing import Any

from hypersweep.execution.base import BaseExecutor
from hypersweep.execution.local import ProcessExecutor, SerialExecutor, ThreadExecutor

__all__ = ["BaseExecutor", "ProcessExecutor", "SerialExecutor", "ThreadExecutor", "get_executor"]

_NAMES = ("serial", "thread", "process", "dask")


def get_executor(executor: Any = "serial", n_workers: int = 1) -> tuple[BaseExecutor, bool]:
    """Resolve ``executor=`` into (executor, owned); ``owned`` executors are shut down by the caller.

    Accepts "serial", "thread", "process", "dask" (a local cluster), a scheduler address
    ("tcp://host:8786"), a `distributed.Client`, or a `BaseExecutor`.

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
                    "use executor='thread', 'process' or 'dask' for parallel trials"
                )
            return SerialExecutor(), True
        if name == "thread":
            return ThreadExecutor(n_workers), True
        if name == "process":
            return ProcessExecutor(n_workers), True
        if name == "dask":
            from hypersweep.execution.dask import DaskExecutor

            return DaskExecutor(None, n_workers=n_workers), True
        if "://" in executor:
            from hypersweep.execution.dask import DaskExecutor

            return DaskExecutor(executor), True
        raise ValueError(
            f"executor={executor!r} is not known; use one of {list(_NAMES)}, a Dask scheduler address "
            "('tcp://host:8786'), a distributed.Client, or a BaseExecutor"
        )
    if type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed"):
        from hypersweep.execution.dask import DaskExecutor

        return DaskExecutor(executor), False
    raise TypeError(f"executor= must be a name, a distributed.Client or a BaseExecutor, got {executor!r}")
