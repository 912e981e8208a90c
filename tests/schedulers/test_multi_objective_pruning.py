"""Pruning a study of several objectives: rungs ranked by Pareto front then crowding distance, in trial mode
(successive halving, ASHA with and without promotions, Hyperband) and in driver mode (brackets)."""

import itertools
import math

import numpy as np
import pytest

import hypersweep as hs
from hypersweep.multi_objective import crowding_distance, non_dominated_sort, pareto_positions
from hypersweep.schedulers import ASHA, Decision, Hyperband, SuccessiveHalving
from hypersweep.schedulers._index import ParetoScores
from hypersweep.testing.simulator import simulate
from hypersweep.trial import Trial, TrialState

BOTH_MIN = ["minimize", "minimize"]


def trial(number, vectors, state=TrialState.RUNNING, **attrs):
    """A trial that reported the tuples ``vectors`` at steps 1, 2, ... (or a {step: tuple} dict)."""
    steps = vectors if isinstance(vectors, dict) else {i + 1: v for i, v in enumerate(vectors)}
    return Trial(number, {}, state, intermediate={s: v[0] for s, v in steps.items()},
                 intermediate_values={s: tuple(v) for s, v in steps.items()}, system_attrs=attrs)


def _brute_positions(losses):
    """How many rows come strictly before each: by front, then larger crowding distance, computed naively."""
    L = np.asarray(losses, dtype=float)
    ranks = non_dominated_sort(L)
    crowd = np.zeros(len(L))
    for r in set(ranks.tolist()):
        members = np.flatnonzero(ranks == r)
        crowd[members] = crowding_distance(L[members])
    return [sum((ranks[j], -crowd[j]) < (ranks[i], -crowd[i]) for j in range(len(L))) for i in range(len(L))]


@pytest.mark.parametrize("seed", range(5))
def test_positions_match_a_naive_ranking(seed):
    rng = np.random.default_rng(seed)
    losses = rng.integers(0, 6, size=(12, 2 + seed % 2)).astype(float)  # small integers: ties and equal rows
    assert pareto_positions(losses).tolist() == _brute_positions(losses)


def test_pareto_scores_follow_changes():
    scores = ParetoScores()
    for number, x in enumerate([(0.0, 3.0), (1.0, 1.0), (3.0, 0.0), (-1.0, -1.0)]):
        scores.add(number, x)  # higher is better in each: 3 is dominated by 1
    assert scores.positions()[3] == 3 and scores.ahead(3, (5.0, 5.0)) == 0  # a new score for 3: first
    scores.remove(1)
    assert len(scores) == 3 and 1 not in scores and scores.positions()[3] == 2


def test_the_rung_rule_ranks_by_front():
    sh = SuccessiveHalving(min_resource=1, max_resource=27, reduction_factor=3)
    field = [trial(0, [(0.1, 0.9)]), trial(1, [(0.9, 0.1)]), trial(2, [(0.5, 0.5)])]
    # three on the front of rung 1, the top one (n // 3) goes on: a front's ends come first (infinite crowding)
    first = [sh.decide(t, field, BOTH_MIN) for t in field]
    assert first[2] is Decision.STOP and Decision.CONTINUE in first[:2]
    dominated = trial(3, [(0.6, 0.6)])
    assert sh.decide(dominated, [*field, dominated], BOTH_MIN) is Decision.STOP
    best = trial(4, [(0.0, 0.0)])  # dominates every other: in the top whatever the tie-breaker
    assert sh.decide(best, [*field, dominated, best], BOTH_MIN) is Decision.CONTINUE
    # the directions matter: maximizing both, the best trial is dominated by every other
    assert sh.decide(best, [*field, dominated, best], ["maximize", "maximize"]) is Decision.STOP
    nan = trial(5, [(0.0, math.nan)])
    assert sh.decide(nan, [*field, nan], BOTH_MIN) is Decision.STOP  # NaN never goes on
    with pytest.raises(ValueError, match="direction"):
        sh.decide(best, field, ["minimize", "sideways"])


