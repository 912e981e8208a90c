"""NSGA-II (Deb et al. 2002) for studies of several objectives, in a steady-state form that suits parallel
workers: every proposal breeds two parents drawn from the current elite, so no worker waits for a generation.

The elite is the best ``population_size`` completed trials by non-dominated rank, then crowding distance
(`hypersweep.multi_objective`); with constraints, feasible trials come before infeasible ones, which are
ordered by how much they violate (Deb's constrained domination). Parents are picked by binary tournament on
the same order; children are made in the unit cube of the space: simulated binary crossover and polynomial
mutation on ranges (integers are rounded by the space), a uniform pick from either parent and a random reset on
categorical parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hypersweep._validation import check_int
from hypersweep.multi_objective import as_losses, crowding_distance, non_dominated_sort
from hypersweep.samplers.base import BaseSampler
from hypersweep.space import Space
from hypersweep.space.params import Categorical
from hypersweep.trial import Trial, TrialState

__all__ = ["NSGAIISampler"]


class NSGAIISampler(BaseSampler):
    """Evolutionary search of the Pareto front of several objectives (one objective works too).

    ``population_size`` random trials start it (and its elite has that size); ``crossover_prob`` is the
    chance a child mixes its two parents (else it copies one), ``mutation_prob`` each parameter's chance to
    mutate (None: 1 / number of parameters); ``eta_crossover`` / ``eta_mutation`` how close children stay to
    their parents (larger: closer).

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"],
    ...                         sampler=NSGAIISampler(population_size=8, seed=0))
    >>> study.optimize(lambda c: (c["x"], (1 - c["x"]) ** 2), n_trials=20, progress=False)
    >>> len(study.best_trials) > 1
    True
    """

    multi_objective = True

    def __init__(
        self,
        population_size: int = 50,
        crossover_prob: float = 0.9,
        mutation_prob: float | None = None,
        eta_crossover: float = 20.0,
        eta_mutation: float = 20.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        check_int("population_size", population_size, minimum=2, fix="NSGA-II breeds pairs: use 2 or more")
        for name, p in (("crossover_prob", crossover_prob), ("mutation_prob", mutation_prob)):
            if p is not None and not 0.0 <= p <= 1.0:
                raise ValueError(f"NSGAIISampler: {name} must be a probability in [0, 1], got {p!r}")
        for name, eta in (("eta_crossover", eta_crossover), ("eta_mutation", eta_mutation)):
            if not eta > 0:
                raise ValueError(f"NSGAIISampler: {name} must be > 0 (e.g. 20), got {eta!r}")
        self.population_size = population_size
        self.crossover_prob, self.mutation_prob = crossover_prob, mutation_prob
        self.eta_crossover, self.eta_mutation = eta_crossover, eta_mutation
        self._elite: list[int] = []  # trial numbers of the elite, best first
        self._seen: set[int] = set()  # completed trials already weighed for the elite

    def ask(self, space: Space, trials: Sequence[Trial], pending: Sequence[dict[str, Any]], direction: Any):
        directions = [direction] if isinstance(direction, str) else list(direction)
        done = [t for t in trials if t.state == TrialState.COMPLETE and t.values is not None
                and len(t.values) == len(directions)]
        if len(done) < self.population_size or not space.dims:
            return space.sample(self.rng)
        # (mu + lambda) elitism: a trial that left the elite never comes back, so only the elite and the trials
        # completed since the last proposal are ranked (population_size + new ones, not every trial)
        by_number = {t.number: t for t in done}
        if any(n not in by_number for n in self._elite):  # another study's history: start over
            self._elite, self._seen = [], set()
        new = [t for t in done if t.number not in self._seen]
        pool = [by_number[n] for n in self._elite] + new
        self._seen.update(t.number for t in new)
        order = self._order(as_losses([t.values for t in pool], directions), np.array([t.violation for t in pool]))
        elite = [pool[i] for i in order[: self.population_size]]
        self._elite = [t.number for t in elite]
        X = space.encode_many([t.config for t in elite])
        a, b = (self._tournament(len(elite)) for _ in range(2))
        categorical = np.array([isinstance(space[n], Categorical) for n in space.dims])
        child = self._cross(X[a], X[b], categorical) if self.rng.random() < self.crossover_prob else X[a].copy()
        return space.decode(self._mutate(child, categorical))

    def _order(self, losses: np.ndarray, violation: np.ndarray) -> np.ndarray:
        """Positions of the candidates for the elite, best first (NSGA-II: rank, then crowding distance)."""
        return _elite_order(losses, violation)

    def _tournament(self, size: int) -> int:
        """The better (earlier in the elite's order) of two members of an elite of ``size`` drawn at random."""
        i, j = self.rng.choice(size, size=2, replace=size < 2)
        return int(min(i, j))

    def _cross(self, x: np.ndarray, y: np.ndarray, categorical: np.ndarray) -> np.ndarray:
        """Simulated binary crossover on ranges (each with probability 1/2), a uniform pick on categories."""
        child = x.copy()
        for k in range(len(x)):
            if self.rng.random() >= 0.5:
                continue
            if categorical[k] or x[k] == y[k]:
                child[k] = y[k]
                continue
            u = self.rng.random()
            beta = (2 * u) ** (1 / (self.eta_crossover + 1)) if u <= 0.5 else \
                (1 / (2 * (1 - u))) ** (1 / (self.eta_crossover + 1))
            child[k] = 0.5 * ((1 + beta) * x[k] + (1 - beta) * y[k]) if self.rng.random() < 0.5 else \
                0.5 * ((1 - beta) * x[k] + (1 + beta) * y[k])
        return np.clip(child, 0.0, 1.0)

    def _mutate(self, x: np.ndarray, categorical: np.ndarray) -> np.ndarray:
        """Polynomial mutation on ranges, a random reset on categories, each with probability ``mutation_prob``."""
        p = self.mutation_prob if self.mutation_prob is not None else 1.0 / len(x)
        for k in range(len(x)):
            if self.rng.random() >= p:
                continue
            if categorical[k]:
                x[k] = self.rng.random()
                continue
            u, power = self.rng.random(), self.eta_mutation + 1
            if u < 0.5:
                delta = (2 * u + (1 - 2 * u) * (1 - x[k]) ** power) ** (1 / power) - 1
            else:
                delta = 1 - (2 * (1 - u) + 2 * (u - 0.5) * x[k] ** power) ** (1 / power)
            x[k] = x[k] + delta
        return np.clip(x, 0.0, 1.0)

    def __repr__(self) -> str:
        return f"NSGAIISampler(population_size={self.population_size}, seed={self.seed!r})"


def _elite_order(losses: np.ndarray, violation: np.ndarray | None = None) -> np.ndarray:
    """Positions of ``losses`` from best to worst: feasible trials first (Deb's constrained domination), by
    non-dominated rank, then by crowding within the rank (most isolated first), then by position (older first);
    then the infeasible ones, the least violating first."""
    n = len(losses)
    violation = np.zeros(n) if violation is None else violation
    feasible = np.flatnonzero(violation <= 0)
    ranks = np.zeros(n)
    crowd = np.zeros(n)
    if len(feasible):
        ranks[feasible] = non_dominated_sort(losses[feasible])
        for r in np.unique(ranks[feasible]):
            members = feasible[ranks[feasible] == r]
            crowd[members] = crowding_distance(losses[members])
    infeasible = violation > 0
    ranks[infeasible] = n + violation[infeasible] / (1.0 + violation.max())  # after every feasible rank
    return np.lexsort((np.arange(n), -crowd, ranks))
