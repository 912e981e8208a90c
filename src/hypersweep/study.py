"""`Study`: a search's trials and the only writer to its storage; `create_study`, `load_study`.

The Study is the data API (trials, best trial, tables, checkpoints) and the driver API (start, report, pause,
resume and finish trials; ask the scheduler what to run next) that front ends use. `optimize` runs the loop of
`hypersweep.runtime` on top of that API: executors, report server, heartbeats and the progress bar live there.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypersweep.direction import Direction
from hypersweep.execution.channel import LocalChannel
from hypersweep.history import TrialHistory
from hypersweep.objective import Outcome, TrialHandle, _ArtifactSink, _check_step, _reported, interpret_result
from hypersweep.samplers import BaseSampler, get_sampler
from hypersweep.schedulers import BaseScheduler, Decision, NoScheduler, get_scheduler
from hypersweep.space import Space
from hypersweep.storage import BaseStorage, MultiWriterNotSupported, StudyNotFound, TrialAlreadyFinished, get_storage
from hypersweep.trial import Artifact, Trial, TrialState

__all__ = ["INTERRUPTED", "Study", "create_study", "load_study"]

logger = logging.getLogger("hypersweep")

#: re-queue reason of trials cut short by Ctrl-C / SIGTERM (they go back to the queue, keeping their checkpoint)
INTERRUPTED = "interrupted"

Callback = Callable[["Study", Trial], None]
TrialRef = TrialHandle | Trial | int  # a trial named by its handle, its record or its number

_ARTIFACTS_ATTR = "hs:artifacts"  # study system attribute: the URL of the artifact store given at creation


def _as_space(problem: Any) -> tuple[Space, list[dict[str, Any]]]:
    """Space and starting points from a `Problem`, a `Space` or a dict of shorthand."""
    if isinstance(problem, Space):
        return problem, []
    if hasattr(problem, "space") and isinstance(problem.space, Space):
        return problem.space, list(getattr(problem, "starting_points", []))
    if isinstance(problem, Mapping):
        return Space(problem), []
    raise TypeError(
        f"create_study needs a Problem, a Space or a dict of parameters, got {type(problem).__name__}; "
        "e.g. hs.create_study({'x': (0.0, 1.0)})"
    )


class Study:
    """A search: its space, sampler, scheduler, trials in storage and checkpoints in an artifact store.

    Made by `create_study` / `load_study`, not directly.

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (-5.0, 5.0)}, sampler="random", seed=0)
    >>> study.optimize(lambda config: (config["x"] - 1) ** 2, n_trials=20, progress=False)
    >>> len(study.trials), study.best_value < 1.0
    (20, True)

    Driving trials yourself (as the scikit-learn searches do):

    >>> study = hs.create_study({"lr": (1e-3, 1.0, "log-uniform")}, scheduler=hs.schedulers.Hyperband(9), seed=0)
    >>> handles = [study.start_trial(system_attrs={"bracket": 2}) for _ in range(9)]
    >>> study.next_steps()[handles[0].number]  # every model of bracket 2 first gets one step
    1
    """

    def __init__(
        self,
        storage: BaseStorage,
        study_id: int,
        name: str,
        direction: str | Direction,
        space: Space,
        sampler: BaseSampler,
        scheduler: BaseScheduler,
        heartbeat_interval: float = 10.0,
        grace_period: float | None = None,
        *,
        artifacts: Any = None,
        retention: Any = None,
        directions: Sequence[str | Direction] | None = None,
    ) -> None:
        from hypersweep.artifacts import Retention, RetentionTracker

        self.storage = storage
        self.study_id = study_id
        self.name = name
        self.directions = _check_directions(direction, directions)
        self.direction = self.directions[0]
        self.space = space
        self.sampler = sampler
        self.scheduler = scheduler
        if len(self.directions) > 1:
            _check_multi_objective(sampler, scheduler)
        self.artifacts = artifacts
        self.retention = retention if retention is not None else Retention()
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period if grace_period is not None else 4 * heartbeat_interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._lock = threading.RLock()
        self._cursor = 0
        self._history = TrialHistory()
        self._decisions: dict[int, str] = {}  # trial_id -> the scheduler's first non-"continue" verdict
        self._mine: dict[int, Trial] = {}  # trial_id -> trials this process is running
        self._last_requeue = 0.0
        self._tracker = RetentionTracker(self.retention, self._goal) if artifacts is not None else None
        self._prefix = f"{study_id}-{re.sub(r'[^A-Za-z0-9._-]+', '_', name)[:64]}"

    # --- reading -------------------------------------------------------------------------------------
    def _sync(self) -> None:
        """Fold the trials changed since our last read into the history (one incremental read)."""
        with self._lock:
            changed, self._cursor = self.storage.get_trials(self.study_id, since=self._cursor)
        self._learn(changed)

    def _learn(self, trials: Iterable[Trial]) -> None:
        """Put newer versions of trials into the history, and apply the retention policy to them."""
        deletions: list[tuple[int, list[str]]] = []
        with self._lock:
            for trial in trials:
                if trial.artifacts:
                    trial = replace(trial, _loader=self._load_artifact)
                self._history.put(trial)
                if self._tracker is not None:
                    deletions += self._tracker.update(trial)
        for number, names in deletions:
            self._delete_artifacts(number, names)

    @property
    def trials(self) -> list[Trial]:
        """All trials, by number (a fresh read of storage)."""
        self._sync()
        with self._lock:
            return self._history.sorted()

    def get_trials(self, states: Iterable[TrialState | str] | None = None) -> list[Trial]:
        """Trials in the given states (all when None)."""
        wanted = None if states is None else {TrialState(s) for s in states}
        return [t for t in self.trials if wanted is None or t.state in wanted]

    def trial(self, number: int) -> Trial:
        """One trial by number (a fresh read of storage)."""
        self._sync()
        with self._lock:
            found = self._history.get(number)
        if found is None:
            raise KeyError(f"study {self.name!r} has no trial number {number}")
        return found

    @property
    def n_objectives(self) -> int:
        """How many objectives the study has (one per direction)."""
        return len(self.directions)

    @property
    def best_trial(self) -> Trial:
        """The feasible COMPLETE trial with the best value; ValueError while there is none, and in a study of
        several objectives (its best trials are `best_trials`, the Pareto front)."""
        if self.n_objectives > 1:
            raise ValueError(
                f"study {self.name!r} has {self.n_objectives} objectives, so no single best trial: "
                "study.best_trials is the Pareto front (the trials no other trial beats on every objective)"
            )
        done = self._completed()
        if self.direction is Direction.MAXIMIZE:
            return max(done, key=lambda t: (t.value, -t.number))
        return min(done, key=lambda t: (t.value, t.number))

    @property
    def best_trials(self) -> list[Trial]:
        """The Pareto front: the COMPLETE trials that no other beats on every objective, by number (with one
        objective, the trials of the best value); only feasible trials count (those whose constraints are all
        <= 0, and those without constraints). ValueError while there is none.

        >>> import hypersweep as hs
        >>> study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], sampler="random", seed=0)
        >>> study.optimize(lambda c: (c["x"], 1 - c["x"]), n_trials=5, progress=False)
        >>> len(study.best_trials)  # x against 1 - x: every trial is a trade-off
        5
        """
        from hypersweep.multi_objective import as_losses, pareto_front_mask

        done = self._completed()
        losses = as_losses([t.values for t in done], self.directions)
        return [t for t, keep in zip(done, pareto_front_mask(losses), strict=True) if keep]

    def _completed(self) -> list[Trial]:
        """The feasible COMPLETE trials with a value for every objective, by number; ValueError while there is
        none (saying so when trials completed but every one violates a constraint)."""
        self._sync()
        n = self.n_objectives
        with self._lock:
            done = [t for t in self._history.finished if t.state == TrialState.COMPLETE and t.has_value
                    and t.values is not None and len(t.values) == n]
        if not done:
            raise ValueError(f"study {self.name!r} has no completed trial yet; run study.optimize(...) first")
        feasible = [t for t in done if t.feasible]
        if not feasible:
            closest = min(done, key=lambda t: (t.violation, t.number))
            raise ValueError(
                f"study {self.name!r}: none of its {len(done)} completed trials is feasible (every one has a "
                f"constraint > 0); the closest is trial {closest.number}, off by {closest.violation:.4g}. Run more "
                "trials, or relax the constraints"
            )
        return sorted(feasible, key=lambda t: t.number)

    @property
    def best_value(self) -> float:
        return self.best_trial.value  # type: ignore[return-value]

    @property
    def best_config(self) -> dict[str, Any]:
        return self.best_trial.config

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The study's user attributes (set with `set_user_attr`)."""
        return dict(self._record().user_attrs)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a JSON value on the study."""
        self.storage.set_study_attr(self.study_id, key, value)

    def _record(self) -> Any:
        return self.storage.get_study(self.name)

    def trials_dataframe(self) -> Any:
        """A pandas DataFrame: number, state, objective, ``p:<param>``, ``m:<metadata>``, timings, failures."""
        from hypersweep.results import trials_dataframe

        return trials_dataframe(self.trials, list(self.space))

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write `trials_dataframe` to a CSV file (atomically: a crash never leaves half a file)."""
        from hypersweep.results import write_csv

        write_csv(self.trials_dataframe(), path)

    def load_checkpoint(self, trial: TrialRef) -> Any:
        """The latest checkpoint of a trial (given by handle, record or number), e.g. the best model:
        ``study.load_checkpoint(study.best_trial)``."""
        return self.trial(self._number_of(trial)).load_checkpoint()

    def save_checkpoint(self, trial: TrialRef, obj: Any, step: int) -> Artifact:
        """Save ``obj`` as a trial's checkpoint at ``step``, as ``handle.save_checkpoint`` does, for drivers
        that keep trial numbers rather than handles (also for a finished trial, e.g. a refitted model)."""
        record = self.trial(self._number_of(trial))
        return self._handle_for(record, resume=False).save_checkpoint(obj, step=step)

    # --- the loop: ask / tell ---------------------------------------------------------------------------
    def enqueue(self, config: Mapping[str, Any], skip_if_exists: bool = False) -> None:
        """Queue a config to be evaluated before any the sampler proposes (e.g. a starting point).

        >>> import hypersweep as hs
        >>> study = hs.create_study({"x": (0, 10)})
        >>> study.enqueue({"x": 3})
        >>> study.ask().config
        {'x': 3}
        """
        config = self.space.validate(config)
        if skip_if_exists:
            self._sync()
            with self._lock:
                if any(t.config == config for t in self._history):
                    return
        self.storage.create_trial(self.study_id, config, TrialState.WAITING)

    def ask(self) -> TrialHandle:
        """Start a trial: the oldest queued one (a starting point, or one re-queued after its process died,
        which resumes at its checkpoint), else a new config from the sampler.

        Raises `SearchExhausted` when the sampler has nothing left to propose (e.g. a finished grid).
        """
        self._maybe_requeue()
        trial = self.storage.claim_waiting_trial(self.study_id, self.worker_id)
        if trial is None:
            trial = self._new_trial(None, {})
        return self._started(trial)

    def tell(
        self,
        trial: TrialRef,
        value: Any = None,
        state: TrialState | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        fail_reason: str | None = None,
    ) -> Trial:
        """Finish a trial: with its ``value`` (read like an objective's return value), or an explicit
        ``state`` ("pruned", "failed"; "paused" pauses it, like `pause`).

        >>> import hypersweep as hs
        >>> study = hs.create_study({"x": (0.0, 1.0)})
        >>> t = study.ask()
        >>> study.tell(t, t.config["x"] ** 2).state
        <TrialState.COMPLETE: 'complete'>
        """
        trial_id = self._trial_id_of(trial)
        if state is None:
            outcome = interpret_result(value)
        else:
            state = TrialState(state)
            if not (state.is_finished or state is TrialState.PAUSED):
                raise ValueError(
                    f"tell: state must be complete, pruned, failed or paused, got state={state.value!r}"
                )
            if state == TrialState.COMPLETE:
                outcome = interpret_result(value)
            else:
                number = value if value is None else float(value)
                outcome = Outcome(state, value=number, fail_reason=fail_reason)
        if metadata:
            outcome.metadata = {**outcome.metadata, **dict(metadata)}
        if fail_reason and outcome.fail_reason is None:
            outcome.fail_reason = fail_reason
        return self._finish(trial_id, outcome)

    # --- the driver API -----------------------------------------------------------------------------------
    def start_trial(
        self, config: Mapping[str, Any] | None = None, *, system_attrs: Mapping[str, Any] | None = None
    ) -> TrialHandle:
        """Start a trial now, with ``config`` (validated against the space) or, when None, one from the queue
        or the sampler as `ask` does; ``system_attrs`` are recorded on it (e.g. ``{"bracket": 2}``).

        The handle reports (``handle.report(score, step)``), saves checkpoints and tells the scheduler's
        decision, exactly as in an objective. Finish the trial with `tell`, or `pause` it.
        """
        attrs = dict(system_attrs or {})
        if config is None and not attrs:
            return self.ask()
        trial = self._new_trial(None if config is None else self.space.validate(config), attrs)
        return self._started(trial)

    def report(self, trial: TrialRef, value: float | Sequence[float], step: int) -> Decision:
        """Record ``value`` at ``step`` for a running trial (one value per objective in a study of several);
        the scheduler's `Decision` about it."""
        step = _check_step("study.report", step)
        return Decision(self._on_report(self._trial_id_of(trial), step, _reported(value)))

    def pause(self, trial: TrialRef) -> Trial:
        """Pause a running trial (it keeps its steps and checkpoint; `resume` continues it)."""
        return self._finish(self._trial_id_of(trial), Outcome(TrialState.PAUSED))

    def resume(self, trial: TrialRef) -> TrialHandle:
        """Claim a PAUSED (or WAITING) trial for this process and run it again: the handle has its
        ``checkpoint`` and ``last_step``. Raises RuntimeError if another worker claimed it first."""
        trial_id = self._trial_id_of(trial)
        claimed = self.storage.claim_trial(trial_id, self.worker_id)
        if claimed is None:
            current = self.storage.get_trial(trial_id)
            raise RuntimeError(
                f"trial {current.number} is {current.state}, not paused or waiting: it cannot be resumed here"
            )
        return self._started(claimed)

    def next_steps(self) -> dict[int, int]:
        """Driver mode: ``{trial number: steps to run next}`` from the scheduler; 0 means stop that trial
        (``tell(n, state="pruned")``), a trial left out waits for others, {} means the search is done.

        Needs a scheduler with a driver mode (`SuccessiveHalving`, `Hyperband`); see `start_trial`.
        """
        self._sync()
        with self._lock:
            return self.scheduler.next_steps(self._history, self._goal)

    # --- internals shared with the runtime ------------------------------------------------------------------
    def _new_trial(self, config: dict[str, Any] | None, system_attrs: dict[str, Any]) -> Trial:
        if config is None:
            self._sync()
            with self._lock:
                pending = [t.config for t in self._history.running]
                config = self.sampler.ask(self.space, self._history.settled(), pending, self._goal)
            config = self.space.validate(config)
            chosen = getattr(self.sampler, "current", None)  # which sampler "auto" asked
            if chosen is not None:
                system_attrs = {**system_attrs, "sampler": chosen}
        return self.storage.create_trial(
            self.study_id, config, TrialState.RUNNING, system_attrs=system_attrs, worker=self.worker_id
        )

    def _started(self, trial: Trial) -> TrialHandle:
        """Record the scheduler's attributes on a trial that starts or resumes here; its handle."""
        attrs = self.scheduler.on_trial_start(trial.number, self._history)
        attrs = {k: v for k, v in attrs.items() if k not in trial.system_attrs}  # a resumed trial keeps its own
        for key, value in attrs.items():
            self.storage.set_trial_attr(trial.trial_id, key, value, system=True)
        if attrs:
            trial = trial.evolve(system_attrs={**trial.system_attrs, **attrs})
        with self._lock:
            self._mine[trial.trial_id] = trial
            self._decisions.pop(trial.trial_id, None)
        self._learn([trial])
        return self._handle_for(trial, resume=True)

    def _handle_for(self, trial: Trial, resume: bool) -> TrialHandle:
        """The handle of a trial: its checkpoint to resume from (when ``resume``) and where to save files."""
        checkpoint = trial.checkpoint if resume else None
        last_step = checkpoint.step if checkpoint is not None and checkpoint.step is not None else 0
        sink = None if self.artifacts is None else _ArtifactSink(self.artifacts, f"{self._prefix}/{trial.number}")
        return TrialHandle(
            trial.number,
            trial.trial_id,
            dict(trial.config),
            LocalChannel(self._handle),
            last_step=last_step,
            last_value=trial.intermediate.get(last_step),
            checkpoint=checkpoint,
            artifacts=sink,
        )

    def _number_of(self, trial: TrialRef) -> int:
        if isinstance(trial, (TrialHandle, Trial)):
            return trial.number
        if isinstance(trial, int) and not isinstance(trial, bool):
            return trial
        raise TypeError(f"a trial is given by its handle, its Trial record or its number, got {trial!r}")

    def _trial_id_of(self, trial: TrialRef) -> int:
        if isinstance(trial, (TrialHandle, Trial)) and trial.trial_id >= 0:
            return trial.trial_id
        number = self._number_of(trial)
        with self._lock:
            known = self._history.get(number)  # trial ids never change: no need to read storage again
        return known.trial_id if known is not None else self.trial(number).trial_id

    def _handle(self, method: str, trial_id: int, *args: Any) -> Any:
        """Answer a call from a running trial (see `hypersweep.execution.channel`)."""
        if method == "report":
            return self._on_report(trial_id, *args)
        if method == "artifact":
            (fields,) = args
            self.storage.add_artifact(trial_id, Artifact(**fields))
            self._sync()  # the retention policy sees the new checkpoint
            return None
        if method == "user_attr":
            key, value = args
            self.storage.set_trial_attr(trial_id, key, value)
            return None
        raise ValueError(f"unknown call {method!r} from trial {trial_id}")

    def _on_report(self, trial_id: int, step: int, value: float | tuple[float, ...]) -> str:
        """A running trial reported ``value`` at ``step``: record it and return the scheduler's verdict."""
        first, values = self._step_values(value)
        self.storage.report(trial_id, step, first, values)
        self._sync()
        with self._lock:
            trial = self._history.by_id(trial_id)
            if trial is None:
                return Decision.CONTINUE.value
            decision = self.scheduler.decide(trial, self._history, self._goal)
            if decision != Decision.CONTINUE:
                self._decisions.setdefault(trial_id, decision.value)
            return self._decisions.get(trial_id, Decision.CONTINUE.value)

    @property
    def _goal(self) -> str | list[str]:
        """The directions as samplers and schedulers take them: one name, or a list of several."""
        return self.direction.value if self.n_objectives == 1 else [d.value for d in self.directions]

    def _step_values(self, value: float | tuple[float, ...]) -> tuple[float, tuple[float, ...] | None]:
        """(first value, every objective's value or None) of a report, checked against the objectives."""
        n = self.n_objectives
        if isinstance(value, tuple):
            if len(value) != n:
                raise ValueError(
                    f"trial.report: got {len(value)} values for a study of {n} objective(s) "
                    f"({', '.join(d.value for d in self.directions)}); report one value per objective"
                )
            return value[0], (value if n > 1 else None)
        if n > 1 and not isinstance(self.scheduler, NoScheduler):
            raise ValueError(
                f"trial.report: got one value for a study of {n} objectives, which "
                f"{type(self.scheduler).__name__} prunes by all of them; report one value per objective, "
                "e.g. trial.report((accuracy, latency), step)"
            )
        return value, None

    def _finish(self, trial_id: int, outcome: Outcome) -> Trial:
        outcome = self._checked_values(outcome)
        value = outcome.value
        if outcome.state in (TrialState.PRUNED, TrialState.PAUSED) and value is None:
            latest = self.storage.get_trial(trial_id)  # a stopped trial keeps its last reported value
            if latest.intermediate:
                value = latest.intermediate[max(latest.intermediate)]
        if outcome.state is TrialState.PAUSED:
            finished = self.storage.pause_trial(trial_id, value=value)
        else:
            finished = self.storage.finish_trial(
                trial_id, outcome.state, value=value, metadata=outcome.metadata, fail_reason=outcome.fail_reason,
                values=outcome.values if outcome.state is TrialState.COMPLETE and self.n_objectives > 1 else None,
            )
        with self._lock:
            self._mine.pop(trial_id, None)
            self._decisions.pop(trial_id, None)
        self._learn([finished])
        self._log_trial(finished)
        return finished

    def _checked_values(self, outcome: Outcome) -> Outcome:
        """A COMPLETE outcome with one value per objective, or a FAILED one saying what came back."""
        if outcome.state is not TrialState.COMPLETE:
            return outcome
        got = len(outcome.values) if outcome.values is not None else 1
        if got == self.n_objectives:
            return outcome
        names = ", ".join(d.value for d in self.directions)
        return Outcome(
            TrialState.FAILED, metadata=outcome.metadata, worker_start=outcome.worker_start,
            worker_end=outcome.worker_end,
            fail_reason=f"the objective returned {got} value(s) for a study of {self.n_objectives} objective(s) "
                        f"({names}); return one value per direction",
        )

    def _promotion(self, final: bool) -> TrialHandle | None:
        """Resume the first paused trial the scheduler promotes (one another process did not claim first)."""
        with self._lock:
            numbers = self.scheduler.promotable(self._history, self._goal, final=final)
            candidates = [self._history[n] for n in numbers if n in self._history]
        for trial in candidates:
            claimed = self.storage.claim_trial(trial.trial_id, self.worker_id)
            if claimed is not None:
                logger.info("trial %d promoted: resumes after step %s", claimed.number, claimed.last_step)
                return self._started(claimed)
        return None

    def _retire(self, final: bool) -> None:
        """End as PRUNED the paused trials the scheduler will never resume."""
        with self._lock:
            numbers = self.scheduler.stoppable(self._history, self._goal, final=final)
            trials = [self._history[n] for n in numbers if n in self._history]
        for trial in trials:
            try:
                self._finish(trial.trial_id, Outcome(TrialState.PRUNED))
            except TrialAlreadyFinished:
                pass  # another process got there first

    def _requeue_mine(self, reason: str) -> None:
        """Put every trial this process started and has not finished back in the queue, keeping its steps
        and checkpoint (the search was interrupted or stopped by an error: the trials are not at fault)."""
        with self._lock:
            mine = list(self._mine.values())
            self._mine.clear()
        for trial in mine:
            try:
                self.storage.requeue_trial(trial.trial_id, reason)
            except Exception:  # already finished or storage gone: nothing more to save
                logger.debug("could not re-queue trial %d (%s)", trial.number, reason, exc_info=True)

    def _load_artifact(self, artifact: Artifact) -> Any:
        if self.artifacts is None:
            raise LookupError(
                f"study {self.name!r} has no artifact store to load {artifact.name!r} from; open it with "
                "artifacts= naming where its checkpoints were written"
            )
        from hypersweep.artifacts import load_object

        return load_object(self.artifacts, artifact.key, artifact.format, artifact.checksum)

    def _delete_artifacts(self, number: int, names: list[str]) -> None:
        with self._lock:
            trial = self._history.get(number)
        if trial is None or self.artifacts is None:
            return
        try:
            for name in names:
                if name in trial.artifacts:
                    self.artifacts.remove(trial.artifacts[name].key)
            self.storage.remove_artifacts(trial.trial_id, names)
        except Exception:  # retention must never stop a search
            logger.warning("could not delete checkpoints %s of trial %d", names, number, exc_info=True)

    def _log_trial(self, trial: Trial) -> None:
        if trial.state == TrialState.FAILED:
            logger.warning("trial %d failed: %s", trial.number, (trial.fail_reason or "").splitlines()[0])
        else:
            logger.info("trial %d %s with value %s and config %s", trial.number, trial.state, trial.value,
                        trial.config)

    # --- robustness ---------------------------------------------------------------------------------
    def _maybe_requeue(self, force: bool = False, grace: float | None = None) -> None:
        """Re-queue trials whose process stopped sending heartbeats (persistent storages only).

        ``grace=-1`` re-queues every RUNNING trial: right when a single-writer study (SQLite) resumes, any
        trial still marked running belongs to a process that is gone.
        """
        if not self.storage.persistent:
            return
        now = time.monotonic()
        if force or now - self._last_requeue >= self.heartbeat_interval:
            self._last_requeue = now
            grace = self.grace_period if grace is None else grace
            for trial in self.storage.requeue_stale_trials(self.study_id, grace):
                logger.warning("trial %d lost its worker; re-queued, it resumes at its last checkpoint",
                               trial.number)

    def _heartbeat(self) -> None:
        with self._lock:
            ids = list(self._mine)
        if ids:
            self.storage.heartbeat(ids)

    # --- optimize ------------------------------------------------------------------------------------
    def optimize(
        self,
        objective: Callable[..., Any],
        n_trials: int | None = None,
        timeout: float | None = None,
        n_workers: int = 1,
        executor: Any = "serial",
        progress: bool = True,
        callbacks: Sequence[Callback] | None = None,
        scheduler: str | BaseScheduler | None = None,
    ) -> None:
        """Evaluate ``objective(config)`` (or ``objective(config, trial)``) on configs from the sampler.

        ``n_trials`` counts the new trials this call starts (resumed ones do not count); ``timeout``
        (seconds) stops launching trials once passed (running ones finish). ``executor`` is "serial",
        "thread", "process", "dask", "ray", a Dask scheduler address, a `distributed.Client` or a
        `BaseExecutor`, with ``n_workers`` parallel trials. A free worker first resumes a paused trial the
        scheduler promotes, then starts a new one. A trial whose objective raises, returns NaN/inf or a
        non-number is recorded FAILED and the search goes on; Ctrl-C puts the running trials back in the
        queue (they resume at their last checkpoint) and keeps every finished one. ``callbacks`` are called
        as ``callback(study, trial)`` each time a trial's run ends (finished or paused). ``scheduler``
        (a name such as "asha", or a `BaseScheduler`), when given, replaces the study's scheduler from this
        call on, as if it had been passed to `create_study`.

        >>> import hypersweep as hs
        >>> study = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0)
        >>> def objective(config, trial):
        ...     for epoch in range(1, 10):
        ...         trial.report(config["x"] / epoch, epoch)
        ...     return config["x"] / 9
        >>> study.optimize(objective, n_trials=8, scheduler="asha", progress=False)
        >>> type(study.scheduler).__name__
        'ASHA'
        """
        from hypersweep.runtime import optimize

        if scheduler is not None:
            chosen = get_scheduler(scheduler)
            if self.n_objectives > 1:
                _check_multi_objective(self.sampler, chosen)
            self.scheduler = chosen
        optimize(self, objective, n_trials, timeout, n_workers, executor, progress, callbacks)

    def __repr__(self) -> str:
        if self.n_objectives > 1:
            directions = [d.value for d in self.directions]
            return f"Study(name={self.name!r}, directions={directions!r}, sampler={self.sampler!r})"
        return f"Study(name={self.name!r}, direction={self.direction.value!r}, sampler={self.sampler!r})"


