"""Behaviour shared by the model-based samplers (TPE and BO): reproducibility, validity, quality, pending trials.

Each test would fail on a broken sampler: same seed -> same configs, all configs valid, better than random.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hypersweep.samplers import RandomSampler, get_sampler
from hypersweep.samplers.bo import BOSampler
from hypersweep.samplers.tpe import TPESampler
from hypersweep.space import Space
from hypersweep.testing.functions import Branin
from hypersweep.trial import Trial, TrialState

FACTORIES = {
    "tpe": lambda seed: TPESampler(seed=seed),
    "tpe-univariate": lambda seed: TPESampler(seed=seed, multivariate=False),
    "bo-gp": lambda seed: BOSampler(seed=seed, n_candidates=200),
    "bo-rf": lambda seed: BOSampler(seed=seed, surrogate="rf", n_candidates=200),
    "bo-et": lambda seed: BOSampler(seed=seed, surrogate="et", acquisition="ucb", n_candidates=200),
}


def _configs(trials: list[Trial]) -> list[dict]:
    return [t.config for t in trials]


@pytest.mark.parametrize("name", FACTORIES)
def test_same_seed_same_sequence(name, loop, space, objective):
    first = _configs(loop(FACTORIES[name](7), space, objective, 30))
    second = _configs(loop(FACTORIES[name](7), space, objective, 30))
    other = _configs(loop(FACTORIES[name](8), space, objective, 15))
    assert first == second
    assert first[:15] != other
    # the model-based part ran: some configs after the initial design differ from a pure random sequence
    random_run = _configs(loop(RandomSampler(seed=7), space, objective, 30))
    assert first[12:] != random_run[12:]


@pytest.mark.parametrize("name", FACTORIES)
def test_configs_are_valid_in_a_mixed_space(name, loop, space, objective):
    trials = loop(FACTORIES[name](0), space, objective, 25)
    seen_shapes = set()
    for t in trials:
        assert space.validate(t.config) == t.config
        assert t.config["epochs"] == 3 and t.config["name"] == "fixed"
        assert set(t.config) == set(space)
        assert t.config["shape"] in space["shape"].choices  # the choice object itself, tuples kept
        seen_shapes.add(repr(t.config["shape"]))
    assert len(seen_shapes) >= 2
    # the model found the basin: better than the median of its own random start
    values = [t.value for t in trials]
    assert min(values[12:]) < np.median(values[:10])


@pytest.mark.parametrize("name", ["tpe", "bo-gp"])
def test_maximize_direction(name, loop):
    space = Space({"x": (0.0, 1.0), "y": (0.0, 1.0)})

    def hill(c):
        return -((c["x"] - 0.3) ** 2 + (c["y"] - 0.7) ** 2)

    def late_distance(trials):
        late = np.array([[t.config["x"], t.config["y"]] for t in trials[15:]])
        return np.median(np.hypot(late[:, 0] - 0.3, late[:, 1] - 0.7))

    up = loop(FACTORIES[name](1), space, hill, 30, "maximize")
    down = loop(FACTORIES[name](1), space, hill, 30, "minimize")
    best = max(up, key=lambda t: t.value)
    assert abs(best.config["x"] - 0.3) < 0.15 and abs(best.config["y"] - 0.7) < 0.15
    assert late_distance(up) < 0.35 < late_distance(down)  # climbing the hill vs fleeing it


def test_tpe_and_bo_beat_random_on_branin(loop):
    branin = Branin()
    regrets = {"tpe": [], "bo": [], "random": []}
    for seed in range(3):
        for name, sampler in (
            ("tpe", TPESampler(seed=seed)),
            ("bo", BOSampler(seed=seed, n_candidates=200)),
            ("random", RandomSampler(seed=seed)),
        ):
            trials = loop(sampler, branin.space, branin, 40)
            regrets[name].append(min(t.value for t in trials) - branin.optimum)
    medians = {name: float(np.median(r)) for name, r in regrets.items()}
    assert medians["tpe"] < medians["random"], medians
    assert medians["bo"] < medians["random"], medians
    assert medians["bo"] < 0.05, medians


def _spread_after_pending(sampler, n_done: int = 15) -> np.ndarray:
    branin = Branin()
    rng = np.random.default_rng(0)
    trials = []
    for number in range(n_done):
        config = branin.space.sample(rng)
        trials.append(Trial(number, config, TrialState.COMPLETE, value=branin(config)))
    pending: list[dict] = []
    for _ in range(4):
        pending.append(sampler.ask(branin.space, trials, pending, "minimize"))
    return branin.space.encode_many(pending)


@pytest.mark.parametrize(
    "sampler",
    [TPESampler(seed=0)]
    + [BOSampler(seed=0, liar=liar, n_candidates=300) for liar in ("cl_min", "cl_mean", "cl_max", "kriging_believer")]
    + [BOSampler(seed=0, surrogate="et", n_candidates=300)],
    ids=lambda s: repr(s),
)
def test_pending_configs_push_workers_apart(sampler):
    points = _spread_after_pending(sampler)
    distances = [np.abs(a - b).max() for a, b in itertools.combinations(points, 2)]
    assert min(distances) > 0.01, points  # 4 distinct points, apart, not the same one handed out 4 times


def test_pending_changes_the_proposal():
    """With the same history and RNG state, a pending config moves the next proposal away from it."""
    branin = Branin()
    rng = np.random.default_rng(1)
    trials = []
    for number in range(20):
        config = branin.space.sample(rng)
        trials.append(Trial(number, config, TrialState.COMPLETE, value=branin(config)))
    for make in (lambda: TPESampler(seed=3), lambda: BOSampler(seed=3, n_candidates=300)):
        alone = make().ask(branin.space, trials, [], "minimize")
        with_pending = make().ask(branin.space, trials, [alone], "minimize")
        assert with_pending != alone


def test_bo_never_repeats_a_config_in_a_continuous_space(loop):
    space = Space({"x": (0.0, 1.0)})
    trials = loop(BOSampler(seed=0, n_initial_points=3, n_candidates=200), space, lambda c: (c["x"] - 0.5) ** 2, 25)
    xs = [t.config["x"] for t in trials]
    assert len(set(xs)) == len(xs)


@pytest.mark.parametrize("name", ["tpe", "bo", "bo-rf"])
def test_small_discrete_space_runs_past_exhaustion(name, loop):
    space = Space({"a": ["x", "y"], "b": (1, 2)})
    trials = loop(get_sampler(name, seed=0), space, lambda c: (c["a"] == "x") + c["b"], 15)
    assert all(space.validate(t.config) == t.config for t in trials)
    assert min(t.value for t in trials) == 1


@pytest.mark.parametrize("name", ["tpe", "bo"])
def test_pruned_failed_and_valueless_trials_are_tolerated(name):
    space = Space({"x": (0.0, 1.0), "k": ["a", "b"]})
    rng = np.random.default_rng(0)
    trials = []
    for number in range(24):
        config = space.sample(rng)
        state = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED][number % 3]
        value = config["x"] if state is TrialState.COMPLETE else (5.0 if number % 2 else None)
        trials.append(Trial(number, config, state, value=value, intermediate={1: 5.0}))
    sampler = get_sampler(name, seed=0)
    for _ in range(3):
        assert space.validate(sampler.ask(space, trials, [], "minimize"))


@pytest.mark.parametrize("name", ["tpe", "bo"])
def test_constant_only_space(name):
    space = Space({"a": 1, "b": "x"})
    assert get_sampler(name, seed=0).ask(space, [], [], "minimize") == {"a": 1, "b": "x"}


def test_registry_builds_the_model_samplers():
    assert isinstance(get_sampler("tpe", seed=1), TPESampler)
    for name, surrogate in (("bo", "gp"), ("bo-gp", "gp"), ("bo-rf", "rf"), ("bo-et", "et")):
        sampler = get_sampler(name, seed=1)
        assert isinstance(sampler, BOSampler) and sampler.surrogate == surrogate


def test_an_ordered_list_of_numbers_is_learned_as_a_numeric_axis(loop):
    """A long monotone list (scikit-learn users pass np.logspace(...)) is modelled by the choice's position: the
    models generalize from a choice to its neighbours, which they cannot across 1,000 unrelated categories."""
    from hypersweep.samplers._cube import _Layout
    from hypersweep.space import Categorical

    alphas = [float(a) for a in np.logspace(-6, -2, 1000)]
    space = Space({"alpha": Categorical(alphas), "batch": Categorical([512, 256, 128, 64]),
                   "codes": Categorical([3, 1, 2]), "act": Categorical(["relu", "tanh", "logistic"])})
    layout = _Layout(space)
    assert sorted(layout.centers) == [0, 1] and list(layout.cat) == [2, 3]  # unsorted codes stay categorical

    def objective(c):  # best near alpha = 1e-4.3, batch 128, act tanh
        return (np.log10(c["alpha"]) + 4.3) ** 2 + abs(np.log2(c["batch"]) - 7) + (c["act"] != "tanh")

    for name in ("tpe", "bo"):
        gaps = []
        for seed in range(3):
            trials = loop(get_sampler(name, seed=seed), space, objective, 40)
            assert all(t.config["alpha"] in alphas for t in trials)
            best = min(trials, key=lambda t: t.value)
            gaps.append(abs(np.log10(best.config["alpha"]) + 4.3))
        random_gaps = [abs(np.log10(min(loop(RandomSampler(seed=s), space, objective, 40), key=lambda t: t.value)
                                    .config["alpha"]) + 4.3) for s in range(3)]
        assert np.median(gaps) < 0.1 and np.median(gaps) < np.median(random_gaps) / 2, (name, gaps, random_gaps)
