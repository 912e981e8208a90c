"""The scheduler contract: `Decision`, `BaseScheduler` and the default `NoScheduler`.

Also the small shared helpers every policy uses: argument checks, direction handling, value-at-step lookup.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from hypersweep._validation import check_int
from hypersweep.direction import Direction
from hypersweep.history import TrialHistory
from hypersweep.trial import Trial

__all__ = ["BaseScheduler", "Decision", "NoScheduler", "Trials"]


class Decision(str, Enum):
    """What a scheduler says about a trial that has just reported a value.

    CONTINUE: keep training. STOP: end it for good (recorded as PRUNED). PAUSE: end it for now (recorded
    as PAUSED, keeping its steps and checkpoint); the policy may later name it in
    `BaseScheduler.promotable` to be resumed at its last checkpoint.

    >>> Decision("stop") is Decision.STOP
    True
    """

    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"

    def __str__(self) -> str:
        return self.value


#: what schedulers are shown: the study's `TrialHistory` (fast), or any sequence of trials (one pass each call)
Trials = TrialHistory | Sequence[Trial]


class BaseScheduler(abc.ABC):
    """An early-stopping / multi-fidelity policy: pure, no I/O, no clocks, deterministic in its inputs.

    Trial mode (the Study): `on_trial_start` when a trial starts, `decide` after each `trial.report`; when
    a worker is free, `promotable` names paused trials to resume first, and `stoppable` those that will
    never resume. Driver mode (code that advances models itself): `next_steps`.

    `trials` is the study's `TrialHistory`, in which policies keep incremental indexes, so that a decision
    costs the same however many trials the study holds; a plain list of trials works too (slower: its
    indexes are rebuilt on each call).

    >>> from hypersweep.trial import Trial, TrialState
    >>> NoScheduler().decide(Trial(0, {}, TrialState.RUNNING, intermediate={1: 0.5}), [], "minimize")
    <Decision.CONTINUE: 'continue'>
    """

    #: whether the policy judges studies of several objectives (``direction`` then a list of directions, and
    #: trials compared by their ``intermediate_values``)
    multi_objective: bool = False

    def on_trial_start(self, number: int, trials: Trials) -> dict[str, Any]:
        """System attrs to record on a starting trial (e.g. ``{"bracket": 2}``); deterministic in `number`."""
        return {}

    @abc.abstractmethod
    def decide(self, trial: Trial, trials: Trials, direction: str) -> Decision:
        """Judge `trial`, which has just reported its value at step ``trial.last_step``.

        `trials` are all trials of the study (any state; `trial` itself may appear in an older copy, the
        argument wins); `direction` is "minimize" or "maximize".
        """

    def promotable(self, trials: Trials, direction: str, *, final: bool = False) -> list[int]:
        """Numbers of PAUSED trials to resume now, most deserving first ([] for policies that never pause).

        ``final`` is True once no new trial will start in this search (its budget is spent): a policy that
        waits for the rest of a rung then judges the rung with the trials it has.
        """
        return []

    def stoppable(self, trials: Trials, direction: str, *, final: bool = False) -> list[int]:
        """Numbers of PAUSED trials that will never be resumed: the Study ends them as PRUNED."""
        return []

    def next_steps(self, trials: Trials, direction: str) -> dict[int, int]:
        """Driver mode: ``{trial number: steps to run next}`` for the study's trials; 0 means stop that trial
        (end it as PRUNED), a trial left out waits for others; {} means the search is done.

        Only multi-fidelity policies with a plan (`SuccessiveHalving`, `Hyperband`) have a driver mode.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no driver mode; use SuccessiveHalving or Hyperband to be told which "
            "models to advance, or report to the study and follow each trial's decision"
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class NoScheduler(BaseScheduler):
    """The default policy: every trial runs to completion.

    >>> from hypersweep.trial import Trial, TrialState
    >>> NoScheduler().decide(Trial(0, {}, TrialState.RUNNING, intermediate={1: 9.0}), [], "maximize").value
    'continue'
    """

    multi_objective = True

    def decide(self, trial: Trial, trials: Trials, direction: str) -> Decision:
        _signs(direction)
        return Decision.CONTINUE


# --------------------------------------------------------------------------------------------------------
# Shared private helpers.


def _check_int(name: str, value: Any, minimum: int, hint: str = "") -> int:
    """`value` as an int >= minimum, or an error naming the parameter, the value and the fix."""
    return check_int(name, value, minimum=minimum, fix=hint)


def _check_reduction_factor(value: Any) -> int:
    return _check_int("reduction_factor", value, 2, "each rung keeps 1/reduction_factor: 3 keeps a third")


def _direction_sign(direction: Any) -> int:
    """+1 for "maximize", -1 for "minimize" (scores are value * sign: higher is always better)."""
    return Direction.of(direction).sign


#: +1 / -1 for one objective; one of them per objective for several
Sign = int | tuple[int, ...]


def _signs(direction: Any) -> Sign:
    """`_direction_sign` of one direction; a tuple of them for a list of several (a list of one gives an int)."""
    if isinstance(direction, (list, tuple)):
        signs = tuple(Direction.of(d, f"direction[{i}]").sign for i, d in enumerate(direction))
        return signs[0] if len(signs) == 1 else signs
    return _direction_sign(direction)


def _score(value: Any, sign: Sign) -> Any:
    """Value as a "higher is better" score; NaN becomes -inf (worst). With a tuple of signs, a tuple of
    values gives a tuple of scores."""
    if isinstance(sign, tuple):
        return tuple(-math.inf if math.isnan(v) else s * v for v, s in zip(value, sign, strict=True))
    return -math.inf if math.isnan(value) else sign * value


def _curve(trial: Trial, sign: Sign) -> Mapping[int, Any]:
    """step -> the reported value(s) a policy judges ``trial`` by: its ``intermediate`` values for one
    objective, its ``intermediate_values`` for several."""
    return trial.intermediate_values if isinstance(sign, tuple) else trial.intermediate


def _is_nan(value: Any) -> bool:
    """Whether a reported value, or any of several, is NaN (such a trial never goes on)."""
    return any(math.isnan(v) for v in value) if isinstance(value, tuple) else math.isnan(value)


def _value_at(history: Mapping[int, float], step: int) -> float:
    """The value at the largest reported step <= `step` (the earliest one if every step is later)."""
    if step in history:  # the common case: a report exactly at the rung
        return history[step]
    below = [s for s in history if s <= step]
    return history[max(below)] if below else history[min(history)]
