"""Brackets planned by the caller (dask-ml's arithmetic), driven through a study's next_steps."""

from __future__ import annotations

import math

import pytest

import hypersweep as hs
from hypersweep.schedulers import Bracket, Brackets, Hyperband, Rung, halving_bracket, paper_plan
from hypersweep.trial import Trial, TrialState


def _dask_ml_paper(R: int, eta: int) -> list[tuple[int, int, int]]:
    """dask-ml's Algorithm 1 (``_hyperband_paper_alg``) restated: (bracket, n_models, partial_fit_calls)."""
    s_max = math.floor(math.log(R, eta))  # in floating point, as dask-ml: log(243, 3) = 4.999...
    out = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) * eta**s / (s + 1))
        r = R // eta**s
        calls, alive = dict.fromkeys(range(n), 0), list(range(n))
        for i in range(s + 1):
            n_i = math.floor(n * eta**-i)
            for m in alive:
                calls[m] = round(r * eta**i)
            alive = alive[: math.floor(n_i / eta)]
        out.append((s, n, sum(calls.values())))
    return out


@pytest.mark.parametrize(
    "R, eta", [(81, 3), (27, 3), (15, 3), (8, 3), (100, 3), (16, 2), (50, 4), (1, 3), (243, 3), (1000, 10)]
)
def test_paper_plan_matches_dask_mls_algorithm(R, eta):
    plan = paper_plan(R, eta)
    assert [(s, b.n_models, b.partial_fit_calls) for s, b in plan.brackets.items()] == _dask_ml_paper(R, eta)


def test_paper_plan_equals_hyperband_at_powers():
    for R, eta in [(81, 3), (27, 3), (16, 2), (64, 4), (729, 3)]:
        ours = Hyperband(R, eta).plan()
        assert paper_plan(R, eta).metadata == ours.metadata


def test_halving_bracket_stops_at_one_model_or_max():
    assert [(r.resource, r.n_models) for r in halving_bracket(27, 1, 3).rungs] == [(1, 27), (3, 9), (9, 3), (27, 1)]
    assert halving_bracket(27, 1, 3, max_resource=5).max_resource == 5
    with pytest.raises(ValueError, match="n_models"):
        halving_bracket(0, 1, 3)


def _trial(number, bracket, history, state=TrialState.RUNNING):
    return Trial(number, {}, state, intermediate=dict(history), system_attrs={"bracket": bracket})


def test_brackets_runs_each_bracket_and_keeps_converged_models():
    sched = Brackets({0: Bracket((Rung(1, 3), Rung(3, 1)), 3), 1: Bracket((Rung(3, 2),), 3)})
    trials = [_trial(0, 0, {1: 0.1}), _trial(1, 0, {1: 0.9}), _trial(2, 0, {1: 0.5}),
              _trial(3, 1, {}), _trial(4, 1, {3: 0.2})]
    assert sched.next_steps(trials, "maximize") == {0: 0, 1: 2, 2: 0, 3: 3}
    # trial 1 converged (the driver completed it at step 1): it keeps its place, nobody is trained instead
    trials[1] = _trial(1, 0, {1: 0.9}, TrialState.COMPLETE)
    todo = sched.next_steps(trials, "maximize")
    assert 1 not in todo and todo[0] == 0 and todo[2] == 0
    # pruned trials leave their bracket
    trials = [_trial(0, 0, {1: 0.1}, TrialState.PRUNED), _trial(1, 0, {1: 0.9}), _trial(2, 0, {1: 0.5},
                                                                                           TrialState.PRUNED)]
    assert sched.next_steps(trials, "maximize") == {1: 2}


def test_brackets_errors():
    with pytest.raises(TypeError, match="Bracket"):
        Brackets({0: "x"})
    with pytest.raises(ValueError, match="system_attrs"):
        Brackets({0: halving_bracket(3, 1)}).next_steps([_trial(0, 7, {})], "maximize")


def test_study_driver_over_brackets():
    plan = paper_plan(9, 3)
    study = hs.create_study({"x": (0.0, 1.0)}, direction="maximize", sampler="random", scheduler=Brackets(plan),
                            seed=0)
    for s, bracket in plan.brackets.items():
        for _ in range(bracket.n_models):
            study.start_trial(system_attrs={"bracket": s})
    calls = 0
    while todo := study.next_steps():
        for number, n in todo.items():
            if n == 0:
                study.tell(number, state="pruned")
                continue
            trial = study.trial(number)
            step = (trial.last_step or 0) + n
            calls += n
            study.report(number, trial.config["x"] * step, step=step)
        for t in study.trials:  # finished their bracket: complete
            if t.state is TrialState.RUNNING and t.last_step == plan.brackets[t.system_attrs["bracket"]].max_resource \
                    and t.number not in study.next_steps():
                study.tell(t.number, t.intermediate[t.last_step])
    assert calls == plan.partial_fit_calls
