"""Driver mode: `Bracket.instructions` / `Hyperband.instructions` driven on deterministic fake models.

Planned metadata must equal what a driver that obeys the instructions actually does.
"""

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.schedulers import Bracket, Hyperband, Rung, SuccessiveHalving
from hypersweep.testing.simulator import run_bracket, run_hyperband


def quality(model) -> float:
    """A deterministic pseudo-random number in [0, 1) per model id."""
    key = hash(model) if not isinstance(model, int) else model
    return (key * 2654435761 % 2**32) / 2**32


def learning(model, step) -> float:
    """Score (higher is better) that improves with steps; models' curves cross (different speeds)."""
    q = quality(model)
    return q - (1.0 - q) * 0.5 / step


@pytest.mark.parametrize("score_every_step", [True, False])
def test_hyperband_driver_performs_the_planned_calls(score_every_step):
    hb = Hyperband(max_resource=81, reduction_factor=3)
    run = run_hyperband(hb, learning, score_every_step=score_every_step)
    assert run.metadata == hb.metadata
    assert run.metadata["n_models"] == 143 and run.metadata["partial_fit_calls"] == 1581


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(R=st.integers(1, 120), eta=st.integers(2, 5), r_min=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_hyperband_driver_matches_plan_for_any_arguments(R, eta, r_min, seed):
    if r_min > R:
        return
    hb = Hyperband(max_resource=R, reduction_factor=eta, min_resource=r_min)
    run = run_hyperband(hb, lambda m, step: learning((m, seed), step))
    assert run.metadata == hb.metadata


@pytest.mark.parametrize("n_models", [1, 2, 5, 27, 40, 81])
def test_kept_models_are_the_best_at_each_rung(n_models):
    bracket = SuccessiveHalving(min_resource=1, max_resource=27, reduction_factor=3).bracket(n_models)
    run = run_bracket(bracket, learning)
    assert run.metadata == bracket.metadata
    for rung, following in itertools.pairwise(bracket.rungs):
        reached = [m for m, s in run.steps.items() if s >= rung.resource]
        ranked = sorted(reached, key=lambda m: -learning(m, rung.resource))
        survivors = {m for m, s in run.steps.items() if s >= following.resource}
        assert survivors == set(ranked[: following.n_models])
    assert max(run.steps.values()) == 27


def test_instructions_step_by_step():
    bracket = SuccessiveHalving(max_resource=9, reduction_factor=3).bracket(n_models=9)
    models = list("abcdefghi")
    info = {m: [] for m in models}
    assert bracket.instructions(info) == dict.fromkeys(models, 1)  # everyone to the first rung
    info = {m: [(1, float(i))] for i, m in enumerate(models)}  # i is best
    before = {m: list(v) for m, v in info.items()}
    expected = {**dict.fromkeys("abcdef", 0), "g": 2, "h": 2, "i": 2}
    assert bracket.instructions(info) == expected
    assert bracket.instructions(info) == expected  # pure: same info, same answer
    assert info == before  # and info is not touched
    info["i"] += [(2, 8.0), (3, 8.5)]  # "i" reached rung 3 and waits for the stragglers
    assert bracket.instructions(info) == {**dict.fromkeys("abcdef", 0), "g": 2, "h": 2}
    info["g"] += [(3, 9.0)]  # a single score after a batch of steps is enough
    info["h"] += [(3, 1.0)]
    assert bracket.instructions(info) == {**dict.fromkeys("abcdefhi", 0), "g": 6}
    info["g"] += [(9, 9.5)]
    assert bracket.instructions(info) == {}  # done


def test_instructions_edge_cases():
    bracket = SuccessiveHalving(max_resource=9).bracket(n_models=3)
    assert bracket.instructions({}) == {}
    # NaN scores rank last; ties go to the model listed first.
    info = {"nan": [(1, math.nan)], "x": [(1, 0.5)], "y": [(1, 0.5)]}
    assert bracket.instructions(info) == {"nan": 0, "y": 0, "x": 2}
    # More models than planned: all start, the planned number go on.
    big = {m: [(1, float(m))] for m in range(6)}
    assert [m for m, n in bracket.instructions(big).items() if n] == [5]


def test_hyperband_instructions_by_bracket():
    hb = Hyperband(max_resource=9, reduction_factor=3)
    assert hb.instructions({}) == {}  # a bracket missing from info has no models, so nothing to do
    info = {s: {(s, i): [] for i in range(b.n_models)} for s, b in hb.brackets().items()}
    todo = hb.instructions(info)
    assert {s: set(t.values()) for s, t in todo.items()} == {2: {1}, 1: {3}, 0: {9}}
    assert {s: len(t) for s, t in todo.items()} == {2: 9, 1: 5, 0: 3}
    info[0] = {m: [(9, 0.0)] for m in info[0]}  # bracket 0 done: left out
    assert set(hb.instructions(info)) == {2, 1}


def test_bracket_validates_its_rungs():
    with pytest.raises(ValueError, match="strictly increasing resources"):
        Bracket(rungs=(Rung(3, 9), Rung(3, 3)), reduction_factor=3)
    with pytest.raises(ValueError, match="non-increasing model counts"):
        Bracket(rungs=(Rung(1, 3), Rung(3, 9)), reduction_factor=3)
