"""Trials as plain data: the `Trial` record, its `TrialState`, and the `TrialPruned` signal.

A `Trial` is what storage holds and what samplers, schedulers and plots read; it carries no behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from functools import cached_property
from typing import Any

__all__ = ["Trial", "TrialState", "TrialPruned"]


class TrialState(str, Enum):
    """Life cycle of a trial: WAITING -> RUNNING -> COMPLETE | PRUNED | FAILED.

    >>> TrialState.COMPLETE.is_finished
    True
    """

    WAITING = "waiting"
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)

    def __str__(self) -> str:  # "complete", not "TrialState.COMPLETE"
        return self.value


class TrialPruned(Exception):
    """Raise inside an objective to stop its trial early; the trial is recorded as PRUNED.

    >>> def objective(config, trial):
    ...     trial.report(0.5, step=1)
    ...     if trial.should_stop():
    ...         raise TrialPruned()
    """


@dataclass(frozen=True)
class Trial:
    """One evaluation of the objective, as storage records it.

    ``value`` is the final objective (None unless COMPLETE, or PRUNED with a last reported value);
    ``intermediate`` maps step -> reported value; ``metadata`` is what the objective returned beside its
    value; ``user_attrs`` are set by the user, ``system_attrs`` by hypersweep (retries, brackets, artifacts);
    ``worker`` names the process that ran it ("host:pid:tag").

    >>> t = Trial(number=0, config={"x": 1.0}, state=TrialState.COMPLETE, value=2.0)
    >>> t.is_finished, t.last_step
    (True, None)
    """

    number: int
    config: dict[str, Any]
    state: TrialState
    value: float | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    datetime_start: datetime | None = None
    datetime_complete: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    fail_reason: str | None = None
    trial_id: int = -1
    worker: str | None = None

    @property
    def is_finished(self) -> bool:
        return self.state.is_finished

    @property
    def duration(self) -> float | None:
        """Seconds between start and completion, or None while unfinished."""
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return (self.datetime_complete - self.datetime_start).total_seconds()

    @cached_property
    def last_step(self) -> int | None:
        """The largest step reported (None before any report); computed once, trials being immutable."""
        return max(self.intermediate) if self.intermediate else None

    @property
    def has_value(self) -> bool:
        return self.value is not None and math.isfinite(self.value)

    def evolve(self, **changes: Any) -> Trial:
        """A copy with some fields changed (trials are immutable)."""
        return replace(self, **changes)
