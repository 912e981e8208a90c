"""Trial mode: `decide` / `on_trial_start` / `promotable`, unit cases and simulated-clock replays.

The replays run tabulated learning curves through `hypersweep.testing.simulator` with virtual workers.
"""

import math
from collections import Counter

import numpy as np
import pytest

from hypersweep.schedulers import ASHA, Decision, Hyperband, MedianStopping, NoScheduler, SuccessiveHalving
from hypersweep.testing.simulator import simulate, synthetic_curves
from hypersweep.trial import Trial, TrialState

R = 81


def trial(number, values, state=TrialState.RUNNING, **attrs):
    """A trial that reported `values` at steps 1, 2, ... (or a {step: value} dict)."""
    intermediate = values if isinstance(values, dict) else {i + 1: v for i, v in enumerate(values)}
    return Trial(number, {}, state, intermediate=intermediate, system_attrs=attrs)


@pytest.fixture(scope="module")
def curves():
    return synthetic_curves(81, R, seed=1, crossing=True, noise=0.01)


@pytest.fixture(scope="module")
def final(curves):
    return np.array([c[-1] for c in curves])


# --------------------------------------------------------------------------------------------------------
# The asynchronous rung rule, case by case.


def test_rung_rule_cases():
    sh = SuccessiveHalving(min_resource=1, max_resource=27, reduction_factor=3)
    first = trial(0, [0.5])
    assert sh.decide(first, [first], "minimize") is Decision.CONTINUE  # first at its rung, best so far
    worse = trial(1, [0.9])
    assert sh.decide(worse, [first, worse], "minimize") is Decision.STOP  # 2 at the rung: top 1 goes on
    assert sh.decide(worse, [first, worse], "maximize") is Decision.CONTINUE  # direction matters
    between = trial(2, [0.5, 0.7])  # step 2 is not a rung
    assert sh.decide(between, [first, worse, between], "maximize") is Decision.CONTINUE
    # 6 trials at rung 1: the top 2 go on.
    field = [trial(i, [v]) for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])]
    assert [sh.decide(t, field, "minimize") for t in field] == [Decision.CONTINUE] * 2 + [Decision.STOP] * 4
    # Steps at or beyond max_resource (27) are never judged.
    late = trial(9, {26: 9.0, 27: 9.0, 28: 9.0})
    others = [trial(i, {27: 0.0}) for i in range(3)]
    assert sh.decide(late, others + [late], "minimize") is Decision.CONTINUE


def test_skipped_rungs_use_the_value_at_the_largest_step_below():
    sh = SuccessiveHalving(min_resource=1, max_resource=81, reduction_factor=3)
    field = [trial(i, {3: v}) for i, v in enumerate([0.4, 0.5, 0.6])]
    # Reports at 2 then 5: rung 3 is judged with the value at step 2 (good), not the one at 5 (bad).
    good_then_bad = trial(7, {1: 0.3, 2: 0.3, 5: 9.0})
    assert sh.decide(good_then_bad, field + [good_then_bad], "minimize") is Decision.CONTINUE
    bad_then_good = trial(8, {1: 0.3, 2: 9.0, 5: 0.0})
    assert sh.decide(bad_then_good, field + [bad_then_good], "minimize") is Decision.STOP
    # A jump over several rungs is judged at each; a first report past a rung uses the earliest value.
    jumper = trial(9, {10: 0.45})
    assert sh.decide(jumper, field + [jumper], "minimize") is Decision.STOP


def test_nan_never_goes_on_and_ranks_last():
    sh = SuccessiveHalving(max_resource=27)
    broken = trial(0, [math.nan])
    assert sh.decide(broken, [broken], "minimize") is Decision.STOP
    ok = trial(1, [5.0])
    assert sh.decide(ok, [broken, ok], "minimize") is Decision.CONTINUE


def test_trials_below_the_first_rung_continue():
    sh = SuccessiveHalving(min_resource=3, max_resource=81, reduction_factor=3, min_early_stopping_rate=1)
    assert sh.rungs() == [9, 27]
    field = [trial(i, [0.0] * 8) for i in range(5)]
    bad = trial(9, [100.0] * 8)
    assert sh.decide(bad, field + [bad], "minimize") is Decision.CONTINUE
    field = [trial(i, [0.0] * 9) for i in range(5)]
    bad = trial(9, [100.0] * 9)
    assert sh.decide(bad, field + [bad], "minimize") is Decision.STOP


