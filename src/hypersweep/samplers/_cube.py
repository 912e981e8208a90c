"""Unit-cube helpers the model-based samplers (TPE, BO) share: axis layout and snapping, an encoding cache,
and the histories they fit (completed trials, or multi-fidelity observations)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from hypersweep.samplers.base import as_losses, select_fidelity
from hypersweep.space import Categorical, Int, Space
from hypersweep.trial import Trial, TrialState

_MAX_SNAPPED_VALUES = 4096  # Int ranges wider than this are treated as continuous (decode rounds them)


_MIN_ORDERED_CHOICES = 3  # from this many, a monotone list of numbers is modelled as an ordered axis


def _ordered(param: Categorical) -> bool:
    """True for choices that are numbers in strictly increasing or decreasing order (``[16, 32, 64]``,
    ``np.logspace(-6, -3, 1000)``): neighbours in the list are neighbours in value, so the models treat the
    choice's position as a discrete numeric axis (and learn across choices) instead of unrelated categories."""
    values = param.choices
    if len(values) < _MIN_ORDERED_CHOICES or param.holds_objects:
        return False
    if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)
               for v in values):
        return False
    steps = np.diff(np.asarray(values, dtype=float))
    return bool(np.all(steps > 0) or np.all(steps < 0))


class _Layout:
    """How each searched axis is modelled: categorical (k choices), discrete numeric (value centers: an Int's
    values, or the positions of an ordered list of numbers, `_ordered`), or real."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.dims = space.dims
        self.n_choices = np.zeros(len(self.dims), dtype=int)  # k for Categorical axes, 0 otherwise
        self.centers: dict[int, np.ndarray] = {}  # axis -> sorted encoded centers of an Int's values
        for j, name in enumerate(self.dims):
            param = space[name]
            if isinstance(param, Categorical) and _ordered(param):
                self.centers[j] = (np.arange(len(param.choices)) + 0.5) / len(param.choices)
            elif isinstance(param, Categorical):
                self.n_choices[j] = len(param.choices)
            elif isinstance(param, Int) and param.n_values <= _MAX_SNAPPED_VALUES:
                values = range(param.low, param.high + 1, param.step)
                self.centers[j] = np.sort([param.encode(v) for v in values])
        self.cat = np.flatnonzero(self.n_choices > 0)
        self.num = np.flatnonzero(self.n_choices == 0)
        # bin edges of discrete numeric axes: halfway between neighbouring centers, 0 and 1 at the ends
        self.edges = {j: np.concatenate([[0.0], (c[1:] + c[:-1]) / 2, [1.0]]) for j, c in self.centers.items()}

    def snap(self, U: np.ndarray) -> np.ndarray:
        """Points moved to the encoded value they decode to (choice centers, integer centers); in place."""
        for j in self.cat:
            k = self.n_choices[j]
            U[:, j] = (np.clip(np.floor(U[:, j] * k), 0, k - 1) + 0.5) / k
        for j, c in self.centers.items():
            U[:, j] = c[self.bin_index(j, U[:, j])]
        np.clip(U, 0.0, 1.0, out=U)
        return U

    def bin_index(self, j: int, u: np.ndarray) -> np.ndarray:
        """Index of the value bin of discrete numeric axis ``j`` holding each ``u``."""
        return np.clip(np.searchsorted(self.edges[j], u, side="right") - 1, 0, len(self.centers[j]) - 1)

    def choice_index(self, U: np.ndarray) -> np.ndarray:
        """Choice indices of the categorical axes, shape (len(U), len(cat))."""
        k = self.n_choices[self.cat]
        return np.clip(np.floor(U[:, self.cat] * k), 0, k - 1).astype(int)


def _same_space(a: Space | None, b: Space) -> bool:
    return a is b or (a is not None and a == b)


class _EncodingCache:
    """Unit-cube rows of trial configs, remembered by trial number so a long history is encoded once."""

    def __init__(self) -> None:
        self.space: Space | None = None
        self.rows: dict[int, tuple[dict[str, Any], np.ndarray]] = {}

    def _use(self, space: Space) -> None:
        if space is not self.space:
            if not _same_space(self.space, space):
                self.rows = {}
            self.space = space

    def row(self, space: Space, trial: Trial) -> np.ndarray:
        """The encoding of ``trial.config`` (call `_use` first)."""
        hit = self.rows.get(trial.number)
        if hit is None or (hit[0] is not trial.config and hit[0] != trial.config):
            hit = (trial.config, space.encode(trial.config))
            self.rows[trial.number] = hit
        return hit[1]

    def encode(self, space: Space, trials: Sequence[Trial]) -> np.ndarray:
        """`Space.encode_many` of the trials' configs."""
        self._use(space)
        return _stack([self.row(space, t) for t in trials], len(space.dims))