def create_study(
    problem: Any,
    direction: str = "minimize",
    sampler: str | BaseSampler | None = "auto",
    scheduler: str | BaseScheduler | None = None,
    storage: str | BaseStorage | None = None,
    name: str | None = None,
    resume: bool = False,
    seed: int | None = None,
    heartbeat_interval: float = 10.0,
    artifacts: Any = None,
    retention: Any = None,
    directions: Sequence[str] | None = None,
) -> Study:
    """Start a search over ``problem`` (a `Problem`, a `Space`, or a dict of parameters).

    ``directions=["maximize", "minimize"]`` (instead of ``direction``) makes a study of several objectives:
    the objective returns one value per direction (a tuple, or ``{"objective": (...)}``) and
    `Study.best_trials` is the Pareto front. ``sampler="auto"`` (the default, `samplers.auto.AutoSampler`) is
    Bayesian optimization for the first 500 completed trials and TPE after (one objective); for several, BO
    by hypervolume improvement for the first 300 and NSGA-II after; each trial records which sampler
    proposed it (system attribute "sampler").

    ``storage`` is None (in memory), a SQLAlchemy URL ("sqlite:///results.db", "postgresql://...",
    "mysql+pymysql://...") or a storage object. With ``resume=True`` an existing study of that ``name``
    continues, every earlier trial informing the sampler and every interrupted trial resuming at its last
    checkpoint; otherwise the name must be new. The problem's starting points are enqueued so they run first.

    ``artifacts`` is where checkpoints go: a folder or an fsspec URL ("s3://bucket/prefix") that every
    worker can reach; by default a folder beside a SQLite file ("results.db" -> "results-artifacts/"), a
    temporary folder for an in-memory study, and none for a database server (pass one to save checkpoints).
    ``retention`` (a `hypersweep.artifacts.Retention`) says which checkpoints to keep.

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0, 10)}, direction="maximize", sampler="random", seed=1)
    >>> study.direction
    <Direction.MAXIMIZE: 'maximize'>
    """
    chosen = _check_directions(direction, directions)
    direction, names = chosen[0], [d.value for d in chosen]
    space, starting_points = _as_space(problem)
    if len(space.dims) == 0 and len(space) == 0:
        raise ValueError("the search space is empty; add at least one parameter")
    if resume and name is None:
        raise ValueError("resume=True needs the name= of the study to continue")
    if name is None:
        name = f"study-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    backend = get_storage(storage)
    existed = False
    if resume:
        try:
            record = backend.get_study(name)
            existed = True
        except StudyNotFound:
            record = backend.create_study(name, direction.value, space.to_dict(), load_if_exists=True,
                                          directions=names)
    else:
        record = backend.create_study(name, direction.value, space.to_dict(), directions=names)
    if existed:
        if list(record.directions) != names:
            given = f"direction={names[0]!r}" if len(names) == 1 else f"directions={names!r}"
            stored = (f"direction={record.direction!r}" if len(record.directions) == 1
                      else f"directions={list(record.directions)!r}")
            raise ValueError(
                f"study {name!r} was created with {stored}, not {given}; resume it with the same "
                "direction(s) or start a new study under another name="
            )
        if record.space is not None and record.space != space.to_dict():
            raise ValueError(
                f"study {name!r} was created with another search space:\n  stored: {record.space}\n  "
                f"given:  {space.to_dict()}\nresume it with the same space or start a new study under another name="
            )
    study = Study(
        backend,
        record.study_id,
        name,
        direction,
        space,
        get_sampler(sampler, seed=seed),
        get_scheduler(scheduler),
        heartbeat_interval=heartbeat_interval,
        artifacts=_artifact_store(artifacts, backend, record),
        retention=retention,
        directions=names,
    )
    if artifacts is not None:
        backend.set_study_attr(record.study_id, _ARTIFACTS_ATTR, study.artifacts.url, only_if_absent=True,
                               system=True)
    if existed and not backend.supports_multiple_writers:
        _refuse_live_writers(study)
        study._maybe_requeue(force=True, grace=-1.0)
    # starting points and the sampler's plan (a grid) are enqueued once per study, by whichever process
    # claims that job first, so each point runs exactly once however many processes share the study
    if not record.system_attrs.get("hs:planned") and backend.set_study_attr(
        record.study_id, "hs:planned", True, only_if_absent=True, system=True
    ):
        for config in [*starting_points, *(study.sampler.plan(space) or [])]:
            study.enqueue(config)
    return study


