"""Options of `BOSampler` and `TPESampler`: every surrogate x acquisition runs, bad arguments fail clearly.

Also the unit-cube helpers they share (snapping discrete axes, the encoding cache).
"""

from __future__ import annotations

import numpy as np
import pytest

from hypersweep.samplers import get_sampler
from hypersweep.samplers._cube import _EncodingCache, _Layout
from hypersweep.samplers.bo import BOSampler
from hypersweep.samplers.tpe import TPESampler, default_gamma
from hypersweep.space import Space
from hypersweep.trial import Trial, TrialState


@pytest.mark.parametrize("surrogate", ["gp", "rf", "et"])
@pytest.mark.parametrize("acquisition", ["ei", "ucb"])
def test_every_surrogate_and_acquisition_runs(surrogate, acquisition, loop, space, objective):
    sampler = BOSampler(seed=0, surrogate=surrogate, acquisition=acquisition, n_initial_points=5, n_candidates=200)
    trials = loop(sampler, space, objective, 12)
    assert all(space.validate(t.config) == t.config for t in trials)
    assert min(t.value for t in trials[5:]) < max(t.value for t in trials[:5])


@pytest.mark.parametrize("design", ["random", "lhs"])
def test_initial_design(design):
    space = Space({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    sampler = BOSampler(seed=0, initial_design=design, n_initial_points=8)
    points = []
    for _ in range(8):  # an equal space rebuilt on every ask (as storage would) keeps the same design
        fresh = Space.from_dict(space.to_dict())
        points.append(space.encode(sampler.ask(fresh, [], [space.decode(p) for p in points], "minimize")))
    points = np.array(points)
    if design == "lhs":  # one point in each of the 8 slices of every axis
        for axis in range(2):
            assert sorted(np.floor(points[:, axis] * 8).astype(int)) == list(range(8))
    assert len({tuple(p) for p in points}) == 8


def test_bo_bounds_the_history_it_models():
    sampler = BOSampler(seed=0, max_history=40)
    X = np.arange(100, dtype=float)[:, None] / 100
    y = np.arange(100, dtype=float)[::-1]  # the most recent are the best
    y[:5] = -1  # ... except the five oldest
    Xb, yb = sampler._bounded(X, y)
    assert len(yb) == 40
    assert set(range(5)) <= set(np.round(Xb[:, 0] * 100).astype(int).tolist())  # the best are kept
    assert 99 in np.round(Xb[:, 0] * 100).astype(int)  # and the most recent


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"surrogate": "xgboost"}, "surrogate='xgboost'"),
        ({"acquisition": "pi"}, "acquisition='pi'"),
        ({"liar": "cl_median"}, "liar='cl_median'"),
        ({"initial_design": "sobol"}, "initial_design='sobol'"),
        ({"n_initial_points": 0}, "n_initial_points"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"max_history": 3}, "max_history"),
        ({"kappa": -1.0}, "kappa"),
    ],
)
def test_bo_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        BOSampler(**kwargs)


def test_registry_passes_bad_arguments_through():
    with pytest.raises(ValueError, match="surrogate='svm'"):
        get_sampler("bo", surrogate="svm")
    with pytest.raises(TypeError):
        get_sampler("tpe", surrogate="gp")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"n_ei_candidates": 0}, "n_ei_candidates"),
        ({"gamma": 1.5}, "gamma"),
        ({"prior_weight": 0.0}, "prior_weight"),
        ({"bandwidth": "silverman"}, "bandwidth"),
        ({"good_weights": "rank"}, "good_weights"),
    ],
)
def test_tpe_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TPESampler(**kwargs)


