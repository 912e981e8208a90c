"""Running one trial of a user's objective: the `TrialHandle` it receives and how its result is read.

This is the code that executes inside workers; it never touches storage, only the report channel (and the
study's artifact store, where checkpoints are written directly).
"""

from __future__ import annotations

import inspect
import math
import numbers
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from hypersweep._json import to_json_value
from hypersweep.trial import Artifact, TrialPruned, TrialState

__all__ = ["Outcome", "TrialHandle", "interpret_result", "run_trial", "takes_trial"]

_CONTINUE, _PAUSE, _STOP = "continue", "pause", "stop"  # Decision values (schedulers are not imported here)


@dataclass(frozen=True)
class _ArtifactSink:
    """Where a trial's files go: the study's artifact store and this trial's key prefix in it."""

    store: Any  # an ArtifactStore; it pickles as its URL, so worker processes write to the same place
    prefix: str

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


class TrialHandle:
    """What an objective receives as its second argument: the config, `report` / `should_stop`, and the
    trial's checkpoints.

    A trial that is resumed (after a PAUSE, a promotion, or a crash of its process) has ``checkpoint`` set
    to its latest checkpoint, ``last_step`` to that checkpoint's step and ``last_value`` to the value it
    reported there: load it and continue after it (a trial checkpointed at its last step has nothing left
    to run, and returns ``last_value``).

    >>> def objective(config, trial):
    ...     model, start, loss = {"w": 0.0}, 0, None
    ...     if trial.checkpoint is not None:
    ...         model, start, loss = trial.load_checkpoint(), trial.last_step, trial.last_value
    ...     for epoch in range(start + 1, 10):
    ...         model["w"] += 1.0
    ...         loss = 1.0 / epoch
    ...         trial.report(loss, step=epoch)
    ...         trial.save_checkpoint(model, step=epoch)
    ...         if trial.should_stop():
    ...             break
    ...     return loss
    """

    def __init__(
        self,
        number: int,
        trial_id: int,
        config: dict[str, Any],
        channel: Any = None,
        *,
        last_step: int = 0,
        last_value: float | None = None,
        checkpoint: Artifact | None = None,
        artifacts: _ArtifactSink | None = None,
    ) -> None:
        self.number = number
        self.trial_id = trial_id
        self.config = config
        self.checkpoint = checkpoint
        self.last_step = last_step
        self.last_value = last_value
        self._channel = channel
        self._artifacts = artifacts
        self._decision = _CONTINUE
        self._saved: dict[str, Artifact] = {}  # what this run saved, by name
        self._constraints: list[float] | None = None  # set_constraints

    def bind(self, channel: Any) -> None:
        """Route reports through ``channel`` (None: reports are not forwarded anywhere)."""
        self._channel = channel

    def __getitem__(self, name: str) -> Any:
        return self.config[name]

    @property
    def resumed(self) -> bool:
        """True when this run continues a trial that ran before (it has a checkpoint to start from)."""
        return self.checkpoint is not None

    # --- reports ---------------------------------------------------------------------------------------
    def report(self, value: float | Sequence[float], step: int | None = None) -> None:
        """Record an intermediate ``value`` at ``step`` (default: the previous step + 1); in a study of several
        objectives, one value per objective (``trial.report((accuracy, latency), step)``), so that schedulers
        prune by all of them.

        NaN and infinities are recorded as NaN, the worst value: a diverging run is pruned.
        """
        if step is None:
            step = self.last_step + 1
        step = _check_step("trial.report", step)
        reported = _reported(value)
        self.last_step = step
        self.last_value = reported[0] if isinstance(reported, tuple) else reported
        if self._channel is not None:
            decision = self._channel.call("report", self.trial_id, step, reported)
            if self._decision == _CONTINUE:
                self._decision = str(decision)

    def should_stop(self) -> bool:
        """True when the scheduler decided this trial should stop, or pause, after a report.

        A paused trial may be resumed later from its checkpoint; `decision` tells which it was.
        """
        return self._decision != _CONTINUE

    @property
    def decision(self) -> str:
        """The scheduler's verdict so far: "continue", "pause" or "stop" (a `Decision` value)."""
        return self._decision

    @property
    def stopped(self) -> bool:
        return self.should_stop()

    # --- checkpoints, artifacts and attributes ------------------------------------------------------------
    def save_checkpoint(self, obj: Any, step: int | None = None) -> Artifact:
        """Save ``obj`` as this trial's checkpoint at ``step`` (default: the last reported step).

        ``obj`` is any picklable object (torch modules and tensors go through ``torch.save``, scikit-learn
        estimators and numpy arrays through joblib), or the path of a file or folder to copy. The write is
        atomic: a kill mid-write never leaves a checkpoint that loads as garbage.
        """
        step = _check_step("trial.save_checkpoint", self.last_step if step is None else step)
        return self._save(f"checkpoint-{step}", obj, "checkpoint", step)

    def load_checkpoint(self) -> Any:
        """The object (or local path) of this trial's latest checkpoint (``trial.checkpoint``)."""
        if self.checkpoint is None:
            raise LookupError(
                f"trial {self.number} has no checkpoint yet; check `trial.checkpoint is not None` before loading"
            )
        return self._load(self.checkpoint)

    def save_artifact(self, name: str, obj: Any) -> Artifact:
        """Save ``obj`` (an object, or the path of a file or folder) under ``name`` beside the trial's
        checkpoints; retention policies never delete these."""
        if not isinstance(name, str) or not name or "/" in name or name.startswith("checkpoint-"):
            raise ValueError(
                f"trial.save_artifact: name must be a non-empty string without '/' that does not start with "
                f"'checkpoint-', got name={name!r}"
            )
        return self._save(name, obj, "artifact", self.last_step or None)

    def load_artifact(self, name: str) -> Any:
        """An artifact this run saved under ``name`` (for any trial's, use ``study.trials[n].load_artifact``)."""
        saved = self._saved.get(name)
        if saved is None:
            raise LookupError(f"trial {self.number} saved no artifact named {name!r} in this run")
        return self._load(saved)

    def set_constraints(self, constraints: Any) -> None:
        """Record this trial's constraint values (feasible when each is <= 0), as returning
        ``{"objective": ..., "constraints": [...]}`` does; e.g. ``trial.set_constraints([latency - 0.010])``."""
        values, problem = _constraints(constraints)
        if problem:
            raise ValueError(f"set_constraints: {problem}")
        self._constraints = values

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a JSON value on the trial (``trial.user_attrs[key]`` in the study), e.g. a model size."""
        if not isinstance(key, str) or not key:
            raise ValueError(f"trial.set_user_attr: key must be a non-empty string, got key={key!r}")
        if self._channel is not None:
            self._channel.call("user_attr", self.trial_id, key, to_json_value(value))

    def _save(self, name: str, obj: Any, kind: str, step: int | None) -> Artifact:
        if self._artifacts is None:
            raise RuntimeError(
                f"trial {self.number} cannot save {name!r}: its study has no artifact store. Pass "
                "artifacts='path/or/url' to create_study (a folder shared by every worker, or an fsspec URL such "
                "as 's3://bucket/prefix') to keep checkpoints"
            )
        from hypersweep.artifacts import save_object

        key = self._artifacts.key(name)
        size, checksum, fmt = save_object(self._artifacts.store, key, obj)
        artifact = Artifact(name, key, kind, step, size, checksum, fmt, datetime.now())
        if self._channel is not None:
            self._channel.call("artifact", self.trial_id, asdict(artifact))
        self._saved[name] = artifact
        if kind == "checkpoint":
            self.checkpoint = artifact
        return artifact

    def _load(self, artifact: Artifact) -> Any:
        if self._artifacts is None:
            raise RuntimeError(f"trial {self.number} has no artifact store to load {artifact.name!r} from")
        from hypersweep.artifacts import load_object

        return load_object(self._artifacts.store, artifact.key, artifact.format, artifact.checksum)

    def __repr__(self) -> str:
        resumed = f", resumed at step {self.last_step}" if self.checkpoint is not None else ""
        return f"TrialHandle(number={self.number}, config={self.config!r}{resumed})"


def _check_step(where: str, step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise ValueError(f"{where}: step must be an int >= 0, got step={step!r}")
    return int(step)


@dataclass
class Outcome:
    """What became of one call of the objective."""

    state: TrialState
    value: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    values: tuple[float, ...] | None = None  # one per objective, when the objective returned several
    fail_reason: str | None = None
    worker_start: datetime | None = None
    worker_end: datetime | None = None


def _jsonable(metadata: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in metadata.items():
        value = to_json_value(value)
        out[str(key)] = value if isinstance(value, (int, float, str, bool, list, dict, type(None))) else str(value)
    return out


def interpret_result(result: Any) -> Outcome:
    """Read an objective's return value.

    A number -> COMPLETE; ``{"objective": x, "metadata": {...}}`` -> COMPLETE with metadata; a tuple or list
    of numbers (or ``{"objective": (...)}``) -> COMPLETE with one value per objective; NaN/inf, None, a
    non-number, or a string starting with "F" -> FAILED with the reason recorded.

    >>> interpret_result(0.5).state, interpret_result("F_diverged").fail_reason
    (<TrialState.COMPLETE: 'complete'>, 'F_diverged')
    >>> interpret_result((0.9, 12.0)).values
    (0.9, 12.0)
    """
    metadata: dict[str, Any] = {}
    if isinstance(result, Mapping):
        if "objective" not in result:
            return Outcome(
                TrialState.FAILED,
                fail_reason=f"objective returned a dict without an 'objective' key: keys {sorted(result)}",
            )
        extra = {k: v for k, v in result.items() if k not in ("objective", "metadata")}
        metadata = _jsonable({**extra, **dict(result.get("metadata") or {})})
        if "constraints" in result:
            constraints, problem = _constraints(result["constraints"])
            if problem:
                return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=problem)
            metadata["constraints"] = constraints
        result = result["objective"]
    if isinstance(result, (tuple, list)) or (type(result).__module__ == "numpy" and getattr(result, "ndim", 0) == 1
                                             and getattr(result, "size", 0) > 1):
        return _several(list(result), metadata)
    if isinstance(result, str):
        if result.startswith("F"):
            return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=result)
        return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=f"objective returned a string {result!r}")
    if type(result).__module__ == "numpy" and getattr(result, "size", None) == 1 and hasattr(result, "item"):
        result = result.item()  # numpy scalars and one-element arrays
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        return Outcome(
            TrialState.FAILED,
            metadata=metadata,
            fail_reason=f"objective returned {type(result).__name__} {result!r:.80}; return a number",
        )
    value = float(result)
    if not math.isfinite(value):
        return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=f"objective returned {value}")
    return Outcome(TrialState.COMPLETE, value=value, metadata=metadata)


def _constraints(given: Any) -> tuple[list[float], str | None]:
    """Constraint values as a list of floats, or the reason they cannot be (each must be a finite number)."""
    items = given.tolist() if hasattr(given, "tolist") else given
    if not isinstance(items, (list, tuple)):
        items = [items]
    try:
        values = [float(c) for c in items]
    except (TypeError, ValueError):
        values = []
    if not values or not all(math.isfinite(c) for c in values):
        return [], f"constraints must be finite numbers (feasible when each is <= 0), got {given!r:.80}"
    return values, None


def _several(results: list[Any], metadata: dict[str, Any]) -> Outcome:
    """The outcome of an objective that returned one value per objective."""
    values = []
    for i, item in enumerate(results):
        one = interpret_result(item)
        if one.state is not TrialState.COMPLETE or one.values is not None:
            reason = one.fail_reason or "a nested tuple"
            return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=f"objective {i}: {reason}")
        values.append(one.value)
    if not values:
        return Outcome(TrialState.FAILED, metadata=metadata, fail_reason="objective returned an empty tuple")
    return Outcome(TrialState.COMPLETE, value=values[0], metadata=metadata, values=tuple(values))


def takes_trial(objective: Callable[..., Any]) -> bool:
    """Whether ``objective`` accepts a second positional argument (the `TrialHandle`).

    >>> takes_trial(lambda config: 0), takes_trial(lambda config, trial: 0)
    (False, True)
    """
    try:
        params = list(inspect.signature(objective).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return True
    if not positional:
        raise TypeError("the objective must take the config as its first argument: def run(config): ...")
    return len(positional) >= 2


_OBJECTIVE_CACHE: dict[bytes, Callable[..., Any]] = {}


def _load_objective(objective: Any) -> Callable[..., Any]:
    if not isinstance(objective, bytes):
        return objective
    if objective not in _OBJECTIVE_CACHE:
        import cloudpickle

        _OBJECTIVE_CACHE.clear()  # one objective per worker at a time
        _OBJECTIVE_CACHE[objective] = cloudpickle.loads(objective)
    return _OBJECTIVE_CACHE[objective]


def run_trial(objective: Any, handle: TrialHandle, pass_trial: bool) -> Outcome:
    """Call the objective on ``handle.config`` and turn whatever happens into an `Outcome`.

    ``objective`` is the callable, or its cloudpickle bytes when it crosses a process boundary. A trial
    told to pause that returns (or raises `TrialPruned`) is PAUSED; told to stop, PRUNED (even when what it
    returns then is not a number, such as the inf of a diverged run).
    """
    start = datetime.now()
    try:
        fn = _load_objective(objective)
        result = fn(handle.config, handle) if pass_trial else fn(handle.config)
    except TrialPruned:
        outcome = Outcome(TrialState.PRUNED)
    except Exception as exc:  # a failing objective fails its trial, not the search
        tb = traceback.format_exc(limit=-3)
        outcome = Outcome(TrialState.FAILED, fail_reason=f"{type(exc).__name__}: {exc}\n{tb}")
    else:
        outcome = interpret_result(result)
        if outcome.state is TrialState.FAILED and handle.decision != _CONTINUE:
            outcome = Outcome(TrialState.PRUNED, metadata=outcome.metadata)  # stopped, then returned e.g. inf
    if handle._constraints is not None and "constraints" not in outcome.metadata:
        outcome.metadata = {**outcome.metadata, "constraints": handle._constraints}
    if outcome.state in (TrialState.COMPLETE, TrialState.PRUNED) and handle.decision != _CONTINUE:
        outcome.state = TrialState.PAUSED if handle.decision == _PAUSE else TrialState.PRUNED
    outcome.worker_start, outcome.worker_end = start, datetime.now()
    return outcome


def _reported(value: Any) -> float | tuple[float, ...]:
    """A reported value as a float, or a tuple of floats (one per objective); non-finite ones as NaN."""
    if isinstance(value, (list, tuple)) or getattr(value, "ndim", 0) == 1:  # a list, tuple, 1-d array
        try:
            out = tuple(float(v) for v in value)
        except (TypeError, ValueError):
            raise TypeError(f"trial.report: values must be numbers, got {value!r}") from None
        if not out:
            raise ValueError("trial.report: got an empty sequence; report one value per objective")
        return tuple(v if math.isfinite(v) else math.nan for v in out)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"trial.report: value must be a number (or one number per objective), got {value!r}"
        ) from None
    return number if math.isfinite(number) else math.nan
