"""The sampler contract: `ask(space, trials, pending, direction) -> config`, and `SearchExhausted`.

A sampler holds no storage and no threads: it is a function of what it is shown plus its own RNG.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np

from hypersweep.space import Space
from hypersweep.trial import Trial, TrialState

__all__ = ["BaseSampler", "SearchExhausted", "completed_xy", "fidelity_xy"]


class SearchExhausted(Exception):
    """The sampler has nothing left to propose (e.g. every grid point was tried)."""


class BaseSampler(abc.ABC):
    """Proposes the next config to evaluate. A new sampler is one subclass implementing `ask`.

    >>> class Center(BaseSampler):
    ...     def ask(self, space, trials, pending, direction):
    ...         return space.decode(np.full(len(space.dims), 0.5))
    """

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


def completed_xy(
    space: Space, trials: Sequence[Trial], direction: str, include_pruned: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Unit-cube points and losses (lower is better, whatever ``direction``) of trials that have a value.

    >>> space = Space({"x": (0.0, 1.0)})
    >>> X, y = completed_xy(space, [Trial(0, {"x": 0.25}, TrialState.COMPLETE, value=3.0)], "maximize")
    >>> X.tolist(), y.tolist()
    ([[0.25]], [-3.0])
    """
    states = (TrialState.COMPLETE, TrialState.PRUNED) if include_pruned else (TrialState.COMPLETE,)
    usable = [t for t in trials if t.state in states and t.has_value]
    X = space.encode_many([t.config for t in usable])
    y = np.array([t.value for t in usable], dtype=float)
    return X, (-y if direction == "maximize" else y)


def fidelity_xy(
    space: Space, trials: Sequence[Trial], direction: str, min_points: int
) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Observations at the largest budget that has enough of them (BOHB's rule), for multi-fidelity searches.

    A trial "reached" budget ``b`` when it reported at a step >= b; its value there is the one reported at the
    largest step <= b. The chosen budget is the largest step at which at least ``min_points`` trials arrived;
    completed trials that never reported count at every budget with their final value. Returns unit-cube
    points, losses (lower is better) and the budget (None when no trial reported intermediate values, in which
    case this is `completed_xy`).

    >>> space = Space({"x": (0.0, 1.0)})
    >>> ts = [Trial(i, {"x": i / 4}, TrialState.PRUNED, intermediate={1: float(i), 3: i / 2}) for i in range(3)]
    >>> X, y, budget = fidelity_xy(space, ts, "minimize", min_points=3)
    >>> budget, y.tolist()
    (3, [0.0, 0.5, 1.0])
    """
    reporting = [t for t in trials if t.intermediate and t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    if not reporting:
        X, y = completed_xy(space, trials, direction)
        return X, y, None
    silent = [t for t in trials if not t.intermediate and t.state == TrialState.COMPLETE and t.has_value]
    last_steps = np.array(sorted(t.last_step for t in reporting))  # type: ignore[type-var]
    chosen = None
    for budget in sorted({s for t in reporting for s in t.intermediate}, reverse=True):
        reached = len(last_steps) - int(np.searchsorted(last_steps, budget)) + len(silent)
        if reached >= min_points:
            chosen = budget
            break
    if chosen is None:
        chosen = min(s for t in reporting for s in t.intermediate)
    configs, values = [], []
    for t in reporting:
        if t.last_step >= chosen:  # type: ignore[operator]
            step = max(s for s in t.intermediate if s <= chosen) if any(s <= chosen for s in t.intermediate) \
                else min(t.intermediate)
            value = t.intermediate[step]
            if np.isfinite(value):
                configs.append(t.config)
                values.append(value)
    for t in silent:
        configs.append(t.config)
        values.append(t.value)
    y = np.array(values, dtype=float)
    return space.encode_many(configs), (-y if direction == "maximize" else y), chosen
