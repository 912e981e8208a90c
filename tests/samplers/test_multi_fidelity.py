"""The samplers' ``multi_fidelity`` option (BOHB-style): model the largest budget with enough observations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import hypersweep as hs
from hypersweep.samplers._cube import _EncodingCache, _fidelity_history
from hypersweep.samplers.base import fidelity_xy
from hypersweep.samplers.bo import BOSampler
from hypersweep.samplers.tpe import TPESampler
from hypersweep.space import Space
from hypersweep.trial import Trial, TrialPruned, TrialState

SPACE = Space({"x": (0.0, 1.0)})
GOOD_X = 0.2


def _curve(x: float, step: int, noise: float) -> float:
    """A learning curve whose ranking at every step already points at x = 0.2."""
    return (x - GOOD_X) ** 2 + 0.3 / step + noise / step


def pruned_history(seed: int = 0) -> list[Trial]:
    """What a Hyperband search looks like early on: 38 trials PRUNED with informative intermediate values (all
    ran 1 step, the best third of them also a 3rd), and 2 COMPLETE trials (9 steps) far from the good region."""
    rng = np.random.default_rng(seed)
    xs = rng.random(38)
    noise = 0.01 * rng.standard_normal(38)
    survivors = set(np.argsort([_curve(x, 1, e) for x, e in zip(xs, noise, strict=True)])[:12].tolist())
    trials = []
    for i, (x, e) in enumerate(zip(xs, noise, strict=True)):
        inter = {s: _curve(float(x), s, float(e)) for s in ((1, 3) if i in survivors else (1,))}
        trials.append(Trial(i, {"x": float(x)}, TrialState.PRUNED, value=inter[max(inter)], intermediate=inter))
    for x in (0.75, 0.95):
        inter = {s: _curve(x, s, 0.0) for s in (1, 3, 9)}
        trials.append(Trial(len(trials), {"x": x}, TrialState.COMPLETE, value=inter[9], intermediate=inter))
    return trials


def plain_history(seed: int = 0, n: int = 15) -> list[Trial]:
    rng = np.random.default_rng(seed)
    xs = rng.random(n)
    return [Trial(i, {"x": float(x)}, TrialState.COMPLETE, value=float((x - GOOD_X) ** 2)) for i, x in enumerate(xs)]


def median_distance(sampler: Any, trials: list[Trial], n: int = 20) -> float:
    return float(np.median([abs(sampler.ask(SPACE, trials, [], "minimize")["x"] - GOOD_X) for _ in range(n)]))


# ---------------------------------------------------------------------------------------------------------
# the cached history is exactly `fidelity_xy`
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("min_points", [1, 3, 10, 25, 200])
def test_fidelity_history_matches_fidelity_xy(direction: str, min_points: int) -> None:
    rng = np.random.default_rng(min_points)
    space = Space({"x": (0.0, 1.0), "k": ["a", "b", "c"]})
    trials = []
    for number in range(60):
        config = space.sample(rng)
        kind = number % 6
        if kind == 0:  # completed without reporting
            trials.append(Trial(number, config, TrialState.COMPLETE, value=float(rng.random())))
        elif kind == 1:  # pruned without reporting
            trials.append(Trial(number, config, TrialState.PRUNED))
        elif kind == 2:  # failed after reporting: never used
            trials.append(Trial(number, config, TrialState.FAILED, intermediate={1: 0.5}))
        else:
            steps = sorted(set(rng.integers(1, 30, size=int(rng.integers(1, 5))).tolist()))
            inter = {int(s): float(rng.random()) for s in steps}
            if number % 17 == 3:
                inter[steps[0]] = math.nan
            state = TrialState.COMPLETE if kind == 3 else TrialState.PRUNED
            trials.append(Trial(number, config, state, value=inter[steps[-1]], intermediate=inter))
    X, y, budget = fidelity_xy(space, trials, direction, min_points)
    X2, y2, budget2, X_pruned = _fidelity_history(space, trials, direction, min_points, _EncodingCache())
    assert budget2 == budget
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    silent_pruned = sum(t.state == TrialState.PRUNED and not t.intermediate for t in trials)
    assert silent_pruned <= len(X_pruned) <= sum(t.state == TrialState.PRUNED for t in trials)


def test_fidelity_history_without_reports_is_completed_xy() -> None:
    trials = [*plain_history(n=5), Trial(5, {"x": 0.5}, TrialState.PRUNED)]
    X, y, budget, X_pruned = _fidelity_history(SPACE, trials, "minimize", 10, _EncodingCache())
    assert budget is None and len(y) == 5 and X_pruned.tolist() == [[0.5]]


# ---------------------------------------------------------------------------------------------------------
# learning from pruned trials
# ---------------------------------------------------------------------------------------------------------
def test_tpe_multi_fidelity_concentrates_on_the_good_region() -> None:
    trials = pruned_history()
    on = median_distance(TPESampler(seed=1, multi_fidelity=True), trials)
    off = median_distance(TPESampler(seed=1, multi_fidelity=False), trials)
    assert on < 0.1
    assert off > 0.3  # only the two (bad) complete trials inform it
    assert on < off / 3


def test_bo_multi_fidelity_concentrates_on_the_good_region() -> None:
    trials = pruned_history()
    on = median_distance(BOSampler(seed=1, multi_fidelity=True), trials)
    # only COMPLETE trials: two, fewer than n_initial_points, so still the (random) initial design
    off = median_distance(BOSampler(seed=1, multi_fidelity=False, consider_pruned=False), trials)
    assert on < 0.05
    assert off > 0.15
    assert on < off / 3


@pytest.mark.parametrize("make", [TPESampler, BOSampler])
def test_startup_counts_observations_at_the_budget(make: Any) -> None:
    """Nine pruned trials are not enough to leave the random phase (10 needed at the chosen budget)."""
    trials = pruned_history()[:9]
    sampler, reference = make(seed=3, multi_fidelity=True), np.random.default_rng(3)
    if make is TPESampler:  # TPE's random phase is space.sample with the sampler's RNG
        assert sampler.ask(SPACE, trials, [], "minimize") == SPACE.sample(reference)
    else:
        only_complete = BOSampler(seed=3, multi_fidelity=False, consider_pruned=False)  # one COMPLETE trial
        assert sampler.ask(SPACE, trials, [], "minimize") == only_complete.ask(SPACE, trials, [], "minimize")


@pytest.mark.parametrize("make", [TPESampler, BOSampler])
def test_auto_turns_on_exactly_when_trials_reported(make: Any) -> None:
    def proposals(history: list[Trial], multi_fidelity: bool | None) -> list[float]:
        sampler = make(seed=5, multi_fidelity=multi_fidelity)
        return [sampler.ask(SPACE, history, [], "minimize")["x"] for _ in range(3)]

    reported = pruned_history()
    assert make().multi_fidelity is None
    assert proposals(reported, None) == proposals(reported, True)
    assert proposals(reported, None) != proposals(reported, False)
    plain = plain_history() + [Trial(15, {"x": 0.9}, TrialState.PRUNED, value=1.0)]
    assert proposals(plain, None) == proposals(plain, False)


@pytest.mark.parametrize("make", [TPESampler, BOSampler])
def test_multi_fidelity_is_checked(make: Any) -> None:
    with pytest.raises(ValueError, match="multi_fidelity"):
        make(multi_fidelity="yes")


# ---------------------------------------------------------------------------------------------------------
# a real Hyperband search
# ---------------------------------------------------------------------------------------------------------
def _learning_curve_objective(config: dict[str, Any], trial: Any) -> float:
    """Loss after ``step`` of 27 epochs: a narrow optimum at (0.2, 0.7) (loss 0 after the last epoch) plus a
    decaying term that shifts every config alike, so the low-budget ranking is the final ranking."""
    base = 10 * ((config["x"] - 0.2) ** 2 + (config["y"] - 0.7) ** 2)
    loss = base
    for step in range(1, 28):
        loss = base + 1.0 / step - 1.0 / 27
        trial.report(loss, step=step)
        if trial.should_stop():
            raise TrialPruned()
    return loss


def _search(sampler: str, seed: int) -> Any:
    study = hs.create_study(
        {"x": (0.0, 1.0), "y": (0.0, 1.0)},
        sampler=sampler,
        scheduler=hs.get_scheduler("hyperband", max_resource=27),
        seed=seed,
    )
    study.optimize(_learning_curve_objective, n_trials=40, progress=False)
    return study


def test_hyperband_search_with_tpe_beats_random() -> None:
    tpe, rand = [], []
    for seed in range(3):
        study = _search("tpe", seed)
        states = [t.state for t in study.trials]
        assert len(states) == 40 and TrialState.PRUNED in states and TrialState.COMPLETE in states
        assert study.sampler.multi_fidelity is None  # auto: on once trials report
        tpe.append(study.best_value)
        rand.append(_search("random", seed).best_value)
    assert all(t < r for t, r in zip(tpe, rand, strict=True)), (tpe, rand)
    assert np.mean(tpe) < 0.5 * np.mean(rand), (tpe, rand)


def test_enough_completed_trials_means_their_final_values_are_modelled() -> None:
    from hypersweep.samplers.base import select_fidelity

    # the objective reports a training loss but returns a different final metric: once enough trials
    # complete, the final metric (the real objective) is what the model sees
    trials = [
        Trial(i, {"x": i / 10}, TrialState.COMPLETE, value=100.0 + i, intermediate={1: float(i), 2: float(i)})
        for i in range(6)
    ]
    pairs, budget, left_out = select_fidelity(trials, min_points=5)
    assert budget is None and [v for _, v in pairs] == [100.0 + i for i in range(6)] and left_out == []
    pairs, budget, _ = select_fidelity(trials, min_points=7)
    assert budget == 1 and [v for _, v in pairs] == [float(i) for i in range(6)]  # too few anywhere: lowest step
