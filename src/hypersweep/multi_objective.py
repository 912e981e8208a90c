"""Several objectives: dominance, non-dominated sorting, crowding distance and hypervolume.

Everything here works on *losses*: an array of shape (n_points, n_objectives) where lower is better on every
axis (`as_losses` turns objective values and their directions into that). A point dominates another when it is
no worse on every objective and better on one; the Pareto front is the set of points nothing dominates.

>>> values = [(0.9, 30.0), (0.8, 10.0), (0.7, 20.0)]          # (accuracy, latency in ms)
>>> L = as_losses(values, ["maximize", "minimize"])
>>> pareto_front_mask(L).tolist()                               # (0.7, 20) is beaten by (0.8, 10)
[True, True, False]
>>> hypervolume(L[pareto_front_mask(L)], reference=as_losses([(0.0, 50.0)], ["maximize", "minimize"])[0])
34.0
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np

from hypersweep.direction import Direction

__all__ = [
    "as_losses",
    "crowding_distance",
    "dominates",
    "hypervolume",
    "hypervolume_improvement",
    "non_dominated_sort",
    "pareto_front_mask",
    "pareto_positions",
]


def as_losses(values: Any, directions: Sequence[str | Direction]) -> np.ndarray:
    """Objective values (rows of one value per objective) as losses: negated where the direction maximizes.

    NaN (a diverged objective) becomes +inf, the worst loss.

    >>> as_losses([(1.0, 2.0)], ["maximize", "minimize"]).tolist()
    [[-1.0, 2.0]]
    """
    V = np.asarray(values, dtype=float)
    if V.ndim == 1:
        V = V.reshape(-1, len(directions))
    if V.shape[1] != len(directions):
        raise ValueError(f"{V.shape[1]} values per point for {len(directions)} directions")
    signs = np.array([-Direction.of(d).sign for d in directions], dtype=float)
    L = V * signs
    L[np.isnan(L)] = np.inf
    return L


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether loss vector ``a`` dominates ``b`` (no worse everywhere, better somewhere).

    >>> dominates([1, 2], [1, 3]), dominates([1, 2], [1, 2]), dominates([0, 3], [1, 2])
    (True, False, False)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(a <= b) and np.any(a < b))


def pareto_front_mask(losses: Any) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``losses`` (duplicates of a front point are all kept).

    >>> pareto_front_mask([[1, 2], [2, 1], [2, 2]]).tolist()
    [True, True, False]
    """
    L = np.asarray(losses, dtype=float)
    n = len(L)
    if n == 0:
        return np.zeros(0, dtype=bool)
    keep = np.ones(n, dtype=bool)
    order = np.lexsort(L.T[::-1])  # by the first objective, then the next: a dominator comes first
    for position, i in enumerate(order):
        if not keep[i]:
            continue
        rest = order[position + 1:]
        rest = rest[keep[rest]]
        if len(rest):
            beaten = np.all(L[i] <= L[rest], axis=1) & np.any(L[i] < L[rest], axis=1)
            keep[rest[beaten]] = False
    return keep


def non_dominated_sort(losses: Any) -> np.ndarray:
    """Rank of each row: 0 for the Pareto front, 1 for the front of what is left, and so on.

    >>> non_dominated_sort([[1, 2], [2, 1], [2, 2], [3, 3]]).tolist()
    [0, 0, 1, 2]
    """
    L = np.asarray(losses, dtype=float)
    if L.ndim == 2 and L.shape[1] == 2 and not np.isnan(L).any():
        return _two_objective_ranks(L)
    ranks = np.full(len(L), -1, dtype=int)
    left = np.arange(len(L))
    rank = 0
    while len(left):
        front = pareto_front_mask(L[left])
        ranks[left[front]] = rank
        left = left[~front]
        rank += 1
    return ranks


def _two_objective_ranks(L: np.ndarray) -> np.ndarray:
    """`non_dominated_sort` of two objectives in O(n log n): in lexicographic order a point can only be
    dominated by points before it, and the fronts' lowest second objectives rise with the rank, so a binary
    search finds the first front none of whose points dominates it."""
    ranks = np.empty(len(L), dtype=int)
    tails: list[float] = []  # per front, the lowest second objective among its points so far
    tail_first: list[float] = []  # ... and that point's first objective (an equal point does not dominate)
    for i in np.lexsort((L[:, 1], L[:, 0])).tolist():
        first, second = L[i, 0], L[i, 1]
        k = bisect.bisect_left(tails, second)  # fronts before k hold a point with a lower second objective
        while k < len(tails) and tails[k] == second and tail_first[k] < first:
            k += 1  # that front's lowest point is as good on the second objective and better on the first
        if k == len(tails):
            tails.append(second)
            tail_first.append(first)
        else:
            tails[k], tail_first[k] = second, first
        ranks[i] = k
    return ranks