def test_a_trial_in_the_top_by_brute_force():
    rng = np.random.default_rng(3)
    asha = ASHA(max_resource=9, reduction_factor=3)
    for _ in range(20):
        vectors = [tuple(v) for v in rng.random((7, 2)).round(2)]
        field = [trial(i, [v]) for i, v in enumerate(vectors)]
        positions = _brute_positions([list(v) for v in vectors])
        for t in field:
            expected = Decision.CONTINUE if positions[t.number] < max(1, len(field) // 3) else Decision.STOP
            assert asha.decide(t, field, BOTH_MIN) is expected


def test_asha_promotions_go_by_front():
    asha = ASHA(max_resource=9, reduction_factor=3, promote=True)
    vectors = [(0.1, 0.9), (0.9, 0.1), (0.5, 0.5), (0.6, 0.6), (0.7, 0.7), (0.8, 0.8)]
    paused = [trial(i, [v], TrialState.PAUSED) for i, v in enumerate(vectors)]
    # six at rung 1: two promotions, the ends of the front (0 and 1); the dominated ones wait
    assert asha.promotable(paused, BOTH_MIN) == [0, 1]
    mirrored = [trial(i, [(1 - a, 1 - b)], TrialState.PAUSED) for i, (a, b) in enumerate(vectors)]
    assert asha.promotable(mirrored, ["maximize", "maximize"]) == [0, 1]


def test_driver_mode_keeps_the_front():
    sh = SuccessiveHalving(max_resource=9, reduction_factor=3)
    vectors = [(0.5, 0.5), (0.9, 0.9), (0.1, 0.8), (0.8, 0.8), (0.7, 0.9), (0.95, 0.2)]
    trials = [trial(i, [v]) for i, v in enumerate(vectors)]
    todo = sh.next_steps(trials, BOTH_MIN)  # 6 models, 2 go on to 3 steps: two of the front {0, 2, 5}
    going = {n for n, k in todo.items() if k > 0}
    assert len(going) == 2 and going <= {0, 2, 5} and {2, 5} == going  # the ends first
    hb = Hyperband(max_resource=9, reduction_factor=3)
    members = [trial(i, [v], bracket=2) for i, v in enumerate(vectors[:3])]  # 3 models from step 1
    assert hb.next_steps(members, BOTH_MIN) == {0: 2, 1: 0, 2: 0}  # front {0, 2}, a tie: the first listed


def _two_objective_curves(n, steps=9, seed=0):
    """Per config: a loss curve falling to a final value, and a constant cost traded against it."""
    rng = np.random.default_rng(seed)
    size = rng.random(n)
    final = 0.1 + 0.5 * (1 - size) ** 2 + 0.05 * rng.random(n)
    cost = 1.0 + 4.0 * size
    t = np.arange(1, steps + 1)
    loss = final[:, None] + rng.uniform(0.2, 1.0, n)[:, None] * t[None, :] ** -0.7
    return [[(float(loss[i, k]), float(cost[i])) for k in range(steps)] for i in range(n)]


@pytest.mark.parametrize(
    "scheduler",
    [ASHA(max_resource=9), ASHA(max_resource=9, promote=True), Hyperband(9), Hyperband(9, synchronous=True),
     SuccessiveHalving(max_resource=9)],
    ids=["asha", "asha-promote", "hyperband", "hyperband-sync", "sh"],
)
def test_study_loop_prunes_several_objectives(scheduler):
    curves = _two_objective_curves(27)
    result = simulate(scheduler, curves, directions=BOTH_MIN, n_workers=2)
    states = [t.state for t in result.trials]
    assert ({TrialState.PRUNED, TrialState.PAUSED} & set(states)) and TrialState.COMPLETE in states
    assert result.total_steps < 27 * 9 * 0.7  # pruning saved epochs
    complete = [t for t in result.trials if t.state is TrialState.COMPLETE]
    assert all(t.values == curves[t.config["curve"]][-1] for t in complete)
    pruned = next(t for t in result.trials if t.state in (TrialState.PRUNED, TrialState.PAUSED))
    assert pruned.intermediate_values[pruned.last_step] == curves[pruned.config["curve"]][pruned.last_step - 1]


def test_pruning_on_sqlite_resumes_with_vectors(tmp_path):
    url = f"sqlite:///{tmp_path}/mo.db"
    curves = _two_objective_curves(12, seed=1)

    def objective(config, trial):
        for step, values in enumerate(curves[config["i"]], 1):
            trial.report(values, step)
            if trial.should_stop():
                break
        return values

    space = {"i": hs.Int(0, 11)}
    study = hs.create_study(space, directions=BOTH_MIN, storage=url, name="p", scheduler=ASHA(max_resource=9),
                            sampler="random", artifacts=None)
    for i in range(12):
        study.enqueue({"i": i})
    study.optimize(objective, n_trials=6, progress=False)
    again = hs.load_study("p", storage=url, scheduler=ASHA(max_resource=9), artifacts=None)
    assert [t.intermediate_values for t in again.trials] == [t.intermediate_values for t in study.trials]
    again.optimize(objective, n_trials=6, progress=False)
    assert len(again.trials) == 12 and any(t.state is TrialState.PRUNED for t in again.trials)
    by_curve = {t.config["i"]: t for t in again.trials}
    assert all(by_curve[i].intermediate_values[1] == curves[i][0] for i in range(12))


def test_reports_must_carry_every_objective():
    space = {"x": (0.0, 1.0)}

    def scalar(config, trial):
        trial.report(config["x"], 1)
        return config["x"], 1 - config["x"]

    study = hs.create_study(space, directions=BOTH_MIN, scheduler=ASHA(max_resource=9), seed=0)
    study.optimize(scalar, n_trials=1, progress=False)
    (failed,) = study.trials
    assert failed.state is TrialState.FAILED and "report one value per objective" in failed.fail_reason

    def three(config, trial):
        trial.report((1.0, 2.0, 3.0), 1)
        return 1.0, 2.0

    study = hs.create_study(space, directions=BOTH_MIN, seed=0)
    study.optimize(three, n_trials=1, progress=False)
    assert "got 3 values for a study of 2 objective(s)" in study.trials[0].fail_reason
    # without a scheduler, one value per step is fine (nothing ranks it), and a tuple is kept
    free = hs.create_study(space, directions=BOTH_MIN, seed=0)
    free.optimize(lambda c, t: (t.report(c["x"], 1), t.report([c["x"], 2.0], 2), (1.0, 2.0))[-1], n_trials=1,
                  progress=False)
    (done,) = free.trials
    assert done.intermediate == {1: done.config["x"], 2: done.config["x"]}
    assert done.intermediate_values == {2: (done.config["x"], 2.0)}
    words = hs.create_study(space, directions=BOTH_MIN)
    words.optimize(lambda c, t: t.report(["a", "b"], 1) or (0.0, 0.0), n_trials=1, progress=False)
    assert "values must be numbers" in words.trials[0].fail_reason


def test_every_combination_of_directions_ranks_consistently():
    vectors = [(0.2, 0.8), (0.8, 0.2), (0.5, 0.5), (0.9, 0.9)]
    field = [trial(i, [v]) for i, v in enumerate(vectors)]
    sh = SuccessiveHalving(max_resource=9, reduction_factor=4)  # top max(1, 4 // 4) = 1 per rung
    for directions in itertools.product(["minimize", "maximize"], repeat=2):
        signs = [1 if d == "minimize" else -1 for d in directions]
        positions = pareto_positions([[s * x for s, x in zip(signs, v, strict=True)] for v in vectors])
        kept = [t.number for t in field if sh.decide(t, field, list(directions)) is Decision.CONTINUE]
        assert kept == [i for i in range(4) if positions[i] < 1]