def test_tpe_gamma_forms():
    assert [default_gamma(n) for n in (1, 6, 7, 100, 250, 10_000)] == [1, 2, 2, 20, 50, 2000]
    assert [default_gamma(n, n_objectives=2) for n in (6, 100, 250)] == [1, 15, 25]
    space = Space({"x": (0.0, 1.0)})
    trials = [Trial(i, {"x": i / 20}, TrialState.COMPLETE, value=(i / 20 - 0.25) ** 2) for i in range(20)]
    for gamma in (0.25, lambda n: 3):
        config = TPESampler(seed=0, gamma=gamma).ask(space, trials, [], "minimize")
        assert abs(config["x"] - 0.25) < 0.3


@pytest.mark.parametrize(
    "direction, outcome",
    [
        # one objective: "a" far better than "b" (losses 0 and 0.99, the best bad one 1.0)
        ("minimize", lambda i: {"value": [0.0, 0.99][i] if i < 2 else 1.0}),
        # two: "b" dominated by "a", so it adds nothing to the good group's hypervolume
        (["minimize", "minimize"], lambda i: {"values": [(0.0, 0.0), (0.5, 0.5)][i] if i < 2 else (1.0 + i, 1.0 + i)}),
    ],
    ids=["improvement", "hypervolume-contribution"],
)
def test_tpe_good_weights_draw_proposals_towards_the_best_good_trial(direction, outcome):
    # two good trials "a" and "b", "a" the better: weighted (by improvement, or by hypervolume contribution),
    # l(x) puts most of its mass on "a"; weighted uniformly, as much on each (one candidate: the proposal is a
    # draw from l(x))
    space = Space({"kind": ["a", "b", "c"]})
    trials = [Trial(i, {"kind": "abc"[min(i, 2)]}, TrialState.COMPLETE, **outcome(i)) for i in range(20)]

    def a_minus_b(good_weights):
        sampler = TPESampler(seed=0, gamma=lambda n: 2, n_ei_candidates=1, good_weights=good_weights)
        kinds = [sampler.ask(space, trials, [], direction)["kind"] for _ in range(400)]
        return (kinds.count("a") - kinds.count("b")) / len(kinds)

    assert a_minus_b("improvement") > 0.2  # expected about 0.33
    assert abs(a_minus_b("uniform")) < 0.1  # expected 0


def test_tpe_startup_is_random_then_model_based():
    space = Space({"x": (0.0, 1.0)})
    sampler = TPESampler(seed=0, n_startup_trials=5)
    trials = [Trial(i, {"x": 0.1 + 0.01 * i}, TrialState.COMPLETE, value=float(i)) for i in range(4)]
    assert space.validate(sampler.ask(space, trials, [], "minimize"))
    trials += [Trial(i, {"x": 0.9}, TrialState.COMPLETE, value=100.0) for i in range(4, 30)]
    near = [sampler.ask(space, trials, [], "minimize")["x"] for _ in range(20)]
    assert np.median(near) < 0.5  # drawn towards the good trials at x ~ 0.1


def test_layout_snaps_discrete_axes_to_their_values():
    space = Space({"i": (1, 4), "c": ["a", "b", "c"], "lg": (1, 1000, "log-uniform"), "f": (0.0, 1.0)})
    layout = _Layout(space)
    U = np.random.default_rng(0).random((200, 4))
    snapped = layout.snap(U.copy())
    for row in snapped:
        config = space.decode(row)
        np.testing.assert_allclose(space.encode(config), row, atol=1e-12)  # a snapped point is a value's code
    np.testing.assert_array_equal(snapped[:, 3], U[:, 3])  # real axes untouched


def test_encoding_cache_matches_space_encoding():
    space = Space({"x": (0.0, 1.0), "k": ["a", "b"]})
    trials = [Trial(i, {"x": i / 10, "k": "ab"[i % 2]}, TrialState.COMPLETE, value=0.0) for i in range(10)]
    cache = _EncodingCache()
    np.testing.assert_array_equal(cache.encode(space, trials), space.encode_many([t.config for t in trials]))
    changed = [t.evolve(config={"x": 0.5, "k": "a"}) if t.number == 3 else t for t in trials]
    np.testing.assert_array_equal(cache.encode(space, changed), space.encode_many([t.config for t in changed]))
    other = Space({"x": (0.0, 2.0), "k": ["a", "b"]})
    np.testing.assert_array_equal(cache.encode(other, trials), other.encode_many([t.config for t in trials]))