def crowding_distance(losses: Any) -> np.ndarray:
    """NSGA-II's crowding distance of each row within its set (larger: more isolated; the ends of each
    objective get infinity), used to keep a front spread out.

    >>> crowding_distance([[0, 2], [1, 1], [2, 0]]).tolist()
    [inf, 2.0, inf]
    """
    L = np.asarray(losses, dtype=float)
    n, m = L.shape if L.ndim == 2 else (len(L), 0)
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(L[:, k], kind="stable")
        column = L[order, k]
        span = column[-1] - column[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if not np.isfinite(span) or span <= 0:
            continue
        distance[order[1:-1]] += (column[2:] - column[:-2]) / span
    return distance


def pareto_positions(losses: Any) -> np.ndarray:
    """For each row, how many rows come strictly before it when a set is ranked as multi-objective successive
    halving ranks a rung (Schmucker et al. 2021, NSGA-II's order): by non-dominated front, then by crowding
    distance within the front (more isolated first). Rows with the same front and distance share a position;
    non-finite losses count as worse than every finite one.

    >>> pareto_positions([[0, 2], [1, 1], [2, 0], [2, 2], [3, 3]]).tolist()  # a front of three: its ends first
    [0, 2, 0, 3, 4]
    """
    L = np.array(losses, dtype=float)
    if L.ndim != 2 or not len(L):
        return np.zeros(len(L), dtype=int)
    bad = ~np.isfinite(L)
    if bad.any():  # worse than the worst finite value, but finite: crowding distances stay defined
        worst = np.where(bad, -np.inf, L).max(axis=0)
        worst = np.where(np.isfinite(worst), worst + 1.0, 0.0)
        L = np.where(bad, worst, L)
    ranks = non_dominated_sort(L)
    crowding = np.zeros(len(L))
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        crowding[members] = crowding_distance(L[members])
    order = np.lexsort((-crowding, ranks))
    positions = np.empty(len(L), dtype=int)
    first = 0
    for i, row in enumerate(order):
        if i and (ranks[row] != ranks[order[i - 1]] or crowding[row] != crowding[order[i - 1]]):
            first = i
        positions[row] = first
    return positions


def hypervolume(losses: Any, reference: Sequence[float]) -> float:
    """The volume dominated by the rows of ``losses`` and bounded by ``reference`` (a loss vector worse than
    every point that counts; points not better than it on every objective add nothing). Exact: a sweep for 2
    objectives, slices for 3 and more.

    >>> hypervolume([[1, 2], [2, 1]], reference=[3, 3])
    3.0
    >>> hypervolume([[0, 0, 0]], reference=[1, 2, 3])
    6.0
    """
    ref = np.asarray(reference, dtype=float)
    L = np.asarray(losses, dtype=float).reshape(-1, len(ref))
    L = L[np.all(L < ref, axis=1)]
    if len(L) == 0:
        return 0.0
    L = L[pareto_front_mask(L)]
    return float(_volume(L, ref))


def _volume(L: np.ndarray, ref: np.ndarray) -> float:
    if L.shape[1] == 1:
        return float(ref[0] - L[:, 0].min())
    if L.shape[1] == 2:
        order = np.argsort(L[:, 0], kind="stable")
        x, y = L[order, 0], L[order, 1]
        best_y = np.minimum.accumulate(y)
        right = np.append(x[1:], ref[0])
        return float(np.sum((right - x) * (ref[1] - best_y)))
    # slice along the last objective: between consecutive levels, the volume of the points at or below it
    order = np.argsort(L[:, -1], kind="stable")
    L = L[order]
    levels = np.append(L[:, -1], ref[-1])
    total = 0.0
    for i in range(len(L)):
        height = levels[i + 1] - levels[i]
        if height > 0:
            below = L[: i + 1, :-1]
            total += height * _volume(below[pareto_front_mask(below)], ref[:-1])
    return total


def hypervolume_improvement(points: Any, front: Any, reference: Sequence[float]) -> np.ndarray:
    """For each row of ``points`` (losses), how much it would add to the hypervolume of ``front`` (bounded by
    ``reference``): ``hypervolume(front + [p]) - hypervolume(front)``, exact and vectorized over the points, for
    2 and 3 objectives (O(n m) and O(n m^2) for n points and a front of m).

    >>> hypervolume_improvement([[0.5, 0.5], [2.0, 2.0]], [[1, 2], [2, 1]], reference=[3, 3]).tolist()
    [3.25, 0.0]
    """
    ref = np.asarray(reference, dtype=float)
    P = np.asarray(points, dtype=float).reshape(-1, len(ref))
    F = np.asarray(front, dtype=float).reshape(-1, len(ref))
    F = F[np.all(F < ref, axis=1)]
    if len(ref) == 2:
        return _improvement_2d(P, F, ref)
    if len(ref) == 3:
        order = np.argsort(F[:, 2], kind="stable")
        F = F[order]
        levels = np.concatenate([[-np.inf], F[:, 2], [ref[2]]])
        total = np.zeros(len(P))
        for k in range(len(F) + 1):  # between levels k and k + 1 the points below are F[:k]
            low, high = np.maximum(levels[k], P[:, 2]), min(levels[k + 1], ref[2])
            height = np.clip(high - low, 0.0, None)
            if height.any():
                total += height * _improvement_2d(P[:, :2], F[:k, :2], ref[:2])
        return total
    raise ValueError(f"hypervolume_improvement handles 2 or 3 objectives, got {len(ref)}")


def _improvement_2d(P: np.ndarray, F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The area each point of P adds to the staircase of F (any set of points below ``ref``)."""
    if len(F):
        order = np.argsort(F[:, 0], kind="stable")
        x, height = F[order, 0], np.minimum(np.minimum.accumulate(F[order, 1]), ref[1])
    else:
        x, height = np.empty(0), np.empty(0)
    left = np.concatenate([[-np.inf], x])  # segment k: from left[k] to right[k], the front is at height[k]
    right = np.concatenate([x, [ref[0]]])
    tops = np.concatenate([[ref[1]], height])
    width = np.clip(np.minimum(right[None, :], ref[0]) - np.maximum(left[None, :], P[:, :1]), 0.0, None)
    rise = np.clip(tops[None, :] - P[:, 1:2], 0.0, None)
    return np.sum(width * rise, axis=1)
