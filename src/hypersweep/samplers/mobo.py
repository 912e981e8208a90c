"""Bayesian optimization of several objectives: one GP per objective, a hypervolume-improvement acquisition.

The acquisition is SMS-EGO's (Ponweiser et al. 2008): each candidate's optimistic outcome (the GPs' lower
confidence bounds) is scored by the hypervolume it would add to the current Pareto front of feasible trials
(exact, `hypervolume_improvement`), and an outcome that adds nothing by minus its additive distance to the front,
so the search is pulled toward the front rather than stalled on a flat zero. Objectives are scaled to the range
observed so far, so one with large units does not dominate; the reference point lies 10 % beyond the worst.
Constraints: a GP on the total violation gives each candidate its probability of being feasible, which scales
its gain. Pending trials join the front at their predicted outcomes (kriging believer), so parallel workers
spread along it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from hypersweep._validation import check_number
from hypersweep.multi_objective import as_losses, hypervolume_improvement, non_dominated_sort, pareto_front_mask
from hypersweep.samplers.bo import _GP, BOSampler, _features
from hypersweep.trial import TrialState

__all__ = ["MOBOSampler"]

#: the reference point, in objectives scaled to [0, 1] over the observed range
_REFERENCE = 1.1


class MOBOSampler(BOSampler):
    """Bayesian optimization for studies of several objectives (2 or 3 by hypervolume improvement; more by a
    random Chebyshev scalarization per proposal, as ParEGO); one objective is plain `BOSampler`.

    ``kappa`` sets how optimistic the lower confidence bound is (in standard deviations of each scaled
    objective); the other parameters are `BOSampler`'s (``n_initial_points`` from a Latin hypercube, then
    ``n_candidates`` random points plus neighbours of front points, refined by local search; at most
    ``max_history`` observations, the best non-dominated ranks first, then the most recent).

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], sampler="mobo", seed=0)
    >>> study.optimize(lambda c: (c["x"], (1 - c["x"]) ** 2), n_trials=12, progress=False)
    >>> len(study.best_trials) >= 10  # on this trade-off every trial is on the front
    True
    """

    multi_objective = True

    def __init__(self, seed: int | None = None, kappa: float = 0.25, n_initial_points: int = 10,
                 n_candidates: int = 1000, max_history: int = 200) -> None:
        super().__init__(seed, surrogate="gp", n_initial_points=n_initial_points, n_candidates=n_candidates,
                         max_history=max_history)
        self.kappa = check_number("kappa", kappa, minimum=0)
        self._models: list[_GP] = []
        self._feasibility = _GP(self.rng, prior=False)

    def ask(self, space, trials, pending, direction):
        if isinstance(direction, str) or len(direction) == 1:
            return super().ask(space, trials, pending, direction if isinstance(direction, str) else direction[0])
        if not space.dims:
            return space.decode(np.empty(0))
        from hypersweep.samplers._cube import _Layout, _same_space

        if self._layout is None or not _same_space(self._layout.space, space):
            self._layout, self._design = _Layout(space), None
        done = [t for t in trials if t.state is TrialState.COMPLETE and t.values is not None
                and len(t.values) == len(direction) and all(math.isfinite(v) for v in t.values)]
        if len(done) < max(self.n_initial_points, 2):
            return self._initial_point(space, len(trials) + len(pending))
        L = as_losses([t.values for t in done], direction)
        violation = np.array([t.violation for t in done])
        keep = _bounded(L, violation, self.max_history)
        done, L, violation = [done[i] for i in keep], L[keep], violation[keep]
        X = self._cache.encode(space, done)
        u = self._propose_several(X, L, violation, space.encode_many(list(pending)), self._cache.encode(space, trials))
        return space.decode(u)

    def _propose_several(self, X: np.ndarray, L: np.ndarray, violation: np.ndarray, X_pending: np.ndarray,
                 X_seen: np.ndarray) -> np.ndarray:
        layout = self._layout
        low, span = L.min(axis=0), np.ptp(L, axis=0)
        span[span <= 0] = 1.0
        S = (L - low) / span  # each objective scaled to [0, 1] over what was observed
        F = _features(X, layout, True)
        while len(self._models) < S.shape[1]:
            self._models.append(_GP(self.rng, prior=False))
        centers, scales = S.mean(axis=0), S.std(axis=0)
        scales[scales <= 0] = 1.0
        models = [m.fit(F, (S[:, j] - centers[j]) / scales[j]) for j, m in enumerate(self._models[: S.shape[1]])]
        constrained = bool(np.any(violation > 0))
        if constrained:
            self._feasibility.fit(F, np.log1p(violation) - np.log1p(violation).mean())
        feasible = violation <= 0
        front = S[feasible][pareto_front_mask(S[feasible])] if feasible.any() else np.empty((0, S.shape[1]))
        if len(X_pending):  # kriging believer: pending trials are on the front at their predicted outcomes
            guessed = np.column_stack([m.predict(_features(X_pending, layout, True))[0] for m in models])
            front = np.vstack([front, guessed * scales + centers])
        reference = np.full(S.shape[1], _REFERENCE)
        weights = self.rng.dirichlet(np.ones(S.shape[1]))  # used beyond 3 objectives only
        offset = np.log1p(violation).mean()

        def score(U: np.ndarray) -> np.ndarray:
            G = _features(U, layout, True)
            predicted = [m.predict(G) for m in models]
            bound = np.column_stack([(mean - self.kappa * std) * scales[j] + centers[j]
                                     for j, (mean, std) in enumerate(predicted)])
            if S.shape[1] <= 3:
                gain = hypervolume_improvement(bound, front, reference) if len(front) else np.prod(
                    np.clip(reference - bound, 0.0, None), axis=1)
                if len(front):
                    distance = np.min(np.max(bound[:, None, :] - front[None, :, :], axis=2), axis=1)
                    gain = np.where(gain > 0, gain, -np.clip(distance, 0.0, None))
            else:
                gain = -np.max(weights * bound, axis=1) - 0.05 * bound @ weights
            if constrained:
                mean, std = self._feasibility.predict(G)
                feasible_probability = ndtr((-offset - mean) / std)  # log1p(violation) <= 0
                gain = np.where(gain > 0, gain * feasible_probability, gain - (1 - feasible_probability))
            return gain

        elite = X[feasible][pareto_front_mask(S[feasible])] if feasible.any() else X[np.argsort(violation)[:5]]
        if len(elite) > 5:
            elite = elite[self.rng.choice(len(elite), 5, replace=False)]
        taken = np.vstack([X_seen, X_pending]) if len(X_pending) else X_seen
        return self._maximize(score, elite, taken)

    def __repr__(self) -> str:
        return f"MOBOSampler(seed={self.seed!r}, kappa={self.kappa!r})"


def _bounded(L: np.ndarray, violation: np.ndarray, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` observations: the best quarter by (violation, non-dominated rank), then the
    most recent."""
    n = len(L)
    if n <= limit:
        return np.arange(n)
    order = np.lexsort((non_dominated_sort(L), violation))
    keep = set(order[: limit // 4].tolist())
    for i in range(n - 1, -1, -1):
        if len(keep) >= limit:
            break
        keep.add(i)
    return np.array(sorted(keep))
