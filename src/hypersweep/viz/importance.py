"""Parameter importances of a study: fANOVA on a random forest, and PED-ANOVA (fast, no model).

Both work in the unit cube of the study's space (log-scaled parameters on their log scale, categorical ones by
choice), on the complete trials, and return importances that sum to 1, most important first.

- ``"fanova"`` (Hutter, Hoos & Leyton-Brown 2014): a random forest is fitted to the objective; for each tree,
  the variance of its prediction that one parameter explains on its own (its main effect, the other
  parameters integrated out over the space) is divided by the tree's total variance; averaged over trees.
- ``"ped_anova"`` (Watanabe, Bansal & Hutter 2023): how differently the best trials (the top ``quantile``)
  are spread over a parameter than all trials, as the Pearson divergence of the two histograms. No model is
  fitted, so it costs milliseconds for thousands of trials.

>>> import hypersweep as hs
>>> study = hs.create_study({"a": (-1.0, 1.0), "b": (-1.0, 1.0)}, sampler="random", seed=0)
>>> study.optimize(lambda c: 10 * c["a"] ** 2 + 0.1 * c["b"] ** 2, n_trials=60, progress=False)
>>> ranked = hs.importances(study)
>>> list(ranked), ranked["a"] > 0.8
(['a', 'b'], True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hypersweep._validation import check_choice, check_int, check_number, invalid
from hypersweep.space import Categorical

__all__ = ["METHODS", "importances"]

#: the methods `importances` knows
METHODS = ("fanova", "ped_anova")


def importances(
    study: Any,
    method: str = "fanova",
    target: Callable[[Any], float] | None = None,
    params: Sequence[str] | None = None,
    seed: int = 0,
    n_trees: int = 64,
    quantile: float = 0.1,
) -> dict[str, float]:
    """Importance of each searched parameter (summing to 1, most important first).

    ``target`` scores a trial instead of its objective value (e.g. ``lambda t: t.duration``: which parameters
    decide how long a trial takes); ``params`` limits the parameters; ``seed`` fixes the forest of
    ``"fanova"`` (``n_trees`` trees); ``quantile`` is the share of best trials ``"ped_anova"`` compares with
    all (best by the study's direction; by the largest ``target`` values when a target is given).
    """
    check_choice("method", method, METHODS, 'method="fanova" (a random forest) or "ped_anova" (fast)')
    from hypersweep.viz.data import _check_target

    _check_target(study, target)  # several objectives: say which value to explain
    names, X, y = _design(study, target, params)
    if len(names) == 0 or len(y) < 2:
        return {}
    if method == "fanova":
        check_int("n_trees", n_trees, minimum=1, fix="a forest of 32 to 128 trees is usual")
        raw = _fanova(X, y, seed, n_trees)
    else:
        check_number("quantile", quantile, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                     fix="the share of best trials, e.g. quantile=0.1")
        sign = 1.0 if target is not None else float(study.direction.sign)
        levels = [len(p.choices) if isinstance(p, Categorical) else None for p in (study.space[n] for n in names)]
        raw = _ped_anova(X, sign * y, quantile, levels)
    total = float(raw.sum())
    shares = raw / total if total > 0 else np.full(len(names), 1.0 / len(names))
    order = np.argsort(-shares, kind="stable")
    return {names[i]: float(shares[i]) for i in order}


def _design(study: Any, target: Callable[[Any], float] | None, params: Sequence[str] | None):
    """Parameter names, unit-cube points (n, d) and targets of the complete trials."""
    space = study.space
    dims = list(space.dims)
    if params is not None:
        unknown = [p for p in params if p not in dims]
        if unknown:
            raise invalid("params", list(params), f"names of searched parameters ({dims})",
                          f"{unknown} are not searched parameters of this study")
        dims = list(params)
    rows, values = [], []
    for trial in study.trials:
        if trial.state.value != "complete" or any(n not in trial.config for n in dims):
            continue
        value = target(trial) if target is not None else trial.value
        if value is None or not np.isfinite(float(value)):
            continue
        rows.append([space[n].encode(trial.config[n]) for n in dims])
        values.append(float(value))
    return dims, np.asarray(rows, dtype=float).reshape(len(rows), len(dims)), np.asarray(values, dtype=float)


# --- fANOVA ------------------------------------------------------------------------------------------------
def _fanova(X: np.ndarray, y: np.ndarray, seed: int, n_trees: int) -> np.ndarray:
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=n_trees, max_depth=64, min_samples_leaf=1, max_features=1.0,
                                   bootstrap=True, random_state=seed).fit(X, y)
    d = X.shape[1]
    shares = np.zeros(d)
    counted = 0
    for tree in forest.estimators_:
        low, high, value = _leaves(tree.tree_, d)
        volume = np.prod(high - low, axis=1)
        mean = float(volume @ value)
        total = float(volume @ (value - mean) ** 2)
        if total <= 0:
            continue
        counted += 1
        for j in range(d):
            shares[j] += _main_effect_variance(low[:, j], high[:, j], volume, value, mean) / total
    return shares / max(counted, 1)


def _leaves(tree: Any, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hyperrectangles (low, high: (n_leaves, d), in the unit cube) and predictions of a fitted tree."""
    lows, highs, values = [], [], []
    stack = [(0, np.zeros(d), np.ones(d))]
    left, right, feature, threshold = tree.children_left, tree.children_right, tree.feature, tree.threshold
    while stack:
        node, lo, hi = stack.pop()
        if left[node] == -1:
            lows.append(lo)
            highs.append(hi)
            values.append(tree.value[node, 0, 0])
            continue
        f, t = feature[node], min(max(threshold[node], lo[feature[node]]), hi[feature[node]])
        hi_left, lo_right = hi.copy(), lo.copy()
        hi_left[f], lo_right[f] = t, t
        stack.append((left[node], lo, hi_left))
        stack.append((right[node], lo_right, hi))
    return np.array(lows), np.array(highs), np.array(values)


def _main_effect_variance(low: np.ndarray, high: np.ndarray, volume: np.ndarray, value: np.ndarray,
                          mean: float) -> float:
    """Variance over x_j of the tree's prediction averaged over every other parameter (uniformly)."""
    cuts = np.unique(np.concatenate([low, high, [0.0, 1.0]]))
    width = np.diff(cuts)
    keep = width > 0
    mids = ((cuts[:-1] + cuts[1:]) / 2)[keep]
    width = width[keep]
    span = high - low
    weight = np.divide(volume, span, out=np.zeros_like(volume), where=span > 0)  # volume of the other axes
    inside = (low[None, :] <= mids[:, None]) & (mids[:, None] < high[None, :])
    marginal = inside @ (weight * value)
    return float(width @ (marginal - mean) ** 2)


# --- PED-ANOVA ---------------------------------------------------------------------------------------------
def _ped_anova(X: np.ndarray, score: np.ndarray, quantile: float, levels: list[int | None]) -> np.ndarray:
    """Pearson divergence between the density of the best trials and that of all trials, per parameter
    (``score``: higher is better). ``levels[j]`` is the number of choices of a categorical parameter (its
    densities are smoothed counts), None for a numeric one (Gaussian kernel densities, Scott's bandwidth)."""
    n = len(score)
    n_top = max(2, int(np.ceil(quantile * n)))
    top = np.argsort(-score, kind="stable")[:n_top]
    out = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        if levels[j] is not None:
            k = levels[j]
            codes = np.minimum((X[:, j] * k).astype(int), k - 1)
            p_all = np.bincount(codes, minlength=k) + 1.0
            p_top = np.bincount(codes[top], minlength=k) + 1.0
        else:
            p_all, p_top = _density(X[:, j]), _density(X[top, j])
        p_all, p_top = p_all / p_all.sum(), p_top / p_top.sum()
        out[j] = float(p_all @ (p_top / p_all - 1.0) ** 2)
    return out


_GRID = np.linspace(0.0, 1.0, 101)


def _density(x: np.ndarray) -> np.ndarray:
    """A Gaussian kernel density of points of [0, 1] on a grid (Scott's bandwidth, at least 0.02)."""
    h = max(1.06 * float(np.std(x)) * len(x) ** -0.2, 0.02)
    return np.exp(-0.5 * ((_GRID[:, None] - x[None, :]) / h) ** 2).sum(axis=1) + 1e-12
