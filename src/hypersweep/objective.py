"""Running one trial of a user's objective: the `TrialHandle` it receives and how its result is read.

This is the code that executes inside workers; it never touches storage, only the report channel.
"""

from __future__ import annotations

import inspect
import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from hypersweep.space.params import _to_json_value
from hypersweep.trial import TrialPruned, TrialState

__all__ = ["TrialHandle", "Outcome", "interpret_result", "takes_trial", "run_trial"]


class TrialHandle:
    """What an objective receives as its second argument: the config plus `report` / `should_stop`.

    >>> def objective(config, trial):
    ...     for epoch in range(1, 10):
    ...         loss = 1.0 / epoch
    ...         trial.report(loss, step=epoch)
    ...         if trial.should_stop():
    ...             break
    ...     return loss
    """

    def __init__(self, number: int, trial_id: int, config: dict[str, Any], channel: Any = None) -> None:
        self.number = number
        self.trial_id = trial_id
        self.config = config
        self._channel = channel
        self._stop = False
        self._last_step = 0

    def bind(self, channel: Any) -> None:
        """Route reports through ``channel`` (None: reports are not forwarded anywhere)."""
        self._channel = channel

    def __getitem__(self, name: str) -> Any:
        return self.config[name]

    def report(self, value: float, step: int | None = None) -> None:
        """Record an intermediate ``value`` at ``step`` (default: the previous step + 1)."""
        if step is None:
            step = self._last_step + 1
        if not isinstance(step, (int, np.integer)) or isinstance(step, bool) or step < 0:
            raise ValueError(f"trial.report: step must be an int >= 0, got step={step!r}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"trial.report: value must be a number, got {value!r}") from None
        self._last_step = int(step)
        if self._channel is not None and math.isfinite(value):
            self._stop = self._channel.report(self.trial_id, int(step), value) or self._stop

    def should_stop(self) -> bool:
        """True when the scheduler decided this trial should stop (after its latest report)."""
        return self._stop

    @property
    def stopped(self) -> bool:
        return self._stop

    def __repr__(self) -> str:
        return f"TrialHandle(number={self.number}, config={self.config!r})"


@dataclass
class Outcome:
    """What became of one call of the objective."""

    state: TrialState
    value: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    fail_reason: str | None = None
    worker_start: datetime | None = None
    worker_end: datetime | None = None


def _jsonable(metadata: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in metadata.items():
        value = _to_json_value(value)
        out[str(key)] = value if isinstance(value, (int, float, str, bool, list, dict, type(None))) else str(value)
    return out


def interpret_result(result: Any) -> Outcome:
    """Read an objective's return value.

    A number -> COMPLETE; ``{"objective": x, "metadata": {...}}`` -> COMPLETE with metadata; NaN/inf, None,
    a non-number, or a string starting with "F" -> FAILED with the reason recorded.

    >>> interpret_result(0.5).state, interpret_result("F_diverged").fail_reason
    (<TrialState.COMPLETE: 'complete'>, 'F_diverged')
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
        result = result["objective"]
    if isinstance(result, str):
        if result.startswith("F"):
            return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=result)
        return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=f"objective returned a string {result!r}")
    if isinstance(result, (bool, np.bool_)) or not isinstance(result, (int, float, np.integer, np.floating)):
        if isinstance(result, np.ndarray) and result.size == 1:
            return interpret_result({"objective": result.item(), "metadata": metadata})
        return Outcome(
            TrialState.FAILED,
            metadata=metadata,
            fail_reason=f"objective returned {type(result).__name__} {result!r:.80}; return a number",
        )
    value = float(result)
    if not math.isfinite(value):
        return Outcome(TrialState.FAILED, metadata=metadata, fail_reason=f"objective returned {value}")
    return Outcome(TrialState.COMPLETE, value=value, metadata=metadata)


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

    ``objective`` is the callable, or its cloudpickle bytes when it crosses a process boundary.
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
        if handle.stopped and outcome.state == TrialState.COMPLETE:
            outcome.state = TrialState.PRUNED
    outcome.worker_start, outcome.worker_end = start, datetime.now()
    return outcome