def _check_directions(direction: Any, directions: Sequence[Any] | None) -> list[Direction]:
    """``directions`` (when given) or ``[direction]``, parsed, with a clear error for what is not one."""
    if directions is None:
        return [Direction.of(direction)]
    if isinstance(directions, (str, Direction)) or not isinstance(directions, Sequence) or not directions:
        from hypersweep._validation import invalid

        raise invalid("directions", directions, "a list of 'minimize' / 'maximize', one per objective",
                      "e.g. directions=['maximize', 'minimize'] for accuracy and latency")
    return [Direction.of(d, f"directions[{i}]") for i, d in enumerate(directions)]


def _check_multi_objective(sampler: BaseSampler, scheduler: BaseScheduler) -> None:
    """A study of several objectives needs a sampler and a scheduler that handle them."""
    if not getattr(sampler, "multi_objective", False):
        raise ValueError(
            f"{type(sampler).__name__} optimizes one objective; for several use sampler='auto' (the default), "
            "'mobo', 'nsga2', 'nsga3', 'tpe', 'random', 'sobol' or 'grid'"
        )
    if not scheduler.multi_objective:
        raise ValueError(
            f"scheduler={type(scheduler).__name__} judges one objective; for several use 'asha', "
            "'successive_halving' or 'hyperband' (they rank each rung by Pareto front), or scheduler=None"
        )