def test_no_scheduler_and_direction_check():
    t = trial(0, [1.0])
    assert NoScheduler().decide(t, [t], "maximize") is Decision.CONTINUE
    for scheduler in [NoScheduler(), SuccessiveHalving(), ASHA(), Hyperband(), MedianStopping()]:
        with pytest.raises(ValueError, match="direction must be 'minimize' or 'maximize', got direction='up'"):
            scheduler.decide(t, [t], "up")
        assert scheduler.decide(t, [t], "max") is Decision.CONTINUE  # aliases, as create_study takes them


# --------------------------------------------------------------------------------------------------------
# Simulated-clock replays.


def test_successive_halving_one_worker_follows_the_rung_rule(curves):
    """With one worker trials run one after another, so the outcome can be computed by hand."""
    result = simulate(SuccessiveHalving(max_resource=R), curves, n_workers=1)
    expected = {}
    for i, curve in enumerate(curves):
        stop = R
        for rung in [1, 3, 9, 27]:
            at_rung = [curves[j][rung - 1] for j in range(i) if expected[j] >= rung] + [curve[rung - 1]]
            k = max(1, len(at_rung) // 3)
            if curve[rung - 1] > sorted(at_rung)[k - 1]:
                stop = rung
                break
        expected[i] = stop
    assert result.steps == expected
    assert Counter(t.state for t in result.trials) == {
        TrialState.PRUNED: sum(s < R for s in expected.values()),
        TrialState.COMPLETE: sum(s == R for s in expected.values()),
    }


@pytest.mark.parametrize("promote", [False, True], ids=["stopping", "promoting"])
@pytest.mark.parametrize("n_workers", [1, 4, 16])
def test_asha_stops_most_trials_early_and_keeps_the_best(curves, final, n_workers, promote):
    step_times = [1.0 + (i % 7) for i in range(len(curves))]  # stragglers: nobody waits for them
    result = simulate(ASHA(max_resource=R, promote=promote), curves, n_workers=n_workers, step_times=step_times)
    assert result.total_steps < 0.15 * len(curves) * R  # vs. 6,561 steps to run everything to the end
    best = int(np.argmin(final))
    assert result.steps[best] == R
    worst_half = np.argsort(final)[len(curves) // 2 :]
    assert max(result.steps[int(i)] for i in worst_half) <= 3
    assert sum(s == 1 for s in result.steps.values()) >= len(curves) / 2
    first_pause: dict[int, int] = {}
    for e in result.events:
        if e.decision is Decision.PAUSE:
            first_pause.setdefault(e.number, e.step)
    if not promote:
        assert not first_pause
        assert {t.state for t in result.trials} == {TrialState.PRUNED, TrialState.COMPLETE}
        return
    # Promotions happen: some trials were paused at a rung and resumed later, from their checkpoint
    promoted = [n for n, step in first_pause.items() if result.steps[n] > step]
    assert len(promoted) >= 2
    for n in promoted:
        steps = [e.step for e in result.events if e.number == n]
        assert steps == list(range(1, len(steps) + 1))  # no step run twice: it resumed after its pause
    assert {t.state for t in result.trials} == {TrialState.PAUSED, TrialState.COMPLETE}


def test_asha_promotable_orders_by_rung_then_score():
    asha = ASHA(max_resource=27, reduction_factor=3, promote=True)
    pruned = TrialState.PAUSED
    field = [trial(i, [v]) for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])]
    high = [trial(10 + i, [v, 0.0, w]) for i, (v, w) in enumerate([(0.05, 0.1), (0.9, 0.2), (0.9, 0.3)])]
    # Rung 1 holds 9 trials, so its top 3 go on: 0.05 (#10), 0.1 (#0), 0.2 (#1) when minimizing.
    # Rung 3 holds #10, #11, #12, so its top 1 goes on: #10 when minimizing, #12 when maximizing.
    for i in (1, 4, 5):
        field[i] = field[i].evolve(state=pruned)  # paused at rung 1
    high[0] = high[0].evolve(state=pruned)  # paused at rung 3
    assert asha.promotable(field + high, "minimize") == [10, 1]  # highest rung first
    assert asha.promotable(field + high, "maximize") == [5]
    done = trial(20, [0.0] * 27, state=pruned)  # at max_resource: never promoted
    assert 20 not in asha.promotable([done], "minimize")


