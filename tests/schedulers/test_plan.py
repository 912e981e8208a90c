"""Plan arithmetic of successive-halving brackets and Hyperband, checked against the paper's Algorithm 1.

Known totals (dask-ml's max_iter=81, aggressiveness=3 -> 143 models, 1,581 calls) and property tests.
"""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.schedulers import Hyperband, SuccessiveHalving, rung_levels


def paper_hyperband(R, eta):
    """Algorithm 1 of Li et al. (as dask-ml's _hyperband_paper_alg), integer arithmetic, R = eta**k.

    Returns {s: (n_models, partial_fit_calls)}.
    """
    s_max = 0
    while eta ** (s_max + 1) <= R:
        s_max += 1
    assert eta**s_max == R, "the oracle needs R to be a power of eta"
    B = (s_max + 1) * R
    out = {}
    for s in range(s_max, -1, -1):
        n = -(-B * eta**s // (R * (s + 1)))  # ceil(B / R * eta**s / (s + 1))
        r = R // eta**s
        trained = dict.fromkeys(range(n), 0)
        alive = list(range(n))
        for i in range(s + 1):
            for model in alive:
                trained[model] = r * eta**i
            alive = alive[: (n // eta**i) // eta]
        out[s] = (n, sum(trained.values()))
    return out


def test_hyperband_81_3_matches_dask_ml():
    hb = Hyperband(max_resource=81, reduction_factor=3)
    plan = hb.plan()
    assert (plan.n_models, plan.partial_fit_calls) == (143, 1581)
    assert hb.metadata["n_models"] == 143 and hb.metadata["partial_fit_calls"] == 1581
    per_bracket = {b["bracket"]: (b["n_models"], b["partial_fit_calls"]) for b in hb.metadata["brackets"]}
    assert per_bracket == {4: (81, 297), 3: (34, 276), 2: (15, 279), 1: (8, 324), 0: (5, 405)}
    assert [r.resource for r in plan.brackets[4].rungs] == [1, 3, 9, 27, 81]
    assert [r.n_models for r in plan.brackets[4].rungs] == [81, 27, 9, 3, 1]
    assert [(r.resource, r.n_models) for r in plan.brackets[3].rungs] == [(3, 34), (9, 11), (27, 3), (81, 1)]
    assert [(r.resource, r.n_models) for r in plan.brackets[1].rungs] == [(27, 8), (81, 2)]
    assert [(r.resource, r.n_models) for r in plan.brackets[0].rungs] == [(81, 5)]


@pytest.mark.parametrize(
    "R, eta, n_models, calls",
    [(81, 3, 143, 1581), (9, 3, 17, 69), (27, 3, 49, 357), (16, 2, 43, 278), (1, 3, 1, 1)],
)
def test_hyperband_totals(R, eta, n_models, calls):
    plan = Hyperband(max_resource=R, reduction_factor=eta).plan()
    assert (plan.n_models, plan.partial_fit_calls) == (n_models, calls)


@pytest.mark.parametrize(
    "R, eta", [(3, 3), (9, 3), (27, 3), (81, 3), (243, 3), (2, 2), (64, 2), (256, 4), (125, 5)]
)
def test_hyperband_matches_paper_algorithm(R, eta):
    brackets = Hyperband(max_resource=R, reduction_factor=eta).brackets()
    assert {s: (b.n_models, b.partial_fit_calls) for s, b in brackets.items()} == paper_hyperband(R, eta)


def test_min_resource_scales_the_grid():
    plan = Hyperband(max_resource=162, reduction_factor=3, min_resource=2).plan()
    assert list(plan.brackets) == [4, 3, 2, 1, 0]
    assert [r.resource for r in plan.brackets[4].rungs] == [2, 6, 18, 54, 162]
    assert (plan.n_models, plan.partial_fit_calls) == (143, 2 * 1581)


def test_off_grid_max_resource_raises_the_last_rung():
    plan = Hyperband(max_resource=100, reduction_factor=3).plan()
    assert [r.resource for r in plan.brackets[4].rungs] == [1, 3, 9, 27, 100]
    assert [r.resource for r in plan.brackets[0].rungs] == [100]
    assert all(b.max_resource == 100 for b in plan.brackets.values())


def test_successive_halving_bracket_plan():
    b = SuccessiveHalving(min_resource=1, max_resource=81, reduction_factor=3).bracket(n_models=81)
    assert b.metadata == {
        "n_models": 81,
        "partial_fit_calls": 297,
        "rungs": [{"resource": r, "n_models": n} for r, n in [(1, 81), (3, 27), (9, 9), (27, 3), (81, 1)]],
    }
    # Too few models for every rung: the best one still reaches max_resource.
    small = SuccessiveHalving(max_resource=81).bracket(n_models=4)
    assert [r.n_models for r in small.rungs] == [4, 1, 1, 1, 1]


def test_rung_levels():
    assert rung_levels(1, 3, 81) == [1, 3, 9, 27]
    assert rung_levels(1, 3, 80) == [1, 3, 9, 27][:3]
    assert rung_levels(1, 3, None, up_to=27) == [1, 3, 9, 27]
    assert rung_levels(5, 2, 9) == []
    assert SuccessiveHalving(max_resource=81, min_early_stopping_rate=2).rungs() == [9, 27]
    assert SuccessiveHalving().rungs(up_to=10) == [1, 3, 9]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    R=st.integers(1, 5000),
    eta=st.integers(2, 6),
    r_min=st.integers(1, 20),
)
def test_hyperband_plan_properties(R, eta, r_min):
    if r_min > R:
        with pytest.raises(ValueError, match="max_resource must be >= min_resource"):
            Hyperband(max_resource=R, reduction_factor=eta, min_resource=r_min)
        return
    hb = Hyperband(max_resource=R, reduction_factor=eta, min_resource=r_min)
    s_max = hb.s_max
    assert r_min * eta**s_max <= R < r_min * eta ** (s_max + 1)
    plan = hb.plan()
    assert list(plan.brackets) == list(range(s_max, -1, -1))
    for s, bracket in plan.brackets.items():
        resources = [r.resource for r in bracket.rungs]
        counts = [r.n_models for r in bracket.rungs]
        assert len(bracket.rungs) == s + 1
        assert resources == sorted(set(resources)) and resources[0] >= r_min
        assert resources[-1] == R  # every bracket trains its survivors to max_resource, never beyond
        assert counts == sorted(counts, reverse=True) and counts[-1] >= 1
        previous = [0, *resources[:-1]]
        assert bracket.partial_fit_calls == sum(
            n * (r - p) for n, r, p in zip(counts, resources, previous, strict=True)
        )
        # Per model: the models dropped at rung i end with resources[i] steps.
        dropped = [n - m for n, m in itertools.pairwise([*counts, 0])]
        final = [r for r, d in zip(resources, dropped, strict=True) for _ in range(d)]
        assert len(final) == bracket.n_models and sum(final) == bracket.partial_fit_calls and max(final) <= R
    assert plan.n_models == sum(b.n_models for b in plan.brackets.values())
    assert plan.partial_fit_calls == sum(b.partial_fit_calls for b in plan.brackets.values())
    # Bracket 0 is plain random search at max_resource.
    assert [(r.resource, r.n_models) for r in plan.brackets[0].rungs] == [(R, s_max + 1)]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    n=st.integers(1, 500),
    eta=st.integers(2, 5),
    r_min=st.integers(1, 10),
    extra=st.integers(0, 400),
    rate=st.integers(0, 3),
)
def test_successive_halving_bracket_properties(n, eta, r_min, extra, rate):
    R = r_min * eta**rate + extra
    bracket = SuccessiveHalving(r_min, R, eta, min_early_stopping_rate=rate).bracket(n)
    counts = [r.n_models for r in bracket.rungs]
    assert counts[0] == n and counts == sorted(counts, reverse=True) and counts[-1] >= 1
    first = r_min * eta**rate
    assert bracket.rungs[0].resource == (first if first * eta <= R else R) and bracket.max_resource == R
    assert all(b.resource * eta <= R for b in bracket.rungs[:-1])
    assert all(c == max(1, n // eta**i) for i, c in enumerate(counts))
