"""Asynchronous Bayesian optimization: a Gaussian process (or a scikit-learn forest) surrogate, log-EI or UCB.

Pending trials are fantasized (kriging believer or a constant liar), so parallel workers spread out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import linalg, optimize, stats
from scipy.special import erfcx, ndtr

from hypersweep._validation import check_int, check_number
from hypersweep.samplers._cube import (
    _check_multi_fidelity,
    _EncodingCache,
    _fidelity_history,
    _Layout,
    _same_space,
    _wants_multi_fidelity,
)
from hypersweep.samplers.base import BaseSampler, completed_xy
from hypersweep.space import Space

__all__ = ["BOSampler"]

_SURROGATES = ("gp", "rf", "et")
_ACQUISITIONS = ("ei", "ucb")
_LIARS = ("cl_min", "cl_mean", "cl_max", "kriging_believer")
_DESIGNS = ("random", "lhs")
_SQRT_2PI = math.sqrt(2 * math.pi)


# ---------------------------------------------------------------------------------------------------------
# target warping and features
# ---------------------------------------------------------------------------------------------------------
def _yeo_johnson(x: np.ndarray, lam: float) -> np.ndarray:
    pos = x >= 0
    out = np.empty_like(x)
    xp, xn = x[pos], x[~pos]
    out[pos] = np.log1p(xp) if abs(lam) < 1e-8 else np.expm1(lam * np.log1p(xp)) / lam
    out[~pos] = -np.log1p(-xn) if abs(lam - 2) < 1e-8 else -np.expm1((2 - lam) * np.log1p(-xn)) / (2 - lam)
    return out


def _warp(y: np.ndarray) -> np.ndarray:
    """Losses made closer to Gaussian for the surrogate: standardized, then a Yeo-Johnson power transform whose
    exponent maximizes the Gaussian likelihood (tames heavy tails such as Rosenbrock's), standardized again.
    Order-preserving, so the best observation stays the best."""
    z = (y - np.median(y)) / (np.std(y) or 1.0)
    if len(z) >= 4 and np.ptp(z) > 0:
        log_jacobian = np.sum(np.sign(z) * np.log1p(np.abs(z)))

        def neg_log_likelihood(lam: float) -> float:
            var = np.var(_yeo_johnson(z, lam))
            return np.inf if not var > 0 else 0.5 * len(z) * math.log(var) - (lam - 1) * log_jacobian

        with np.errstate(all="ignore"):
            lam = optimize.minimize_scalar(neg_log_likelihood, bounds=(-3.0, 3.0), method="bounded").x
            warped = _yeo_johnson(z, lam)
        if np.all(np.isfinite(warped)):
            z = warped
    return (z - z.mean()) / (z.std() or 1.0)


def _features(U: np.ndarray, layout: _Layout, one_hot: bool) -> np.ndarray:
    """Surrogate inputs: numeric axes as they are, categorical axes one-hot (for the GP) or as their index."""
    if not one_hot or not len(layout.cat):
        return U
    idx = layout.choice_index(U)
    cols = [U[:, layout.num]] + [np.eye(layout.n_choices[j])[idx[:, c]] for c, j in enumerate(layout.cat)]
    return np.hstack(cols)


# ---------------------------------------------------------------------------------------------------------
# surrogates: fit(F, z) then predict(F) -> (mean, std)
# ---------------------------------------------------------------------------------------------------------
class _GP:
    """Matern-5/2 GP with one length scale per input and a fitted noise level, in plain NumPy/SciPy.

    The same model as scikit-learn's ``GaussianProcessRegressor`` with ``ConstantKernel * Matern(nu=2.5) +
    WhiteKernel`` (a test holds the likelihood, its gradient and the predictions equal), written out so that
    the gradient over the length scales is two matrix products instead of an (n, n, d) tensor and a prediction
    skips the estimator's input validation: a fourth of the cost per ask in 20 dimensions.

    ``prior=True`` fits the hyperparameters by maximum a posteriori instead of maximum likelihood (see
    `_with_prior`): length scales are kept from collapsing onto the few points there are, which on
    ``benchmarks/sampler_quality.py`` lowered the median regret at 50 evaluations on Ackley-10d by a quarter,
    Rosenbrock-5d by 3x and Styblinski-Tang-20d by 14 %. The multi-objective sampler still fits by likelihood
    (its benchmarks were measured so).

    The likelihood optimizer is capped at a few L-BFGS steps and starts from the previous fit (on the first fit
    and every fifth, from the most likely of a few random hyperparameters too), so the optimization continues
    across asks: milliseconds to tens of milliseconds per fit. Past ``_LARGE`` points the
    hyperparameters are re-optimized every third fit only.
    """

    _EXPLORE_EVERY = 5
    _N_RANDOM_STARTS = 4
    _MAX_ITER = 50
    _LARGE = 120

    def __init__(self, rng: np.random.Generator, prior: bool = True) -> None:
        self.rng, self.prior = rng, prior
        self.theta: np.ndarray | None = None
        self._fitted: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.n_fits = 0  # fits that optimized the hyperparameters
        self.n_calls = 0

    _BOUNDS = ((1e-2, 1e2), (1e-2, 2e1), (1e-6, 1e-1))  # signal variance, each length scale, noise variance
    _START = (1.0, 0.5, 1e-3)
    _JITTER = 1e-10

    @staticmethod
    def _log_theta(per_kind: tuple[Any, Any, Any], n_inputs: int) -> np.ndarray:
        """A (signal, length scale, noise) triple laid out as theta: one length scale per input, logs taken."""
        signal, scale, noise = per_kind
        return np.log(np.array([signal, *[scale] * n_inputs, noise]))

    def _bounds(self, n_inputs: int) -> np.ndarray:
        return self._log_theta(self._BOUNDS, n_inputs)

    def _matern(self, A: np.ndarray, B: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, r): the Matern-5/2 covariances of the rows of A and B and their scaled distances."""
        scale = np.exp(theta[1:-1])
        As, Bs = A / scale, B / scale
        r2 = np.sum(As * As, axis=1)[:, None] + np.sum(Bs * Bs, axis=1)[None, :] - 2.0 * As @ Bs.T
        r = np.sqrt(np.maximum(r2, 0.0))
        sr = math.sqrt(5.0) * r
        return math.exp(theta[0]) * (1.0 + sr + sr * sr / 3.0) * np.exp(-sr), r

    def _neg_log_likelihood(self, F: np.ndarray, z: np.ndarray) -> Any:
        """theta -> (-log marginal likelihood, its gradient) of the GP on (F, z), in log-hyperparameters."""
        n = len(z)

        def objective(theta: np.ndarray, eval_gradient: bool = True) -> Any:
            K, r = self._matern(F, F, theta)
            noise = math.exp(theta[-1])
            try:
                L = linalg.cholesky(K + (noise + self._JITTER) * np.eye(n), lower=True)
            except linalg.LinAlgError:
                return (1e25, np.zeros_like(theta)) if eval_gradient else 1e25
            alpha = linalg.cho_solve((L, True), z)
            value = 0.5 * z @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * math.log(2 * math.pi)
            if not eval_gradient:
                return value
            W = np.outer(alpha, alpha) - linalg.cho_solve((L, True), np.eye(n))
            sr = math.sqrt(5.0) * r
            A = W * (math.exp(theta[0]) * 5.0 / 3.0 * (1.0 + sr) * np.exp(-sr))  # (W o dK/dr^2) up to -2 D_k
            Fs = F / np.exp(theta[1:-1])
            grad_scale = A.sum(axis=1) @ (Fs * Fs) - np.sum(Fs * (A @ Fs), axis=0)
            grad = np.concatenate([[0.5 * np.sum(W * K)], grad_scale, [0.5 * noise * np.trace(W)]])
            return value, -grad

        return objective

    def _optimizer(self, obj_func: Any, initial_theta: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, float]:
        if self.prior:
            obj_func = _with_prior(obj_func)
        start = initial_theta
        if self.theta is None or self.n_fits % self._EXPLORE_EVERY == 0:
            randoms = self.rng.uniform(bounds[:, 0], bounds[:, 1], size=(self._N_RANDOM_STARTS, len(bounds)))
            candidates = [initial_theta, *randoms]
            scores = [obj_func(theta, eval_gradient=False) for theta in candidates]
            start = candidates[int(np.argmin(scores))]
        res = optimize.minimize(
            obj_func,
            start,
            method="L-BFGS-B",
            jac=True,
            bounds=bounds,
            options={"maxiter": self._MAX_ITER, "maxfun": 60},
        )
        return res.x, float(res.fun)

    def fit(self, F: np.ndarray, z: np.ndarray, optimize_hyperparameters: bool = True) -> _GP:
        n_inputs = F.shape[1]
        if self.theta is not None and len(self.theta) != n_inputs + 2:  # another space: start afresh
            self.theta = None
        theta = self._log_theta(self._START, n_inputs) if self.theta is None else self.theta
        self.n_calls += optimize_hyperparameters
        if self.theta is not None and len(z) > self._LARGE and self.n_calls % 3:
            optimize_hyperparameters = False
        if optimize_hyperparameters:
            bounds = self._bounds(n_inputs)
            with np.errstate(all="ignore"):
                theta, _ = self._optimizer(self._neg_log_likelihood(F, z), theta, bounds)
            theta = np.clip(theta, bounds[:, 0], bounds[:, 1])
            self.theta = theta
            self.n_fits += 1
        K, _ = self._matern(F, F, theta)
        noise = math.exp(theta[-1]) + self._JITTER
        L = linalg.cholesky(K + noise * np.eye(len(z)), lower=True, check_finite=False)
        self._fitted = (F, L, linalg.cho_solve((L, True), z), theta)
        return self

    def condition(self, F: np.ndarray, z: np.ndarray) -> _GP:
        """The same hyperparameters, conditioned on more (fantasized) points."""
        return self.fit(F, z, optimize_hyperparameters=False)

    def predict(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation (of a new noisy observation) at the rows of ``F``."""
        X, L, alpha, theta = self._fitted
        K_star, _ = self._matern(F, X, theta)
        v = linalg.solve_triangular(L, K_star.T, lower=True, check_finite=False)
        var = math.exp(theta[0]) + math.exp(theta[-1]) - np.sum(v * v, axis=0)
        return K_star @ alpha, np.sqrt(np.maximum(var, 1e-18))


def _with_prior(obj_func: Any) -> Any:
    """The negative log marginal likelihood plus a weak prior on the hyperparameters (in sklearn's log space:
    theta = [log signal variance, log length scales..., log noise variance]): length scales pulled towards 1
    from both sides, signal variance ~ Gamma(2, 1), noise variance ~ Gamma(1.1, 30)."""

    def objective(theta: np.ndarray, eval_gradient: bool = True) -> Any:
        c, ls, noise = math.exp(theta[0]), np.exp(theta[1:-1]), math.exp(theta[-1])
        penalty = (c - theta[0]) + 0.1 * float(np.sum(ls**2 + ls**-2)) + (30.0 * noise - 0.1 * theta[-1])
        if not eval_gradient:
            return obj_func(theta, eval_gradient=False) + penalty
        value, grad = obj_func(theta)
        extra = np.concatenate([[c - 1.0], 0.2 * (ls**2 - ls**-2), [30.0 * noise - 0.1]])
        return value + penalty, grad + extra

    return objective


class _Forest:
    """Random forest or extra trees; the uncertainty is the spread of the trees' predictions."""

    def __init__(self, rng: np.random.Generator, kind: str, n_estimators: int = 64) -> None:
        self.rng, self.kind, self.n_estimators = rng, kind, n_estimators
        self.model: Any = None

    def fit(self, F: np.ndarray, z: np.ndarray) -> _Forest:
        from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

        cls = RandomForestRegressor if self.kind == "rf" else ExtraTreesRegressor
        self.model = cls(
            n_estimators=self.n_estimators,
            min_samples_leaf=2 if len(z) >= 8 else 1,
            max_features=1.0 if self.kind == "et" else 0.8,
            bootstrap=self.kind == "rf",
            random_state=int(self.rng.integers(2**31)),
            n_jobs=1,
        ).fit(F, z)
        return self

    condition = fit

    def predict(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        F32 = np.ascontiguousarray(F, dtype=np.float32)  # what the trees use; skips per-tree validation
        per_tree = np.stack([tree.predict(F32, check_input=False) for tree in self.model.estimators_])
        return per_tree.mean(axis=0), np.maximum(per_tree.std(axis=0), 1e-3)


# ---------------------------------------------------------------------------------------------------------
# the sampler
# ---------------------------------------------------------------------------------------------------------
class BOSampler(BaseSampler):
    """Bayesian optimization with a GP or forest surrogate, for expensive objectives (tens to hundreds of trials).

    Defaults (chosen on ``benchmarks/sampler_quality.py``): ``surrogate="gp"`` (Matern 5/2 with one length scale
    per input and a fitted noise level; categorical axes one-hot; ``"rf"``/``"et"`` are random forests / extra
    trees whose uncertainty is the spread of their trees), ``acquisition="ei"`` (ranked by its logarithm,
    which stays finite where EI underflows) with ``xi=0`` (``xi`` is an
    exploration margin in standard deviations of the warped losses; 0.01 converged slower on all seven tasks of
    the benchmark; ``"ucb"`` uses ``kappa=1.96``), ``n_initial_points=10`` from a Latin hypercube
    (``initial_design="lhs"``), ``liar="kriging_believer"``, ``n_candidates=1000`` random points plus
    neighbours of the best observations, refined by six rounds of shrinking local search, ``max_history=200``.

    Losses are warped (standardized + Yeo-Johnson) before fitting. Pending configs are fantasized so parallel
    workers spread out: ``"kriging_believer"`` adds them with the model's own prediction (their uncertainty
    collapses, the landscape is not distorted; best in our 4-worker simulations), ``"cl_min"`` / ``"cl_mean"``
    / ``"cl_max"`` with the min / mean / max observed loss (a constant liar; ``cl_max`` pushes hardest). The
    surrogate's hyperparameters are fitted on real observations only. Beyond ``max_history`` observations the
    surrogate sees the best quarter plus the most recent ones, so an ask stays cheap (at 100 points a GP fit
    takes milliseconds warm-started, tens of milliseconds on a sampler's first ask). An exact duplicate of
    an evaluated or pending config is never proposed while a new one can be found. PRUNED trials that
    reported a value count with that (pessimistic) value (``consider_pruned``).

    ``multi_fidelity=True`` fits the surrogate BOHB-style (Falkner et al. 2018): on the values at the largest
    step (budget) reported by at least max(n_initial_points, d + 2) trials, so a search pruned by Hyperband or
    ASHA learns from its many short trials (trials stopped below that budget are left out, and the initial
    design runs until the budget has ``n_initial_points`` observations). None (the default) turns it on once
    any finished trial reported intermediate values.

    >>> from hypersweep.space import Space
    >>> sampler = BOSampler(seed=0, surrogate="et")
    >>> sorted(sampler.ask(Space({"x": (0.0, 1.0), "k": ["a", "b"]}), [], [], "minimize"))
    ['k', 'x']
    """

    def __init__(
        self,
        seed: int | None = None,
        surrogate: str = "gp",
        acquisition: str = "ei",
        kappa: float = 1.96,
        xi: float = 0.0,
        n_initial_points: int = 10,
        initial_design: str = "lhs",
        liar: str = "kriging_believer",
        n_candidates: int = 1000,
        max_history: int = 200,
        consider_pruned: bool = True,
        multi_fidelity: bool | None = None,
    ) -> None:
        super().__init__(seed)
        self.multi_fidelity = _check_multi_fidelity("BOSampler", multi_fidelity)
        for arg, value, allowed in (
            ("surrogate", surrogate, _SURROGATES),
            ("acquisition", acquisition, _ACQUISITIONS),
            ("liar", liar, _LIARS),
            ("initial_design", initial_design, _DESIGNS),
        ):
            if value not in allowed:
                raise ValueError(f"BOSampler: {arg}={value!r} is not known; use one of {list(allowed)}")
        for arg, value, low in (
            ("n_initial_points", n_initial_points, 1),
            ("n_candidates", n_candidates, 1),
            ("max_history", max_history, 10),
        ):
            check_int(arg, value, minimum=low)
        check_number("kappa", kappa, minimum=0)
        check_number("xi", xi, minimum=0)
        self.surrogate, self.acquisition, self.liar = surrogate, acquisition, liar
        self.kappa, self.xi = float(kappa), float(xi)
        self.n_initial_points, self.initial_design = n_initial_points, initial_design
        self.n_candidates, self.max_history = n_candidates, max_history
        self.consider_pruned = bool(consider_pruned)
        self._cache = _EncodingCache()
        self._layout: _Layout | None = None
        self._design: np.ndarray | None = None
        self._model: _GP | _Forest = _GP(self.rng) if surrogate == "gp" else _Forest(self.rng, surrogate)

    # --- the initial design -------------------------------------------------------------------------------
    def _initial_point(self, space: Space, index: int) -> dict[str, Any]:
        if self.initial_design == "random" or index >= self.n_initial_points:
            return space.sample(self.rng)
        if self._design is None or self._design.shape[1] != len(space.dims):
            lhs = stats.qmc.LatinHypercube(d=len(space.dims), seed=int(self.rng.integers(2**31)))
            self._design = lhs.random(self.n_initial_points)
        return space.decode(self._layout.snap(self._design[index : index + 1].copy())[0])

    # --- ask ----------------------------------------------------------------------------------------------
    def ask(self, space, trials, pending, direction):
        if not space.dims:
            return space.decode(np.empty(0))
        if self._layout is None or not _same_space(self._layout.space, space):
            self._layout, self._design = _Layout(space), None
        if _wants_multi_fidelity(self.multi_fidelity, trials):
            min_points = max(self.n_initial_points, len(space.dims) + 2)
            X, y, _, _ = _fidelity_history(space, trials, direction, min_points, self._cache)
        else:
            X, y = completed_xy(space, trials, direction, include_pruned=self.consider_pruned)
        finite = np.isfinite(y)
        X, y = X[finite], y[finite]
        if len(y) < max(self.n_initial_points, 2):
            return self._initial_point(space, len(trials) + len(pending))
        X_pending = space.encode_many(list(pending))
        X, y = self._bounded(X, y)
        u = self._propose(X, y, X_pending, self._cache.encode(space, trials))
        return space.decode(u)

    def _bounded(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At most ``max_history`` observations: the best quarter plus the most recent."""
        if len(y) <= self.max_history:
            return X, y
        n_best = self.max_history // 4
        keep = set(np.argsort(y, kind="stable")[:n_best].tolist())
        for i in range(len(y) - 1, -1, -1):
            if len(keep) >= self.max_history:
                break
            keep.add(i)
        idx = np.array(sorted(keep))
        return X[idx], y[idx]

    def _propose(self, X: np.ndarray, y: np.ndarray, X_pending: np.ndarray, X_seen: np.ndarray) -> np.ndarray:
        layout = self._layout
        one_hot = self.surrogate == "gp"
        z = _warp(y)
        model = self._model.fit(_features(X, layout, one_hot), z)
        best = z.min()
        if len(X_pending):
            if self.liar == "kriging_believer":
                lies = model.predict(_features(X_pending, layout, one_hot))[0]
            else:
                lie = {"cl_min": z.min(), "cl_mean": z.mean(), "cl_max": z.max()}[self.liar]
                lies = np.full(len(X_pending), lie)
            model = model.condition(_features(np.vstack([X, X_pending]), layout, one_hot), np.concatenate([z, lies]))
            best = min(best, lies.min())  # a believed value below the best is an improvement already claimed

        def score(U: np.ndarray) -> np.ndarray:
            mean, std = model.predict(_features(U, layout, one_hot))
            if self.acquisition == "ucb":
                return -(mean - self.kappa * std)
            return _log_expected_improvement((best - mean - self.xi) / std) + np.log(std)

        taken = np.vstack([X_seen, X_pending]) if len(X_pending) else X_seen
        return self._maximize(score, X[np.argsort(y, kind="stable")[:5]], taken)

    def _perturb(self, centers: np.ndarray, n_each: int, scale: float) -> np.ndarray:
        """``n_each`` neighbours of each center: Gaussian steps of ``scale`` on a random subset of the axes
        (each axis with probability ~ 3/d, at least one), categorical axes re-drawn instead of stepped."""
        layout = self._layout
        d = len(layout.dims)
        U = np.repeat(centers, n_each, axis=0)
        mask = self.rng.random(U.shape) < min(1.0, 3.0 / d)
        mask[np.arange(len(U)), self.rng.integers(d, size=len(U))] = True
        step = scale * self.rng.standard_normal(U.shape)
        U[:, layout.num] += np.where(mask, step, 0.0)[:, layout.num]
        for j in layout.cat:
            flip = mask[:, j] & (self.rng.random(len(U)) < min(0.5, 4 * scale))
            U[flip, j] = self.rng.random(int(flip.sum()))
        return layout.snap(np.clip(U, 0.0, 1.0))

    def _maximize(self, score: Any, elite: np.ndarray, taken: np.ndarray) -> np.ndarray:
        """Best-scoring new point: random candidates plus neighbours of the best observations, then rounds of
        local search with shrinking steps around the current leaders."""
        layout, d = self._layout, len(self._layout.dims)
        U = np.vstack(
            [
                layout.snap(self.rng.random((self.n_candidates, d))),
                self._perturb(elite, 50, 0.1),
                self._perturb(elite, 50, 0.02),
            ]
        )
        values = score(U)
        for scale in (0.1, 0.05, 0.025, 0.012, 0.006, 0.003):
            leaders = U[np.argsort(-values)[:5]]
            local = self._perturb(leaders, 50, scale)
            U, values = np.vstack([U, local]), np.concatenate([values, score(local)])
        for i in np.argsort(-values):
            if not _is_taken(U[i], taken):
                return U[i]
        return layout.snap(self.rng.random((1, d)))[0]  # every candidate was tried: fall back to random

    def __repr__(self) -> str:
        return (
            f"BOSampler(seed={self.seed!r}, surrogate={self.surrogate!r}, acquisition={self.acquisition!r}, "
            f"liar={self.liar!r})"
        )


def _log_expected_improvement(t: np.ndarray) -> np.ndarray:
    """log(t Phi(t) + phi(t)), the expected improvement of a unit Gaussian over a margin t standard deviations
    below its mean, accurate far into the left tail (where EI itself underflows to 0 and ranks nothing)."""
    t = np.asarray(t, dtype=float)
    out = np.empty_like(t)
    near = t > -5.0
    tn = t[near]
    out[near] = np.log(tn * ndtr(tn) + np.exp(-0.5 * tn * tn) / _SQRT_2PI)
    tf = t[~near]
    # t Phi(t) + phi(t) = phi(t) (1 + t Phi(t)/phi(t)), and Phi(t)/phi(t) = sqrt(pi/2) erfcx(-t/sqrt(2))
    rest = 1.0 + tf * math.sqrt(math.pi / 2) * erfcx(-tf / math.sqrt(2))
    tail = np.where(tf > -1e4, np.log(np.maximum(rest, 1e-300)), -2.0 * np.log(-tf))
    out[~near] = -0.5 * tf * tf - math.log(_SQRT_2PI) + tail
    return out


def _is_taken(u: np.ndarray, taken: np.ndarray, tol: float = 1e-9) -> bool:
    return bool(len(taken)) and bool(np.any(np.max(np.abs(taken - u), axis=1) <= tol))
