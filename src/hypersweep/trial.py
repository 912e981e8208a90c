"""Trials as plain data: the `Trial` record, its `TrialState`, the `Artifact` records of what it saved, and
the `TrialPruned` signal.

A `Trial` is what storage holds and what samplers, schedulers and plots read; it carries no behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from functools import cached_property
from typing import Any

__all__ = ["Artifact", "Trial", "TrialState", "TrialPruned"]


class TrialState(str, Enum):
    """Life cycle of a trial: WAITING -> RUNNING -> (PAUSED <-> RUNNING)* -> COMPLETE | PRUNED | FAILED.

    WAITING trials are queued (new, or re-queued after their process died, keeping their steps and
    checkpoint); PAUSED ones were stopped for now by the scheduler and may be resumed at their last step.

    >>> TrialState.COMPLETE.is_finished, TrialState.PAUSED.is_finished
    (True, False)
    """

    WAITING = "waiting"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        """COMPLETE, PRUNED or FAILED: the trial takes no more reports."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)

    @property
    def stopped_early(self) -> bool:
        """PRUNED or PAUSED: the trial has intermediate values but did not run to its end (yet)."""
        return self in (TrialState.PRUNED, TrialState.PAUSED)

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
class Artifact:
    """What storage records of one file a trial saved (never the bytes: those are in the artifact store).

    ``name`` is unique within the trial ("checkpoint-7" for the checkpoint of step 7); ``key`` locates the
    bytes in the study's artifact store; ``kind`` is "checkpoint" or "artifact"; ``format`` says how to
    read them back ("pickle", "joblib", "torch", "file", "directory"); ``checksum`` is "sha256:<hex>".

    >>> a = Artifact("checkpoint-3", "0-s/5/checkpoint-3", "checkpoint", 3, 120, "sha256:ab", "pickle")
    >>> a.is_checkpoint, a.step
    (True, 3)
    """

    name: str
    key: str
    kind: str
    step: int | None
    size: int
    checksum: str
    format: str
    created: datetime | None = None

    @property
    def is_checkpoint(self) -> bool:
        return self.kind == "checkpoint"


@dataclass(frozen=True)
class Trial:
    """One evaluation of the objective, as storage records it.

    ``value`` is the final objective (None unless COMPLETE, or PRUNED/PAUSED with a last reported value);
    ``values`` holds one value per objective (``(value,)`` in a study of one objective; in a study of several,
    ``value`` is the first of them);
    ``intermediate`` maps step -> reported value (NaN for a non-finite report, the worst value for
    schedulers; in a study of several objectives, the first one's), and ``intermediate_values`` step -> the
    values of every objective when the trial reported several (``trial.report((acc, latency), step)``);
    ``metadata`` is what the objective returned beside its value; ``user_attrs`` are set by the
    user, ``system_attrs`` by hypersweep (brackets, re-queues); ``artifacts`` maps name -> `Artifact` for
    the checkpoints and files it saved; ``worker`` names the process that runs or ran it ("host:pid:tag").

    >>> t = Trial(number=0, config={"x": 1.0}, state=TrialState.COMPLETE, value=2.0)
    >>> t.is_finished, t.last_step, t.checkpoint, t.values
    (True, None, None, (2.0,))
    >>> Trial(number=1, config={}, state=TrialState.COMPLETE, values=(0.9, 12.0)).value
    0.9
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
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    values: tuple[float, ...] | None = None
    intermediate_values: dict[int, tuple[float, ...]] = field(default_factory=dict)
    #: set by the `Study` that read this trial, so that `load_checkpoint` finds its artifact store
    _loader: Callable[[Artifact], Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        values = self.values
        if values is not None:
            values = tuple(float(v) for v in values)
            if not values:
                values = None
            elif self.value is not None and len(values) == 1 and values[0] != self.value:
                values = (float(self.value),)  # evolve(value=...) on a trial of one objective
        if values is None and self.value is not None:
            values = (float(self.value),)
        object.__setattr__(self, "values", values)
        if self.value is None and values is not None:
            object.__setattr__(self, "value", values[0])

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

    @cached_property
    def constraints(self) -> tuple[float, ...] | None:
        """The constraint values the objective returned (``{"objective": ..., "constraints": [c1, ...]}`` or
        ``trial.set_constraints``); the trial is feasible when every one is <= 0. None when it gave none."""
        given = self.metadata.get("constraints")
        return None if given is None else tuple(float(c) for c in given)

    @property
    def violation(self) -> float:
        """How far the trial is from feasible: the sum of its positive constraint values (0 when feasible)."""
        return 0.0 if self.constraints is None else float(sum(max(c, 0.0) for c in self.constraints))

    @property
    def feasible(self) -> bool:
        """Whether every constraint holds (c <= 0); True for a trial without constraints."""
        return self.violation == 0.0

    @property
    def has_value(self) -> bool:
        return self.value is not None and math.isfinite(self.value)

    @cached_property
    def checkpoint(self) -> Artifact | None:
        """The latest checkpoint (largest step) this trial saved, or None."""
        saved = [a for a in self.artifacts.values() if a.is_checkpoint]
        return max(saved, key=lambda a: (a.step if a.step is not None else -1, a.name)) if saved else None

    def load_checkpoint(self) -> Any:
        """The object (or a local path, for a saved file or folder) of this trial's latest checkpoint.

        Works on trials read through a `Study` (``study.best_trial.load_checkpoint()``), in any process that
        can reach the study's artifact store.
        """
        if self.checkpoint is None:
            raise LookupError(
                f"trial {self.number} saved no checkpoint; call trial.save_checkpoint(obj, step=...) in the "
                "objective to keep what it trained"
            )
        return self.load_artifact(self.checkpoint.name)

    def load_artifact(self, name: str) -> Any:
        """The object (or a local path) saved under ``name`` by ``trial.save_artifact`` or a checkpoint."""
        if name not in self.artifacts:
            raise LookupError(f"trial {self.number} has no artifact named {name!r}; it has {sorted(self.artifacts)}")
        if self._loader is None:
            raise LookupError(
                f"trial {self.number} was not read through a Study, so its artifact store is unknown; "
                "use study.trials / study.best_trial (or hs.load_study(name, storage)) to load it"
            )
        return self._loader(self.artifacts[name])

    def evolve(self, **changes: Any) -> Trial:
        """A copy with some fields changed (trials are immutable)."""
        return replace(self, **changes)
