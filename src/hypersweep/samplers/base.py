"""The sampler contract: `ask(space, trials, pending, direction) -> config`, and `SearchExhausted`.

A sampler holds no storage and no threads: it is a function of what it is shown plus its own RNG.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hypersweep.direction import Direction
from hypersweep.space import Space
from hypersweep.trial import Trial, TrialState

__all__ = ["BaseSampler", "SearchExhausted", "as_losses", "completed_xy", "fidelity_xy", "select_fidelity"]


class SearchExhausted(Exception):
    """The sampler has nothing left to propose (e.g. every grid point was tried)."""


class BaseSampler(abc.ABC):
    """Proposes the next config to evaluate. A new sampler is one subclass implementing `ask`.

    >>> class Center(BaseSampler):
    ...     def ask(self, space, trials, pending, direction):
    ...         return space.decode(np.full(len(space.dims), 0.5))
    """

    #: whether proposals depend on the results so far (TPE, BO); a driver that may start models early or
    #: late starts them as late as it can only for such samplers
    adaptive: bool = True
    #: whether it can search a study of several objectives (then `ask` gets the list of directions)
    multi_objective: bool = False

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abc.abstractmethod
    def ask(
        self,
        space: Space,
        trials: Sequence[Trial],
        pending: Sequence[dict[str, Any]],
        direction: str,
    ) -> dict[str, Any]:
        """The next config.

        ``trials`` are the study's finished trials (oldest first; read ``.state``, ``.config``, ``.value``,
        ``.intermediate``); ``pending`` the configs of trials running now, so parallel workers are not
        handed the same point; ``direction`` is "minimize" or "maximize". Raise `SearchExhausted` when
        there is nothing left to propose.
        """

    def plan(self, space: Space) -> list[dict[str, Any]] | None:
        """Configs to enqueue once, before any `ask` (the grid sampler's points); None for most samplers."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed!r})"


def as_losses(values: Sequence[float], direction: str) -> np.ndarray:
    """Objective values as losses, lower is better whatever ``direction``.

    >>> as_losses([1.0, 2.0], "maximize").tolist()
    [-1.0, -2.0]
    """
    return -Direction.of(direction).sign * np.array(values, dtype=float)


def completed_xy(
    space: Space, trials: Sequence[Trial], direction: str, include_pruned: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Unit-cube points and losses (lower is better, whatever ``direction``) of trials that have a value.

    >>> space = Space({"x": (0.0, 1.0)})
    >>> X, y = completed_xy(space, [Trial(0, {"x": 0.25}, TrialState.COMPLETE, value=3.0)], "maximize")
    >>> X.tolist(), y.tolist()
    ([[0.25]], [-3.0])
    """
    usable = [t for t in trials if (t.state == TrialState.COMPLETE or include_pruned and t.state.stopped_early)
              and t.has_value]
    X = space.encode_many([t.config for t in usable])
    return X, as_losses([t.value for t in usable], direction)


def select_fidelity(
    trials: Sequence[Trial], min_points: int
) -> tuple[list[tuple[Trial, float]], int | None, list[Trial]]:
    """Which observations a multi-fidelity model fits (BOHB's rule: the largest budget with enough results).

    When at least ``min_points`` trials COMPLETE (or none reported intermediate values) those are used with
    their final values (budget None). Otherwise the budget is the largest step that ``min_points`` trials
    reached (reported at a step >= it; completed trials that never reported count as reaching every step),
    and each such trial is observed through the value it reported at the largest step <= the budget.
    Returns the (trial, value) pairs, the budget, and the PRUNED (or PAUSED) trials left out of the pairs.

    >>> ts = [Trial(i, {"x": i / 4}, TrialState.PRUNED, intermediate={1: float(i), 3: i / 2}) for i in range(3)]
    >>> pairs, budget, left_out = select_fidelity(ts, min_points=3)
    >>> budget, [value for _, value in pairs], left_out
    (3, [0.0, 0.5, 1.0], [])
    """
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.has_value]
    reporting = [t for t in trials if t.intermediate and (t.state == TrialState.COMPLETE or t.state.stopped_early)]
    if not reporting or len(complete) >= min_points:
        return [(t, t.value) for t in complete], None, [t for t in trials if t.state.stopped_early]  # type: ignore[misc]
    silent = [t for t in complete if not t.intermediate]
    last = [max(t.intermediate) for t in reporting]
    need = min_points - len(silent)
    if need <= 0:
        budget = max(last)
    elif need <= len(last):
        budget = sorted(last, reverse=True)[need - 1]  # reached-by counts only fall as the step grows
    else:
        budget = min(min(t.intermediate) for t in reporting)
    pairs: list[tuple[Trial, float]] = []
    left_out = [t for t in trials if t.state.stopped_early and not t.intermediate]
    for t, top in zip(reporting, last, strict=True):
        value = None
        if top >= budget:
            below = [step for step in t.intermediate if step <= budget]
            value = t.intermediate[max(below) if below else min(t.intermediate)]
        if value is not None and math.isfinite(value):
            pairs.append((t, value))
        elif t.state.stopped_early:
            left_out.append(t)
    pairs += [(t, t.value) for t in silent]  # type: ignore[misc]
    return pairs, budget, left_out


def fidelity_xy(
    space: Space, trials: Sequence[Trial], direction: str, min_points: int
) -> tuple[np.ndarray, np.ndarray, int | None]:
    """`select_fidelity` as unit-cube points and losses (lower is better), plus the budget.

    >>> space = Space({"x": (0.0, 1.0)})
    >>> ts = [Trial(i, {"x": i / 4}, TrialState.PRUNED, intermediate={1: float(i), 3: i / 2}) for i in range(3)]
    >>> X, y, budget = fidelity_xy(space, ts, "minimize", min_points=3)
    >>> budget, y.tolist()
    (3, [0.0, 0.5, 1.0])
    """
    pairs, budget, _ = select_fidelity(trials, min_points)
    X = space.encode_many([t.config for t, _ in pairs])
    return X, as_losses([value for _, value in pairs], direction), budget