def _artifact_store(artifacts: Any, backend: BaseStorage, record: Any) -> Any:
    """The study's artifact store: the one given, the one recorded at creation, or the backend's default."""
    from hypersweep.artifacts import LocalArtifactStore, get_artifact_store

    if artifacts is not None:
        return get_artifact_store(artifacts)
    recorded = record.system_attrs.get(_ARTIFACTS_ATTR)
    if recorded:
        return get_artifact_store(recorded)
    database = _sqlite_file(backend)
    if database is not None:
        return LocalArtifactStore(database.with_name(f"{database.stem}-artifacts"))
    if not backend.persistent:
        return _temporary_store()
    return None  # a database server: checkpoints need a place every worker can reach, given by the user


def _sqlite_file(backend: BaseStorage) -> Path | None:
    url = getattr(backend, "url", None)
    if not isinstance(url, str) or not url.startswith("sqlite"):
        return None
    import sqlalchemy as sa

    database = sa.make_url(url).database
    return None if database in (None, "", ":memory:") else Path(database).expanduser().resolve()


def _temporary_store() -> Any:
    """A folder for the checkpoints of an in-memory study: one subfolder of a temporary folder that this
    process removes when it exits (created on the first checkpoint, so studies that save none cost nothing)."""
    from hypersweep.artifacts import LocalArtifactStore

    global _TEMPORARY_ROOT
    if _TEMPORARY_ROOT is None:
        import atexit
        import shutil
        import tempfile

        root = _TEMPORARY_ROOT = Path(tempfile.gettempdir()) / f"hypersweep-artifacts-{uuid.uuid4().hex[:12]}"
        owner = os.getpid()
        # only the process that made it removes it (a forked child inherits atexit handlers)
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(root, ignore_errors=True))
    return LocalArtifactStore(_TEMPORARY_ROOT / uuid.uuid4().hex[:12])


