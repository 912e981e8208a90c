"""NSGA-III (Deb & Jain 2014) for 4 or more objectives: NSGA-II's search with crowding distance replaced by
niching around reference directions, which keeps a front spread out where crowding distance no longer can
(with many objectives almost every point is non-dominated and crowding distances stop telling them apart).

The reference directions are Das and Dennis's simplex lattice, as many as fit in the population. Within each
non-dominated rank the order is built as the paper's niching does: losses are translated to the ideal point
and scaled by the front's range, each trial is attached to the reference direction nearest to it
(perpendicular distance), and trials are taken one at a time from the direction with the fewest trials taken
so far (its nearest one first when it has none, else one at random).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from hypersweep.multi_objective import non_dominated_sort
from hypersweep.samplers.nsga2 import NSGAIISampler

__all__ = ["NSGAIIISampler", "reference_directions"]


def reference_directions(n_objectives: int, divisions: int) -> np.ndarray:
    """Das and Dennis's points on the unit simplex: every vector of ``n_objectives`` multiples of
    1/``divisions`` that sum to 1 (C(divisions + n_objectives - 1, n_objectives - 1) of them).

    >>> reference_directions(3, 2).tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.5, 0.5], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]
    """
    rows = []
    for cuts in itertools.combinations(range(divisions + n_objectives - 1), n_objectives - 1):
        bounds = (-1, *cuts, divisions + n_objectives - 1)
        rows.append([bounds[i + 1] - bounds[i] - 1 for i in range(n_objectives)])
    return np.array(rows, dtype=float) / divisions


class NSGAIIISampler(NSGAIISampler):
    """NSGA-II's steady-state evolution with NSGA-III's reference-direction niching; see the module doc.

    ``divisions`` sets the reference lattice (None: the largest whose size fits in ``population_size``); the
    other parameters are `NSGAIISampler`'s.

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize"] * 4,
    ...                         sampler=NSGAIIISampler(population_size=8, seed=0))
    >>> study.optimize(lambda c: (c["x"], 1 - c["x"], c["y"], 1 - c["y"]), n_trials=20, progress=False)
    >>> len(study.best_trials) > 1
    True
    """

    def __init__(self, population_size: int = 50, divisions: int | None = None, **kwargs) -> None:
        super().__init__(population_size=population_size, **kwargs)
        if divisions is not None and (not isinstance(divisions, int) or isinstance(divisions, bool) or divisions < 1):
            raise ValueError(f"NSGAIIISampler: divisions must be an int >= 1 or None, got {divisions!r}")
        self.divisions = divisions

    def _directions(self, m: int) -> np.ndarray:
        divisions = self.divisions
        if divisions is None:  # the largest lattice that fits in the population (at least one division)
            divisions = 1
            while math.comb(divisions + m, m - 1) <= self.population_size:
                divisions += 1
        return reference_directions(m, divisions)

    def _order(self, losses: np.ndarray, violation: np.ndarray) -> np.ndarray:
        n = len(losses)
        if losses.ndim != 2 or losses.shape[1] < 2 or n == 0:
            return super()._order(losses, violation)
        feasible = np.flatnonzero(violation <= 0)
        order: list[int] = []
        if len(feasible):
            L = losses[feasible]
            ranks = non_dominated_sort(L)
            ideal = L.min(axis=0)
            span = L[ranks == 0].max(axis=0) - ideal
            span[~(span > 0)] = 1.0
            scaled = (L - ideal) / span
            directions = self._directions(L.shape[1])
            unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
            along = scaled @ unit.T  # (n, r): projection on each direction
            distance = np.sqrt(np.maximum((scaled**2).sum(axis=1, keepdims=True) - along**2, 0.0))
            nearest, gap = distance.argmin(axis=1), distance.min(axis=1)
            counts = np.zeros(len(directions), dtype=int)
            for rank in np.unique(ranks):
                members = list(np.flatnonzero(ranks == rank))
                while members:
                    niches = {int(nearest[i]) for i in members}
                    fewest = min(niches, key=lambda r: (counts[r], r))
                    candidates = [i for i in members if nearest[i] == fewest]
                    if counts[fewest] == 0:
                        pick = min(candidates, key=lambda i: (gap[i], i))
                    else:
                        pick = candidates[int(self.rng.integers(len(candidates)))]
                    order.append(int(feasible[pick]))
                    members.remove(pick)
                    counts[fewest] += 1
        infeasible = np.flatnonzero(violation > 0)
        order += infeasible[np.argsort(violation[infeasible], kind="stable")].tolist()
        return np.array(order, dtype=int)

    def __repr__(self) -> str:
        return (f"NSGAIIISampler(population_size={self.population_size}, divisions={self.divisions!r}, "
                f"seed={self.seed!r})")
