"""Ray executor: each call is a Ray task, on this process's Ray session, a cluster, or a local Ray started on demand.

Optional: ``pip install 'hypersweep[ray]'``. Importing this module does not import Ray; making a `RayExecutor` does.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from hypersweep.execution.base import BaseExecutor

__all__ = ["RayExecutor"]

INSTALL = "pip install 'hypersweep[ray]'"

#: bytes arguments this large (a pickled objective that closes over data) go to Ray's object store once, not per call
_SHARE_BYTES = 64 * 1024


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ImportError(f"executor='ray' needs Ray, which is not installed ({exc}); {INSTALL}") from None
    return ray


def _invoke(fn: Callable[..., Any], *args: Any) -> Any:
    """What a Ray worker runs; Ray has already replaced object-store references among ``args`` by their values."""
    return fn(*args)


class RayExecutor(BaseExecutor):
    """Runs each call as a Ray task that Ray never retries: a worker that dies fails only its own call.

    Where the tasks run:

    - on the Ray session this process has already initialised (``ray.init(...)`` before optimizing), which is
      used as it is and left running;
    - else on the cluster at ``address``: "ray://head:10001" (Ray Client, needs ``ray[client]``), or "auto" /
      "head:6379" from a node of the cluster; disconnected again by `shutdown`;
    - else on the cluster named by the ``RAY_ADDRESS`` environment variable (as ``ray job submit`` sets it);
    - else on a local Ray started with ``n_workers * num_cpus`` CPUs and shut down again by `shutdown`.

    ``n_workers`` calls run at once; None (or -1) runs as many as the session's resources fit at ``num_cpus``
    CPUs and ``num_gpus`` GPUs per call. ``init_kwargs`` go to ``ray.init`` when this executor starts or
    connects the session. Trials report to the study on `report_host`: when Ray nodes are other machines (or
    through Ray Client), they must be able to connect to this one; hypersweep must be importable on them, e.g.
    ``RayExecutor("auto", runtime_env={"pip": ["hypersweep"]})``. Ray workers import from the driver's script
    directory and working directory, not from the rest of its ``sys.path``: an objective defined elsewhere needs
    its module installed there, or shipped by value (``cloudpickle.register_pickle_by_value(module)``, as the
    ``hypersweep search`` command does). For example (Ray takes seconds to start)::

        study.optimize(objective, n_trials=40, executor="ray", n_workers=4)  # a local Ray with 4 CPUs
        ray.init(address="auto")  # or: join the cluster this machine belongs to, then
        study.optimize(objective, n_trials=40, executor=RayExecutor(num_gpus=1))  # one GPU per trial
    """

    in_process = False

    def __init__(
        self,
        address: str | None = None,
        n_workers: int | None = None,
        num_cpus: float = 1,
        num_gpus: float = 0,
        **init_kwargs: Any,
    ) -> None:
        ray = _import_ray()
        if n_workers == -1:
            n_workers = None
        if n_workers is not None:
            from hypersweep.execution.local import _check_workers

            n_workers = _check_workers(n_workers)
        for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"RayExecutor: {name} per call must be a number >= 0, got {name}={value!r}")
        self._ray = ray
        self._started = False
        if ray.is_initialized():
            if address is not None or init_kwargs:
                raise ValueError(
                    f"Ray is already initialised in this process, so RayExecutor cannot connect to "
                    f"address={address!r} or pass {sorted(init_kwargs)} to ray.init; drop them to use the running "
                    "session, or call ray.shutdown() first"
                )
        else:
            if address is None and not os.environ.get("RAY_ADDRESS"):
                address = "local"  # not Ray's default, which would also join a `ray start` cluster left running
                if n_workers is not None:  # else Ray takes every CPU of the machine
                    init_kwargs.setdefault("num_cpus", max(1, round(n_workers * num_cpus)))
                init_kwargs.setdefault("include_dashboard", False)
            try:
                ray.init(address=address, **init_kwargs)
            except ImportError as exc:  # ray:// without the Ray Client's dependencies
                raise ImportError(f"RayExecutor(address={address!r}): {exc}; pip install 'ray[client]'") from None
            self._started = True
        self._remote = ray.remote(_invoke).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=0)
        self.n_workers = n_workers if n_workers is not None else self._fitting_calls(num_cpus, num_gpus)
        self._live: dict[Future, Any] = {}
        self._shared: dict[int, tuple[bytes, Any]] = {}  # id(bytes) -> (the bytes, kept alive; its object ref)
        self._lock = threading.Lock()

    def _fitting_calls(self, num_cpus: float, num_gpus: float) -> int:
        resources = self._ray.cluster_resources()
        fits = [resources.get(kind, 0) / need for kind, need in (("CPU", num_cpus), ("GPU", num_gpus)) if need]
        return max(1, int(min(fits))) if fits else max(1, int(resources.get("CPU", 1)))

    def _share(self, arg: Any) -> Any:
        if not isinstance(arg, bytes) or len(arg) < _SHARE_BYTES:
            return arg
        with self._lock:
            kept = self._shared.get(id(arg))
            if kept is None or kept[0] is not arg:
                if len(self._shared) >= 4:  # a new objective: the old ones are done with
                    self._shared.clear()
                kept = self._shared[id(arg)] = (arg, self._ray.put(arg))
        return kept[1]

    def submit(self, fn, *args):
        ref = self._remote.remote(fn, *(self._share(arg) for arg in args))
        future = ref.future()  # a concurrent.futures.Future; a worker that dies sets WorkerCrashedError on it
        with self._lock:
            self._live[future] = ref
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._live.pop(future, None)

    def report_host(self) -> str:
        """127.0.0.1 when every Ray node is this machine, else this machine's address as Ray knows it."""
        ray = self._ray
        if ray.util.client.ray.is_connected():  # Ray Client: this process is outside the cluster
            return socket.gethostbyname(socket.gethostname())
        here = ray.util.get_node_ip_address()
        nodes = {node["NodeManagerAddress"] for node in ray.nodes() if node.get("Alive")}
        return "127.0.0.1" if nodes <= {here, "127.0.0.1"} else here

    def shutdown(self, wait=True):
        with self._lock:
            live = list(self._live.values())
            self._shared.clear()
        if live and wait:
            self._ray.wait(live, num_returns=len(live))
        elif live:
            for ref in live:
                try:
                    self._ray.cancel(ref, force=True)
                except Exception:  # finished meanwhile, or the session is gone
                    pass
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False
