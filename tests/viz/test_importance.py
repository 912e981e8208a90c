"""Importances rank a synthetic function's parameters as they matter: three relevant of decreasing weight, two
irrelevant, for both methods and over 5 seeds."""

from __future__ import annotations

import pytest

import hypersweep as hs
from hypersweep.viz import importances

WEIGHTS = (4.0, 2.0, 1.0, 0.0, 0.0)


def _study(seed: int, n_trials: int = 400):
    study = hs.create_study({f"x{i}": (-1.0, 1.0) for i in range(5)}, sampler="random", seed=seed)
    study.optimize(lambda c: sum(w * c[f"x{i}"] ** 2 for i, w in enumerate(WEIGHTS)), n_trials=n_trials,
                   progress=False)
    return study


@pytest.mark.parametrize("method", ["fanova", "ped_anova"])
@pytest.mark.parametrize("seed", range(5))
def test_importances_rank_a_function_with_known_importances(method, seed):
    ranked = importances(_study(seed), method=method, seed=seed)
    assert list(ranked)[:3] == ["x0", "x1", "x2"]
    assert sum(ranked.values()) == pytest.approx(1.0)
    assert max(ranked["x3"], ranked["x4"]) < ranked["x2"]


def test_importances_are_seeded_and_take_a_target_and_params():
    study = _study(0, 120)
    assert importances(study, seed=3) == importances(study, seed=3)
    only = importances(study, params=["x2", "x3"])
    assert set(only) == {"x2", "x3"} and list(only)[0] == "x2"
    by_number = importances(study, target=lambda t: float(t.number))  # no parameter explains the trial number
    assert set(by_number) == {f"x{i}" for i in range(5)}
    with pytest.raises(ValueError, match="method"):
        importances(study, method="shap")
    with pytest.raises(ValueError, match="not searched parameters"):
        importances(study, params=["nope"])
