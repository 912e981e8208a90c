"""The optimize loop: executors, the report server, heartbeats, the progress bar and callbacks.

`Study.optimize` calls `optimize`; everything here drives the study through its own API (ask, tell, promote,
re-queue), so the loop holds no trial state of its own beyond the futures it waits on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from hypersweep._validation import check_int, check_number
from hypersweep.execution import get_executor
from hypersweep.execution.channel import ReportServer
from hypersweep.objective import Outcome, TrialHandle, run_trial, takes_trial
from hypersweep.samplers import SearchExhausted
from hypersweep.trial import Trial, TrialState

if TYPE_CHECKING:
    from hypersweep.study import Study

__all__ = ["optimize"]

logger = logging.getLogger("hypersweep")


def optimize(
    study: Study,
    objective: Callable[..., Any],
    n_trials: int | None = None,
    timeout: float | None = None,
    n_workers: int = 1,
    executor: Any = "serial",
    progress: bool = True,
    callbacks: Sequence[Callable[[Study, Trial], None]] | None = None,
) -> None:
    """Run ``objective`` on the study's trials; see `Study.optimize` for the arguments."""
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    check_int("n_trials", n_trials, minimum=0, allow_none=True, fix="n_trials=None runs until timeout")
    check_number("timeout", timeout, minimum=0, exclusive_minimum=True, allow_none=True,
                 fix="a number of seconds, or None for no limit")
    _Run(study, objective, n_trials, timeout, n_workers, executor, progress, list(callbacks or [])).run()


class _Run:
    """One call of `optimize`: owns the executor (when it made it), the report server and the heartbeats."""

    def __init__(
        self,
        study: Study,
        objective: Callable[..., Any],
        n_trials: int | None,
        timeout: float | None,
        n_workers: int,
        executor: Any,
        progress: bool,
        callbacks: list[Callable[[Study, Trial], None]],
    ) -> None:
        self.study = study
        self.objective = objective
        self.n_trials = n_trials
        self.timeout = timeout
        self.progress = progress
        self.callbacks = callbacks
        self.pass_trial = takes_trial(objective)
        self.executor, self.owned = get_executor(executor, n_workers)
        self.launched = 0
        self.exhausted = False
        self.deadline: float | None = None

    def run(self) -> None:
        from hypersweep.progress import ProgressBar

        bar = ProgressBar(total=self.n_trials, enabled=self.progress, direction=self.study.direction,
                          directions=self.study.directions)
        server: ReportServer | None = None
        stop_heartbeat = threading.Event()
        if self.study.storage.persistent:
            threading.Thread(target=self._heartbeats, args=(stop_heartbeat,), daemon=True).start()
        try:
            payload = self._payload()
            if self.pass_trial and not self.executor.in_process:
                server = ReportServer(self.study._handle, self.executor.report_host())
            self._loop(payload, server, bar)
        finally:
            stop_heartbeat.set()
            bar.close()
            if server is not None:
                server.close()
            if self.owned:
                self.executor.shutdown(wait=False)

    def _payload(self) -> Any:
        """The objective as workers receive it: itself in this process, cloudpickle bytes elsewhere."""
        if self.executor.in_process:
            return self.objective
        import cloudpickle

        try:
            return cloudpickle.dumps(self.objective)
        except Exception as exc:
            raise TypeError(
                f"the objective cannot be sent to {type(self.executor).__name__} workers: {exc}. Create locks, "
                "connections and open files inside the objective, or use executor='thread'"
            ) from exc

    def _heartbeats(self, stop: threading.Event) -> None:
        while not stop.wait(self.study.heartbeat_interval):
            try:
                self.study._heartbeat()
            except Exception:  # a transient database error must not kill the search
                logger.warning("heartbeat failed", exc_info=True)

    # --- the loop ------------------------------------------------------------------------------------
    def _can_start_new(self) -> bool:
        return not self.exhausted and (self.n_trials is None or self.launched < self.n_trials)

    def _in_time(self) -> bool:
        return self.deadline is None or self.executor.time() < self.deadline

    def _next(self) -> tuple[TrialHandle, bool] | None:
        """The next run for a free worker: a promoted paused trial, else a new trial; (handle, is_new)."""
        if not self._in_time():
            return None
        handle = self.study._promotion(final=not self._can_start_new())
        if handle is not None:
            return handle, False
        if not self._can_start_new():
            return None
        try:
            handle = self.study.ask()
        except SearchExhausted:
            self.exhausted = True
            handle = self.study._promotion(final=True)
            return None if handle is None else (handle, False)
        self.launched += 1
        return handle, True

    def _loop(self, payload: Any, server: ReportServer | None, bar: Any) -> None:
        executor, study = self.executor, self.study
        self.deadline = None if self.timeout is None else executor.time() + self.timeout
        running: dict[Future, tuple[TrialHandle, bool]] = {}
        try:
            while True:
                while len(running) < executor.n_workers:
                    job = self._next()
                    if job is None:
                        break
                    handle = job[0]
                    if server is not None:
                        handle.bind(server.channel())
                    elif not self.pass_trial:
                        handle.bind(None)  # nothing to report: ship the handle without the study behind it
                    running[executor.submit(run_trial, payload, handle, self.pass_trial)] = job
                if not running:
                    if self._in_time():
                        study._retire(final=True)
                    return
                # until the deadline, wake up in time to stop launching; after it, wait for running trials
                remaining = None
                if self.deadline is not None and self._in_time():
                    remaining = max(self.deadline - executor.time(), 0.0)
                for future in executor.wait(list(running), timeout=remaining):
                    handle, is_new = running.pop(future)
                    trial = study._finish(handle.trial_id, _outcome_of(future))
                    if is_new:
                        bar.update(trial)
                    for callback in self.callbacks:
                        callback(study, trial)
                study._retire(final=not self._can_start_new())
        except BaseException as exc:
            for future in running:
                future.cancel()
            interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
            from hypersweep.study import INTERRUPTED

            study._requeue_mine(INTERRUPTED if interrupted else f"search stopped by {type(exc).__name__}: {exc}")
            raise


def _outcome_of(future: Future) -> Outcome:
    try:
        return future.result()
    except Exception as exc:  # the worker itself died or the call could not be shipped
        return Outcome(TrialState.FAILED, fail_reason=f"worker failed: {type(exc).__name__}: {exc}")
