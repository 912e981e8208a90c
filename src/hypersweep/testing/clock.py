"""A virtual clock for the real `Study` loop: `SimulatedExecutor` runs trials as threads that take turns in
virtual time, and `sleep` advances a trial's clock, so many-worker searches replay in milliseconds.

Only one trial runs at any moment, always the one whose virtual time is earliest, so a simulation is
deterministic: the same objective, scheduler and seed give the same decisions at the same virtual times.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future
from typing import Any

from hypersweep.execution.base import BaseExecutor

__all__ = ["SimulatedExecutor", "SimulationAborted", "now", "sleep"]

_current = threading.local()  # .executor: the SimulatedExecutor running this thread's job


class SimulationAborted(BaseException):
    """Raised inside a simulated trial whose executor shut down while the trial was still waiting."""


class _Job:
    __slots__ = ("fn", "args", "future", "resume", "thread")

    def __init__(self, fn: Callable[..., Any], args: tuple, future: Future) -> None:
        self.fn, self.args, self.future = fn, args, future
        self.resume = threading.Event()
        self.thread: threading.Thread | None = None


class SimulatedExecutor(BaseExecutor):
    """``n_workers`` virtual workers on a virtual clock, for ``study.optimize(..., executor=...)``.

    Objectives spend virtual time with `sleep` (anything else they do takes no virtual time). The study's
    ``timeout=`` is measured on this clock; `time` reads it.

    >>> import hypersweep as hs
    >>> from hypersweep.testing.clock import SimulatedExecutor, sleep
    >>> def objective(config):
    ...     sleep(10.0 * config["x"])  # ten virtual seconds at x = 1
    ...     return config["x"]
    >>> executor = SimulatedExecutor(n_workers=2)
    >>> study = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0)
    >>> study.optimize(objective, n_trials=6, executor=executor, progress=False)
    >>> 0 < executor.time() < 30
    True
    """

    in_process = True

    def __init__(self, n_workers: int = 1) -> None:
        from hypersweep._validation import check_int

        self.n_workers = check_int("n_workers", n_workers, minimum=1)
        self._now = 0.0
        self._queue: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        self._back = threading.Event()  # set by a job thread when it hands the turn back
        self._waiting: set[_Job] = set()  # jobs started and now asleep
        self._closed = False

    def time(self) -> float:
        """The virtual time, in seconds since the executor was made."""
        return self._now

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self._push(self._now, _Job(fn, args, future))
        return future

    def wait(self, futures: Collection[Future], timeout: float | None = None) -> set[Future]:
        """Run jobs in virtual-time order until one of ``futures`` is done (or ``timeout`` virtual seconds)."""
        deadline = None if timeout is None else self._now + timeout
        while True:
            done = {f for f in futures if f.done()}
            if done or not self._queue:
                return done
            if deadline is not None and self._queue[0][0] > deadline:
                self._now = deadline
                return set()
            when, _, job = heapq.heappop(self._queue)
            self._now = max(self._now, when)
            self._turn(job)

    def sleep(self, seconds: float) -> None:
        """Spend ``seconds`` of virtual time in the calling job (use the module's `sleep` in objectives)."""
        job = getattr(_current, "job", None)
        if job is None:
            raise RuntimeError("SimulatedExecutor.sleep is for objectives running on this executor")
        if seconds < 0:
            raise ValueError(f"sleep: seconds must be >= 0, got seconds={seconds!r}")
        self._push(self._now + seconds, job)
        self._waiting.add(job)
        self._back.set()
        job.resume.wait()
        job.resume.clear()
        self._waiting.discard(job)
        if self._closed:
            raise SimulationAborted("the simulated executor was shut down")

    def shutdown(self, wait: bool = True) -> None:
        """Abort jobs still asleep (their futures fail with `SimulationAborted`)."""
        self._closed = True
        for job in list(self._waiting):
            job.resume.set()
            if job.thread is not None:
                job.thread.join(timeout=5)
        self._queue.clear()

    # --- turns -----------------------------------------------------------------------------------------
    def _push(self, when: float, job: _Job) -> None:
        heapq.heappush(self._queue, (when, next(self._order), job))

    def _turn(self, job: _Job) -> None:
        """Let ``job`` run until it sleeps again or ends; only then return."""
        self._back.clear()
        if job.thread is None:
            if job.future.cancelled():
                return
            job.future.set_running_or_notify_cancel()
            job.thread = threading.Thread(target=self._body, args=(job,), name="hypersweep-simulated", daemon=True)
            job.thread.start()
        else:
            job.resume.set()
        self._back.wait()

    def _body(self, job: _Job) -> None:
        _current.job = job
        _current.executor = self
        try:
            result = job.fn(*job.args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)
        finally:
            _current.job = None
            _current.executor = None
            self._back.set()


def sleep(seconds: float) -> None:
    """Spend ``seconds``: virtual seconds inside a `SimulatedExecutor` job, real ones anywhere else.

    >>> sleep(0.0)
    """
    executor = getattr(_current, "executor", None)
    if executor is None:
        time.sleep(seconds)
    else:
        executor.sleep(seconds)


def now() -> float:
    """The virtual time inside a `SimulatedExecutor` job; `time.monotonic` anywhere else."""
    executor = getattr(_current, "executor", None)
    return time.monotonic() if executor is None else executor.time()