def _stack(rows: list[np.ndarray], n_dims: int) -> np.ndarray:
    return np.array(rows) if rows else np.empty((0, n_dims))


def _split_history(
    space: Space, trials: Sequence[Trial], direction: str, cache: _EncodingCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, losses) of COMPLETE feasible trials with a value, and the points of PRUNED and PAUSED trials (good
    or not, they stopped) and of infeasible ones (their constraints > 0)."""
    cache._use(space)
    X, y, X_pruned = [], [], []
    complete, pruned, paused, isfinite = TrialState.COMPLETE, TrialState.PRUNED, TrialState.PAUSED, math.isfinite
    for t in trials:  # one pass: this loop is most of an ask's cost at thousands of trials
        if t.state is complete:
            if t.metadata and "constraints" in t.metadata and not t.feasible:
                X_pruned.append(cache.row(space, t))  # an infeasible trial is a bad observation
            elif t.value is not None and isfinite(t.value):
                X.append(cache.row(space, t))
                y.append(t.value)
        elif t.state is pruned or t.state is paused:
            X_pruned.append(cache.row(space, t))
    d = len(space.dims)
    return _stack(X, d), as_losses(y, direction), _stack(X_pruned, d)


def _split_history_several(
    space: Space, trials: Sequence[Trial], directions: Sequence[str], cache: _EncodingCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_split_history` for a study of several objectives: the losses are one number per trial that orders them
    as multi-objective TPE does (Ozaki et al. 2020): the non-dominated rank first, then, within a rank, the more
    isolated (crowding distance) the better. A fourth item holds the losses themselves, one row per trial."""
    from hypersweep.multi_objective import as_losses as several_losses
    from hypersweep.multi_objective import crowding_distance, non_dominated_sort

    cache._use(space)
    X, values, X_pruned = [], [], []
    n = len(directions)
    for t in trials:
        if t.state is TrialState.COMPLETE:
            if not t.feasible:
                X_pruned.append(cache.row(space, t))
            elif t.values is not None and len(t.values) == n:
                X.append(cache.row(space, t))
                values.append(t.values)
        elif t.state.stopped_early:
            X_pruned.append(cache.row(space, t))
    d = len(space.dims)
    if not values:
        return _stack(X, d), np.empty(0), _stack(X_pruned, d), np.empty((0, n))
    L = several_losses(values, directions)
    ranks = non_dominated_sort(L).astype(float)
    order = np.zeros(len(L))
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        crowd = crowding_distance(L[members])
        finite = crowd[np.isfinite(crowd)]
        top = finite.max() if len(finite) and finite.max() > 0 else 1.0
        order[members] = 0.5 * np.where(np.isfinite(crowd), crowd / top, 1.0)  # in [0, 0.5]: stays within the rank
    return _stack(X, d), ranks - order, _stack(X_pruned, d), L


def _wants_multi_fidelity(setting: bool | None, trials: Sequence[Trial]) -> bool:
    """The ``multi_fidelity`` option resolved: None (auto) is on once any finished trial reported a step."""
    if setting is None:
        return any(t.intermediate for t in trials)
    return setting


def _check_multi_fidelity(owner: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{owner}: multi_fidelity must be True, False or None (auto), got {value!r}")
    return value


def _fidelity_history(
    space: Space, trials: Sequence[Trial], direction: str, min_points: int, cache: _EncodingCache
) -> tuple[np.ndarray, np.ndarray, int | None, np.ndarray]:
    """`fidelity_xy` with cached encodings, plus the points of the PRUNED trials it left out:
    (X, losses, budget, X_pruned)."""
    cache._use(space)
    pairs, budget, left_out = select_fidelity(trials, min_points)
    d = len(space.dims)
    X = _stack([cache.row(space, t) for t, _ in pairs], d)
    X_pruned = _stack([cache.row(space, t) for t in left_out], d)
    return X, as_losses([value for _, value in pairs], direction), budget, X_pruned