@pytest.mark.parametrize("multivariate", [True, False])
def test_parzen_density_is_normalized_and_matches_its_samples(multivariate):
    from hypersweep.samplers.tpe import _Parzen

    space = Space({"x": (0.0, 1.0), "i": (1, 5), "c": ["a", "b", "c"]})
    layout = _Layout(space)
    rng = np.random.default_rng(0)
    points = layout.snap(rng.random((7, 3)))
    parzen = _Parzen(points, layout, prior_weight=1.0, multivariate=multivariate)
    # integrate over the real axis (midpoint rule), sum over the integers and the choices
    grid = (np.arange(2000) + 0.5) / 2000
    total = 0.0
    masses = {}
    for i_center in layout.centers[1]:
        for c_center in (np.arange(3) + 0.5) / 3:
            U = np.column_stack([grid, np.full_like(grid, i_center), np.full_like(grid, c_center)])
            density = np.exp(parzen.log_pdf(U))
            masses[i_center, c_center] = density.mean()
            total += density.mean()
    assert total == pytest.approx(1.0, abs=2e-3)
    # samples land on each (integer, choice) cell as often as the density says
    draws = layout.snap(parzen.sample(rng, 40_000))
    for (i_center, c_center), mass in masses.items():
        freq = np.mean(np.isclose(draws[:, 1], i_center) & np.isclose(draws[:, 2], c_center))
        assert freq == pytest.approx(mass, abs=0.01)


@pytest.mark.parametrize("axis", [(0.0, 1.0), (1, 40), ["a", "b", "c"]], ids=["real", "int", "choice"])
def test_parzen_matrix_form_equals_the_direct_sum_of_kernels(axis, monkeypatch):
    # on one axis the joint (multivariate) density is the per-axis one: the one matrix product with indicator
    # columns and float32 exponentials gives the same log density as the direct per-kernel sum in float64
    from scipy.special import logsumexp

    from hypersweep.samplers import tpe
    from hypersweep.samplers.tpe import _Parzen

    layout = _Layout(Space({"v": axis}))
    rng = np.random.default_rng(1)
    points, at = layout.snap(rng.random((300, 1))), layout.snap(rng.random((50, 1)))
    weights = rng.random(300) + 0.1
    joint = _Parzen(points, layout, prior_weight=1.0, multivariate=True, weights=weights).log_pdf(at)
    monkeypatch.setattr(tpe, "_logsumexp", logsumexp)  # the reference: SciPy's, in float64 throughout
    direct = _Parzen(points, layout, prior_weight=1.0, multivariate=False, weights=weights).log_pdf(at)
    np.testing.assert_allclose(joint, direct, rtol=0, atol=1e-6)