def test_median_stopping_stops_trials_worse_than_the_median(curves):
    scheduler = MedianStopping(warmup_steps=2, min_trials=5)
    result = simulate(scheduler, curves, n_workers=3)
    seen: dict[int, dict[int, float]] = {}
    stopped = 0
    for event in result.events:
        seen.setdefault(event.number, {})[event.step] = event.value
        others = [v[event.step] for n, v in seen.items() if n != event.number and event.step in v]
        best = min(seen[event.number].values())
        if event.step <= 2 or len(others) < 5:
            assert event.decision is Decision.CONTINUE
        else:
            worse = best > float(np.median(others))
            assert event.decision is (Decision.STOP if worse else Decision.CONTINUE)
            stopped += worse
    assert stopped >= len(curves) / 3
    assert result.total_steps < 0.5 * len(curves) * R


def test_median_stopping_unit():
    med = MedianStopping(warmup_steps=0, min_trials=3)
    others = [trial(i, [1.0, v]) for i, v in enumerate([0.2, 0.4, 0.6])]
    assert med.decide(trial(9, [0.9, 0.5]), others, "minimize") is Decision.STOP
    assert med.decide(trial(9, [0.3, 0.5]), others, "minimize") is Decision.CONTINUE  # best so far counts
    assert med.decide(trial(9, [0.9, 0.5]), others, "maximize") is Decision.CONTINUE
    assert med.decide(trial(9, [0.9, 0.5]), others[:2], "minimize") is Decision.CONTINUE  # < min_trials
    assert (
        MedianStopping(warmup_steps=2, min_trials=3).decide(trial(9, [0.9, 0.5]), others, "minimize")
        is Decision.CONTINUE
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: SuccessiveHalving(max_resource=R),
        lambda: ASHA(max_resource=R),
        lambda: Hyperband(max_resource=R),
        lambda: MedianStopping(),
    ],
    ids=["sh", "asha", "hyperband", "median"],
)
def test_decisions_respect_direction(curves, final, make):
    minimized = simulate(make(), curves, n_workers=4, direction="minimize")
    negated = [[-v for v in c] for c in curves]
    maximized = simulate(make(), negated, n_workers=4, direction="maximize")
    assert minimized.steps == maximized.steps
    wrong = simulate(make(), curves, n_workers=4, direction="maximize")
    assert wrong.steps != minimized.steps
    assert wrong.steps[int(np.argmax(final))] == R  # the worst minimizer is the best maximizer


def test_hyperband_deals_brackets_in_proportion():
    hb = Hyperband(max_resource=81, reduction_factor=3)
    deal = [hb.on_trial_start(n, [])["bracket"] for n in range(2 * 143)]
    assert Counter(deal[:143]) == {4: 81, 3: 34, 2: 15, 1: 8, 0: 5}
    assert deal[:143] == deal[143:]  # deterministic in the number
    assert len(set(deal[:10])) >= 3  # interleaved, not in long runs


def test_hyperband_judges_within_the_bracket_only():
    hb = Hyperband(max_resource=9, reduction_factor=3)
    assert [(s, [r.resource for r in b.rungs]) for s, b in hb.brackets().items()] == [
        (2, [1, 3, 9]),
        (1, [3, 9]),
        (0, [9]),
    ]
    strong = [trial(i, [0.0] * 3, bracket=2) for i in range(3)]
    mine = trial(5, [0.5] * 3, bracket=1)
    assert hb.decide(mine, strong + [mine], "minimize") is Decision.CONTINUE  # alone in bracket 1
    rival = trial(6, [0.1] * 3, bracket=1)
    assert hb.decide(mine, strong + [mine, rival], "minimize") is Decision.STOP
    in_two = trial(7, [0.5] * 1, bracket=2)
    assert hb.decide(in_two, strong + [in_two], "minimize") is Decision.STOP
    with pytest.raises(
        ValueError, match=r"system_attrs\['bracket'\]=7, but this Hyperband has brackets 0..2"
    ):
        hb.decide(trial(8, [0.5], bracket=7), [], "minimize")


def test_hyperband_replay(curves, final):
    hb = Hyperband(max_resource=R)
    result = simulate(hb, curves, n_workers=4)
    by_bracket: dict[int, list[Trial]] = {}
    for t in result.trials:
        assert t.system_attrs["bracket"] == hb.bracket_of(t.number)
        by_bracket.setdefault(t.system_attrs["bracket"], []).append(t)
    assert all(t.state is TrialState.COMPLETE for t in by_bracket[0])  # bracket 0 is never judged
    first_rung = {s: b.rungs[0].resource for s, b in hb.brackets().items()}
    assert all(t.last_step >= first_rung[s] for s, ts in by_bracket.items() for t in ts)
    assert result.steps[int(np.argmin(final))] == R
    assert result.total_steps < 0.4 * len(curves) * R
