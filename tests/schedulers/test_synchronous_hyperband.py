"""Synchronous Hyperband in trial mode: trials pause at each rung and the survivors resume from their
checkpoints; the decisions are those of driver mode (`Bracket.instructions`) on the same observations."""

from collections import Counter

import pytest

from hypersweep.schedulers import Decision, Hyperband
from hypersweep.testing.simulator import run_bracket, simulate, synthetic_curves
from hypersweep.trial import Trial, TrialState


@pytest.fixture(scope="module")
def curves():
    return synthetic_curves(2 * 143, 81, seed=3, crossing=True, noise=0.01)


def _steps_by_bracket(result, hb):
    by_bracket: dict[tuple[int, int], dict[int, int]] = {}
    for t in result.trials:
        key = (t.system_attrs["iteration"], t.system_attrs["bracket"])
        by_bracket.setdefault(key, {})[t.number] = t.last_step or 0
    return by_bracket


@pytest.mark.parametrize("n_workers", [1, 5, 16])
def test_one_iteration_runs_exactly_the_plan(curves, n_workers):
    hb = Hyperband(max_resource=81, reduction_factor=3, synchronous=True)
    step_times = [1.0 + 3.0 * (i % 5 == 0) for i in range(len(curves))]  # every fifth config is a straggler
    result = simulate(hb, curves, n_workers=n_workers, n_trials=143, step_times=step_times)
    plan = hb.plan()
    assert len(result.trials) == plan.n_models == 143
    assert result.total_steps == plan.partial_fit_calls == 1581  # survivors resume: no step runs twice
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in result.trials)  # none left paused
    for (_, s), steps in _steps_by_bracket(result, hb).items():
        bracket = plan.brackets[s]
        assert [sum(v >= r.resource for v in steps.values()) for r in bracket.rungs] == [
            r.n_models for r in bracket.rungs
        ]
        # the same models as driver mode picks, fed the same curves (scores: higher is better)
        driven = run_bracket(bracket, lambda m, step: -curves[m][step - 1], model_ids=sorted(steps))
        assert driven.steps == steps
    assert Counter(e.decision for e in result.events)[Decision.PAUSE] > 0


def test_every_step_resumes_where_it_paused(curves):
    result = simulate(Hyperband(max_resource=27, synchronous=True), curves, n_workers=4, n_trials=40)
    for number in {e.number for e in result.events}:
        steps = [e.step for e in result.events if e.number == number]
        assert steps == list(range(1, len(steps) + 1)) or steps[0] > 1  # brackets with a later first rung
        assert len(steps) == len(set(steps))


def test_an_unfilled_iteration_is_judged_with_the_trials_it_has(curves):
    hb = Hyperband(max_resource=81, synchronous=True)
    result = simulate(hb, curves, n_workers=4, n_trials=50)  # the plan wants 143 models
    assert len(result.trials) == 50
    assert not [t for t in result.trials if t.state is TrialState.PAUSED]  # every rung was closed at the end
    for (_, s), steps in _steps_by_bracket(result, hb).items():
        expected = run_bracket(
            hb._halving[s].bracket(len(steps)), lambda m, step: -curves[m][step - 1], model_ids=sorted(steps)
        )
        assert expected.steps == steps


def test_two_iterations_follow_the_plan_each(curves):
    hb = Hyperband(max_resource=81, synchronous=True)
    result = simulate(hb, curves, n_workers=8, n_trials=286)
    assert result.total_steps == 2 * 1581
    iterations = Counter(t.system_attrs["iteration"] for t in result.trials)
    assert iterations == {0: 143, 1: 143}


def test_decide_pauses_until_the_rung_is_complete():
    hb = Hyperband(max_resource=9, reduction_factor=3, synchronous=True)  # bracket 2: 9 models, rungs 1, 3, 9
    members = [n for n in range(17) if hb.bracket_of(n) == 2]
    assert len(members) == 9

    def t(number, values, state=TrialState.RUNNING):
        return Trial(number, {}, state, intermediate=dict(enumerate(values, 1)),
                     system_attrs={"bracket": 2, "iteration": 0})

    first = [t(n, [float(i)]) for i, n in enumerate(members[:8])]
    assert hb.decide(first[0], first, "minimize") is Decision.PAUSE  # one model still to report
    paused = [x.evolve(state=TrialState.PAUSED) for x in first]
    last = t(members[8], [0.5])
    everyone = [*paused, last]
    assert hb.decide(last, everyone, "minimize") is Decision.CONTINUE  # 2nd best of 9: a survivor
    assert hb.promotable(everyone, "minimize") == [members[0], members[1]]
    assert hb.stoppable(everyone, "minimize") == members[2:8]
    worst = t(members[8], [99.0])
    assert hb.decide(worst, [*paused, worst], "minimize") is Decision.STOP


@pytest.mark.timeout(60)
@pytest.mark.parametrize("n_trials", [20, 49])
def test_objectives_without_checkpoints_restart_and_the_search_ends(n_trials):
    """A promoted trial with no checkpoint runs its steps again from the first; nothing is paused twice."""
    import hypersweep as hs

    runs = Counter()

    def objective(config, trial):
        runs[trial.number] += 1
        value = None
        for step in range(1, 28):
            value = (config["x"] - 0.5) ** 2 + 1.0 / step
            trial.report(value, step=step)
            if trial.should_stop():
                break
        return value

    hb = Hyperband(max_resource=27, synchronous=True)  # 49 models per iteration
    study = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0, scheduler=hb)
    study.optimize(objective, n_trials=n_trials, progress=False)
    trials = study.trials
    assert len(trials) == n_trials and {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    assert sum(t.state is TrialState.COMPLETE for t in trials) >= 1
    assert max(runs.values()) <= len(hb.brackets())  # each promotion restarts a trial once, never in a loop
