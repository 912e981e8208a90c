"""The scheduler contract: `Decision`, `BaseScheduler` and the default `NoScheduler`.

Also the small shared helpers every policy uses: argument checks, direction handling, value-at-step lookup.
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from hypersweep.trial import Trial

__all__ = ["Decision", "BaseScheduler", "NoScheduler"]


class Decision(str, Enum):
    """What a scheduler says about a trial that has just reported a value.

    CONTINUE: keep training. STOP: end it for good (recorded as PRUNED). PAUSE: end it for now, but the
    policy may later name it in `BaseScheduler.promotable` to be resumed from its last step.

    >>> Decision("stop") is Decision.STOP
    True
    """

    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"

    def __str__(self) -> str:
        return self.value


class BaseScheduler(abc.ABC):
    """An early-stopping / multi-fidelity policy: pure, no I/O, no clocks, deterministic in its inputs.

    Trial mode (the Study): `on_trial_start` when a trial starts, `decide` after each `trial.report`,
    and `promotable` when a worker is free (only policies that PAUSE name anything there).

    >>> from hypersweep.trial import Trial, TrialState
    >>> NoScheduler().decide(Trial(0, {}, TrialState.RUNNING, intermediate={1: 0.5}), [], "minimize")
    <Decision.CONTINUE: 'continue'>
    """

    def on_trial_start(self, number: int, trials: Sequence[Trial]) -> dict[str, Any]:
        """System attrs to record on a starting trial (e.g. ``{"bracket": 2}``); deterministic in `number`."""
        return {}

    @abc.abstractmethod
    def decide(self, trial: Trial, trials: Sequence[Trial], direction: str) -> Decision:
        """Judge `trial`, which has just reported its value at step ``trial.last_step``.

        `trials` are all trials of the study (any state; `trial` itself may appear in an older copy, the
        argument wins); `direction` is "minimize" or "maximize".
        """

    def promotable(self, trials: Sequence[Trial], direction: str) -> list[int]:
        """Numbers of paused trials (stored as PRUNED) that may now resume, most deserving first.

        Policies that never PAUSE return [] (the default).
        """
        return []

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class NoScheduler(BaseScheduler):
    """The default policy: every trial runs to completion.

    >>> from hypersweep.trial import Trial, TrialState
    >>> NoScheduler().decide(Trial(0, {}, TrialState.RUNNING, intermediate={1: 9.0}), [], "maximize").value
    'continue'
    """

    def decide(self, trial: Trial, trials: Sequence[Trial], direction: str) -> Decision:
        _direction_sign(direction)
        return Decision.CONTINUE


# --------------------------------------------------------------------------------------------------------
# Shared private helpers.


def _check_int(name: str, value: Any, minimum: int, hint: str = "") -> int:
    """`value` as an int >= minimum, or an error naming the parameter, the value and the fix."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}" + (f"; {hint}" if hint else ""))
    return int(value)


def _check_reduction_factor(value: Any) -> int:
    return _check_int("reduction_factor", value, 2, "each rung keeps 1/reduction_factor: 3 keeps a third")


def _direction_sign(direction: Any) -> int:
    """+1 for "maximize", -1 for "minimize" (scores are value * sign: higher is always better)."""
    name = getattr(direction, "value", direction)
    if name == "maximize":
        return 1
    if name == "minimize":
        return -1
    raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")


def _score(value: float, sign: int) -> float:
    """Value as a "higher is better" score; NaN becomes -inf (worst)."""
    return -math.inf if math.isnan(value) else sign * value


def _value_at(history: Mapping[int, float], step: int) -> float:
    """The value at the largest reported step <= `step` (the earliest one if every step is later)."""
    if step in history:  # the common case: a report exactly at the rung
        return history[step]
    below = [s for s in history if s <= step]
    return history[max(below)] if below else history[min(history)]


def _top_k_threshold(scores: Sequence[float], reduction_factor: int) -> float:
    """The score a competitor must reach to be in the top 1/eta of `scores` (at least the best one)."""
    k = max(1, len(scores) // reduction_factor)
    return sorted(scores, reverse=True)[k - 1]