def test_parzen_kernel_weights_scale_each_observations_share_of_the_density():
    from hypersweep.samplers.tpe import _Parzen, _recency_weights

    space = Space({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    layout = _Layout(space)
    points = np.array([[0.1, 0.1], [0.9, 0.9]])
    even = _Parzen(points, layout, prior_weight=1e-9, multivariate=True)
    skewed = _Parzen(points, layout, prior_weight=1e-9, multivariate=True, weights=np.array([1.0, 0.1]))
    # mirror-image kernels k1, k2: at its own point a kernel is a, at the other one b; evenly weighted the density
    # is (a + b) / 2 at both points, weighted 1 : 0.1 it is (a + 0.1 b) / 1.1 at the first, (b + 0.1 a) / 1.1 at
    # the second: they sum to a + b, and their difference is (1 - w) / (1 + w) (a - b) for a weight w
    p_even = np.exp(even.log_pdf(points))
    p_skew = np.exp(skewed.log_pdf(points))
    assert p_even[0] == pytest.approx(p_even[1], rel=1e-9)
    assert p_skew.sum() == pytest.approx(2 * p_even[0], rel=1e-6)
    half = np.exp(_Parzen(points, layout, 1e-9, True, weights=np.array([1.0, 0.5])).log_pdf(points))
    ratio = (p_skew[0] - p_skew[1]) / (half[0] - half[1])
    assert ratio == pytest.approx((0.9 / 1.1) / (0.5 / 1.5), rel=1e-6)
    # 40 bad trials: the 25 most recent weigh 1, the 15 oldest ramp up from 1/40, in trial order
    weights = _recency_weights(np.arange(40)[::-1])
    assert weights[-1] == pytest.approx(1 / 40) and np.all(weights[:25] == 1.0)
    assert np.all(np.diff(weights[25:]) < 0)


def test_log_expected_improvement_is_exact_then_stays_finite_in_the_tail():
    from scipy.special import ndtr

    from hypersweep.samplers.bo import _log_expected_improvement

    t = np.linspace(-30.0, 4.0, 341)
    direct = np.log(t * ndtr(t) + np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi))
    np.testing.assert_allclose(_log_expected_improvement(t), direct, rtol=1e-6)
    far = _log_expected_improvement(np.array([-40.0, -100.0, -1e3, -1e5]))  # plain EI is 0.0 here
    assert np.all(np.isfinite(far)) and np.all(np.diff(far) < 0)


def test_gp_prior_pulls_hyperparameters_to_its_modes_with_an_exact_gradient():
    from scipy import optimize

    from hypersweep.samplers.bo import _with_prior

    def flat(theta, eval_gradient=True):  # a likelihood that says nothing: only the prior is left
        return (0.0, np.zeros_like(theta)) if eval_gradient else 0.0

    objective = _with_prior(flat)
    theta = np.array([0.7, -2.0, 1.5, -4.0])
    value, grad = objective(theta)
    numeric = optimize.approx_fprime(theta, lambda th: objective(th, eval_gradient=False), 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)
    best = optimize.minimize(objective, theta, jac=True, method="L-BFGS-B").x
    np.testing.assert_allclose(np.exp(best), [1.0, 1.0, 1.0, 0.1 / 30], rtol=1e-3)


def test_gp_is_scikit_learns_model():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    from hypersweep.samplers.bo import _GP

    rng = np.random.default_rng(0)
    F = rng.random((30, 4))
    z = np.sin(3 * F).sum(axis=1)
    z = (z - z.mean()) / z.std()
    theta = np.log([1.7, 0.3, 0.8, 1.2, 0.5, 2e-3])
    kernel = (ConstantKernel() * Matern(np.full(4, 0.5), nu=2.5) + WhiteKernel()).clone_with_theta(theta)
    reference = GaussianProcessRegressor(kernel, optimizer=None).fit(F, z)
    lml, grad = reference.log_marginal_likelihood(theta, eval_gradient=True)
    gp = _GP(rng, prior=False)
    value, ours = gp._neg_log_likelihood(F, z)(theta)
    np.testing.assert_allclose([-value, *(-ours)], [lml, *grad], rtol=1e-9)
    gp.theta = theta
    gp.fit(F, z, optimize_hyperparameters=False)
    Q = rng.random((7, 4))
    mean, std = reference.predict(Q, return_std=True)
    np.testing.assert_allclose(gp.predict(Q), (mean, std), rtol=1e-9, atol=1e-12)
    gp.fit(F, z)  # fitted hyperparameters stay inside the bounds and explain the data better than the start
    assert np.all(gp.theta >= gp._bounds(4)[:, 0]) and np.all(gp.theta <= gp._bounds(4)[:, 1])
    assert gp._neg_log_likelihood(F, z)(gp.theta, eval_gradient=False) < value