_TEMPORARY_ROOT: Path | None = None


def _refuse_live_writers(study: Study) -> None:
    """On a single-writer storage, refuse to resume a study that a live process on this host is running."""
    host = socket.gethostname()
    for trial in study.get_trials([TrialState.RUNNING]):
        owner_host, _, rest = (trial.worker or "").partition(":")
        pid = rest.partition(":")[0]
        if owner_host == host and pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            raise MultiWriterNotSupported(
                f"study {study.name!r} is being run by process {pid} (trial {trial.number} is running there); "
                f"{type(study.storage).__name__} on SQLite cannot be shared by several processes. Wait for it to "
                "finish, or use a PostgreSQL or MySQL URL for storage= to run several processes on one study."
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_study(
    name: str,
    storage: str | BaseStorage,
    sampler: str | BaseSampler | None = "auto",
    scheduler: str | BaseScheduler | None = None,
    seed: int | None = None,
    artifacts: Any = None,
) -> Study:
    """Open an existing study (its space and direction(s) come from storage), e.g. to read its results or load
    its best model: ``hs.load_study("s", "sqlite:///s.db").best_trial.load_checkpoint()``.

    >>> import hypersweep as hs
    >>> from hypersweep.storage import InMemoryStorage
    >>> store = InMemoryStorage()
    >>> _ = hs.create_study({"x": (0, 1)}, storage=store, name="s")
    >>> hs.load_study("s", store).name
    's'
    """
    backend = get_storage(storage)
    record = backend.get_study(name)
    space = Space.from_dict(record.space or {})
    sampler = get_sampler(sampler, seed=seed)
    return Study(backend, record.study_id, name, record.direction, space, sampler, get_scheduler(scheduler),
                 artifacts=_artifact_store(artifacts, backend, record), directions=list(record.directions))
