"""Studies of several objectives: directions, tuple objectives, the Pareto front, hypervolume, NSGA-II, storage."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import hypersweep as hs
from hypersweep.multi_objective import (
    as_losses,
    crowding_distance,
    dominates,
    hypervolume,
    hypervolume_improvement,
    non_dominated_sort,
    pareto_front_mask,
)
from hypersweep.samplers.nsga2 import NSGAIISampler
from hypersweep.trial import TrialState


# --- the geometry ------------------------------------------------------------------------------------------------
def _brute_front(L):
    return [not any(dominates(L[j], L[i]) for j in range(len(L)) if j != i) for i in range(len(L))]


def _brute_volume(L, ref):
    """Inclusion-exclusion over the boxes [p, ref]: exact for a handful of points."""
    total = 0.0
    for k in range(1, len(L) + 1):
        for subset in itertools.combinations(range(len(L)), k):
            corner = np.max(L[list(subset)], axis=0)
            total += (-1) ** (k + 1) * float(np.prod(np.clip(ref - corner, 0, None)))
    return total


@pytest.mark.parametrize("d", [2, 3, 4])
def test_front_and_hypervolume_match_brute_force(d):
    rng = np.random.default_rng(d)
    for _ in range(20):
        L = rng.random((8, d)).round(1)  # rounding makes ties and duplicates
        assert pareto_front_mask(L).tolist() == _brute_front(L)
        ref = np.full(d, 1.2)
        assert hypervolume(L, ref) == pytest.approx(_brute_volume(L, ref))


@pytest.mark.parametrize("d", [2, 3])
def test_non_dominated_sort_matches_peeling_fronts(d):
    """Two objectives take a fast path (one sweep); it must rank as peeling off Pareto fronts does."""
    rng = np.random.default_rng(d)
    for _ in range(300):
        L = rng.integers(0, rng.integers(1, 6), size=(int(rng.integers(1, 16)), d)).astype(float)
        L[rng.random(len(L)) < 0.1, 0] = math.inf  # a diverged trial's loss
        expected, left, rank = np.full(len(L), -1), list(range(len(L))), 0
        while left:
            front = [i for i, keep in zip(left, _brute_front(L[left]), strict=True) if keep]
            expected[front] = rank
            left, rank = [i for i in left if i not in front], rank + 1
        assert non_dominated_sort(L).tolist() == expected.tolist()


def test_sorting_crowding_and_losses():
    L = np.array([[1, 4], [2, 2], [4, 1], [3, 3], [5, 5]])
    assert non_dominated_sort(L).tolist() == [0, 0, 0, 1, 2]
    assert crowding_distance(L[:3]).tolist() == [math.inf, 2.0, math.inf]
    assert as_losses([(0.5, 3.0), (float("nan"), 1.0)], ["maximize", "minimize"]).tolist() == [[-0.5, 3.0],
                                                                                                [math.inf, 1.0]]
    assert hypervolume([[2.0, 2.0]], reference=[1.0, 1.0]) == 0.0  # beyond the reference: nothing
    with pytest.raises(ValueError, match="directions"):
        as_losses([(1.0, 2.0, 3.0)], ["minimize", "minimize"])


# --- studies -----------------------------------------------------------------------------------------------------
def _trade_off(config):
    x = config["x"]
    return x, (1 - x) ** 2 + config["y"]


def test_study_of_two_objectives_and_its_front():
    study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize", "minimize"],
                            sampler="random", seed=0)
    assert study.directions == [hs.Direction.MINIMIZE, hs.Direction.MINIMIZE] and study.n_objectives == 2
    study.optimize(_trade_off, n_trials=40, progress=False)
    done = study.get_trials(["complete"])
    assert len(done) == 40 and all(len(t.values) == 2 and t.value == t.values[0] for t in done)
    front = study.best_trials
    L = np.array([t.values for t in done])
    expected = [t.number for t, keep in zip(done, _brute_front(L), strict=True) if keep]
    assert [t.number for t in front] == expected and 1 < len(front) < 40
    with pytest.raises(ValueError, match="best_trials is the Pareto front"):
        _ = study.best_trial
    df = study.trials_dataframe()
    assert {"objective_0", "objective_1"} <= set(df.columns) and "objective" not in df.columns
    assert df["objective_1"].tolist() == [t.values[1] for t in study.trials]


def test_directions_mix_maximize_and_minimize():
    study = hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "minimize"], sampler="random", seed=1)
    study.optimize(lambda c: {"objective": (c["x"], c["x"] ** 2), "metadata": {"n": 1}}, n_trials=10,
                   progress=False)
    assert len(study.best_trials) == 10  # more x costs more x^2: every trial is a trade-off
    assert study.trials[0].metadata == {"n": 1}
    dominated = hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "maximize"], sampler="random", seed=1)
    dominated.optimize(lambda c: (c["x"], c["x"] ** 2), n_trials=10, progress=False)
    assert [t.config["x"] for t in dominated.best_trials] == [max(t.config["x"] for t in dominated.trials)]


def test_wrong_number_of_values_fails_the_trial_with_the_reason():
    study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "maximize"], sampler="random", seed=2)
    study.optimize(lambda c: c["x"], n_trials=2, progress=False)
    study.optimize(lambda c: (c["x"], 1.0, 2.0), n_trials=1, progress=False)
    study.optimize(lambda c: (c["x"], float("nan")), n_trials=1, progress=False)
    failed = study.get_trials(["failed"])
    assert len(failed) == 4
    assert "returned 1 value(s) for a study of 2 objective(s) (minimize, maximize)" in failed[0].fail_reason
    assert "returned 3 value(s)" in failed[2].fail_reason and "objective 1" in failed[3].fail_reason
    with pytest.raises(ValueError, match="no completed trial"):
        _ = study.best_trials
    one = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=2)
    one.optimize(lambda c: (c["x"],), n_trials=3, progress=False)  # a 1-tuple for one objective is fine
    assert one.best_trials == [one.best_trial]


def test_clear_errors_for_what_cannot_work():
    with pytest.raises(ValueError, match="directions"):
        hs.create_study({"x": (0.0, 1.0)}, directions="maximize")
    with pytest.raises(ValueError, match=r"directions\[1\]"):
        hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "upward"])
    with pytest.raises(ValueError, match="BOSampler optimizes one objective.*nsga2"):
        hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "minimize"], sampler="bo")
    with pytest.raises(ValueError, match="MedianStopping judges one objective.*'asha'"):
        hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "minimize"], scheduler="median")


def test_auto_sampler_and_resume_from_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/mo.db"
    study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize", "minimize"],
                            storage=url, name="mo", seed=0, artifacts=None)
    from hypersweep.samplers.auto import AutoSampler

    assert isinstance(study.sampler, AutoSampler)
    study.sampler.evolve_after = 4  # the model for the first 4 completed trials, NSGA-II after
    study.optimize(_trade_off, n_trials=6, progress=False)
    assert [t.system_attrs["sampler"] for t in study.trials] == ["mobo"] * 4 + ["nsga2"] * 2
    four = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize"] * 4, seed=0)
    four.sampler.evolve_after = 2
    four.optimize(lambda c: (c["x"], 1 - c["x"], c["x"] ** 2, 1 - c["x"] ** 2), n_trials=3, progress=False)
    assert [t.system_attrs["sampler"] for t in four.trials] == ["mobo", "mobo", "nsga3"]
    one = hs.create_study({"x": (0.0, 1.0)}, seed=0)
    one.sampler.model_until = 2  # one objective: BO for the first 2 completed trials, TPE after
    one.optimize(lambda c: c["x"], n_trials=4, progress=False)
    assert [t.system_attrs["sampler"] for t in one.trials] == ["bo", "bo", "tpe", "tpe"]
    assert one.sampler.current == "tpe"
    for option in ("model_until", "evolve_after"):
        with pytest.raises(ValueError, match=option):
            AutoSampler(**{option: -1})
    with pytest.raises(ValueError, match=r"created with directions=\['minimize', 'minimize'\]"):
        hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize", "maximize"], storage=url,
                        name="mo", resume=True, artifacts=None)
    again = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize", "minimize"],
                            storage=url, name="mo", resume=True, seed=1, artifacts=None)
    again.optimize(_trade_off, n_trials=4, progress=False)
    loaded = hs.load_study("mo", storage=url)
    assert loaded.n_objectives == 2 and len(loaded.trials) == 10
    assert [t.values for t in loaded.trials] == [t.values for t in again.trials]


# --- NSGA-II -----------------------------------------------------------------------------------------------------
def _zdt1(config):
    x = np.array([config[f"x{i}"] for i in range(5)])
    g = 1 + 9 * x[1:].mean()
    return float(x[0]), float(g * (1 - math.sqrt(x[0] / g)))


def _zdt1_volume(sampler, seed, n_trials=250):
    study = hs.create_study({f"x{i}": (0.0, 1.0) for i in range(5)}, directions=["minimize", "minimize"],
                            sampler=sampler, seed=seed)
    study.optimize(_zdt1, n_trials=n_trials, progress=False)
    return hypervolume([t.values for t in study.best_trials], reference=[1.1, 11.0])


def test_nsga2_and_tpe_beat_random_on_zdt1():
    rand = [_zdt1_volume("random", s) for s in range(3)]
    nsga = [_zdt1_volume(NSGAIISampler(population_size=30, seed=s), s) for s in range(3)]
    tpe = [_zdt1_volume("tpe", s, n_trials=120) for s in range(3)]
    assert np.median(nsga) > np.median(rand) and np.median(tpe) > np.median(rand), (nsga, tpe, rand)


@pytest.mark.parametrize("d", [2, 3])
def test_hypervolume_improvement_is_the_volume_a_point_adds(d):
    rng = np.random.default_rng(10 + d)
    ref = np.full(d, 1.1)
    for _ in range(40):
        front = rng.random((int(rng.integers(0, 7)), d)).round(1)  # any set: dominated rows and ties too
        points = rng.random((6, d)).round(1)
        before = hypervolume(front, ref) if len(front) else 0.0
        expected = [hypervolume(np.vstack([front, p]), ref) - before for p in points]
        assert hypervolume_improvement(points, front, ref) == pytest.approx(expected)
    with pytest.raises(ValueError, match="2 or 3 objectives"):
        hypervolume_improvement([[0.0] * 4], [[0.5] * 4], [1.0] * 4)


def test_mobo_beats_random_and_nsga2_early_on_zdt1():
    mobo = [_zdt1_volume("mobo", s, n_trials=30) for s in range(2)]
    rand = [_zdt1_volume("random", s, n_trials=30) for s in range(2)]
    assert min(mobo) > max(rand), (mobo, rand)


def test_mobo_with_constraints_pending_trials_and_more_objectives():
    space = {"x": (0.0, 1.0), "y": (0.0, 1.0)}

    def constrained(config):  # the unconstrained front lies at x < 0.5; feasible needs x >= 0.5
        return {"objective": (config["x"] + config["y"], 1 - config["x"] + config["y"]),
                "constraints": [0.5 - config["x"]]}

    study = hs.create_study(space, directions=["minimize", "minimize"], sampler="mobo", seed=0)
    study.optimize(constrained, n_trials=30, progress=False)
    later = study.trials[10:]  # after the initial design
    assert sum(t.feasible for t in later) >= 15 and all(t.feasible for t in study.best_trials)
    first, second = study.ask(), study.ask()  # the first is pending when the second is proposed
    assert first.config != second.config
    four = hs.create_study(space, directions=["minimize"] * 4, sampler="mobo", seed=0)
    four.optimize(lambda c: (c["x"], 1 - c["x"], c["y"], 1 - c["y"]), n_trials=14, progress=False)
    assert len(four.best_trials) >= 10  # every trial trades one objective for another
    one = hs.create_study(space, sampler="mobo", seed=0)  # one objective: Bayesian optimization as "bo"
    one.optimize(lambda c: (c["x"] - 0.3) ** 2 + c["y"], n_trials=16, progress=False)
    assert one.best_value < 0.05


def test_nsga3_niching_spreads_the_elite_over_reference_directions():
    from hypersweep.samplers.nsga3 import NSGAIIISampler, reference_directions

    lattice = reference_directions(4, 3)
    assert len(lattice) == math.comb(3 + 3, 3) and np.allclose(lattice.sum(axis=1), 1.0)
    sampler = NSGAIIISampler(population_size=20, seed=0)
    # a front of 4 objectives: five near-copies crowd one corner, three others sit near other directions
    crowd = [[0.01 * i, 1.0, 1.0, 1.0] for i in range(5)]
    others = [[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]]
    losses = np.array(crowd + others + [[2.0, 2.0, 2.0, 2.0]])  # the last is dominated
    order = sampler._order(losses, np.zeros(len(losses))).tolist()
    assert sorted(order) == list(range(len(losses))) and order[-1] == 8
    assert set(order[:4]) >= {5, 6, 7}  # one per niche before a second from the crowded corner
    infeasible = sampler._order(losses, np.array([0, 0, 0, 0, 0, 0, 0, 2.0, 1.0])).tolist()
    assert infeasible[-2:] == [8, 7]  # after the feasible ones, the least violating first
    with pytest.raises(ValueError, match="divisions"):
        NSGAIIISampler(divisions=0)


def test_nsga2_handles_integers_and_categories_and_checks_its_options():
    study = hs.create_study({"n": hs.Int(1, 8), "act": hs.Categorical(["a", "b", "c"]), "x": (0.0, 1.0)},
                            directions=["minimize", "maximize"], sampler=NSGAIISampler(population_size=6, seed=0))
    study.optimize(lambda c: (c["n"] + c["x"], float(c["act"] == "b") + c["x"]), n_trials=30, progress=False)
    configs = [t.config for t in study.trials]
    assert all(isinstance(c["n"], int) and 1 <= c["n"] <= 8 and c["act"] in "abc" for c in configs)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    for bad in ({"population_size": 1}, {"crossover_prob": 1.5}, {"eta_mutation": 0}):
        with pytest.raises((ValueError, TypeError), match=next(iter(bad))):
            NSGAIISampler(**bad)


# --- constraints -------------------------------------------------------------------------------------------------
def _constrained(config):
    """Two objectives, and x + y <= 1 (feasible when the constraint value is <= 0)."""
    x, y = config["x"], config["y"]
    return {"objective": (x, y + (1 - x) ** 2), "constraints": [0.6 - x - y]}


@pytest.mark.parametrize("sampler", ["nsga2", "tpe", "random"])
def test_the_front_holds_feasible_trials_only(sampler):
    study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize", "minimize"],
                            sampler=NSGAIISampler(population_size=10, seed=0) if sampler == "nsga2" else sampler,
                            seed=0)
    study.optimize(_constrained, n_trials=60, progress=False)
    done = study.get_trials(["complete"])
    assert any(not t.feasible for t in done) and any(t.feasible for t in done)
    front = study.best_trials
    assert front and all(t.feasible and t.constraints[0] <= 0 for t in front)
    feasible = [t for t in done if t.feasible]
    L = np.array([t.values for t in feasible])
    assert [t.number for t in front] == [t.number for t, keep in zip(feasible, _brute_front(L), strict=True) if keep]


def test_samplers_read_infeasible_trials_as_bad():
    from hypersweep.samplers._cube import _EncodingCache, _split_history, _split_history_several
    from hypersweep.samplers.nsga2 import _elite_order
    from hypersweep.space import Space

    space = Space({"x": (0.0, 1.0)})
    trials = [hs.Trial(i, {"x": i / 4}, TrialState.COMPLETE, values=(float(i), 4.0 - i),
                       metadata={"constraints": [0.5 - i]}) for i in range(4)]  # trial 0 is infeasible
    X, y, X_bad = _split_history(space, trials, "minimize", _EncodingCache())
    assert X.ravel().tolist() == [0.25, 0.5, 0.75] and X_bad.ravel().tolist() == [0.0]
    X, y, X_bad, losses = _split_history_several(space, trials, ["minimize", "minimize"], _EncodingCache())
    assert len(y) == 3 and X_bad.ravel().tolist() == [0.0] and losses.tolist() == [[1, 3], [2, 2], [3, 1]]
    losses = np.array([t.values for t in trials])
    assert _elite_order(losses)[-1] != 0  # without constraints trial 0 is on the front
    assert _elite_order(losses, np.array([t.violation for t in trials]))[-1] == 0


def test_constraints_through_the_trial_and_clear_errors():
    def objective(config, trial):
        trial.set_constraints([config["x"] - 0.5])
        return config["x"]

    study = hs.create_study({"x": (0.0, 1.0)}, direction="maximize", sampler="random", seed=0)
    study.optimize(objective, n_trials=20, progress=False)
    assert study.best_trial.constraints[0] <= 0
    assert study.best_value == max(t.value for t in study.trials if t.feasible) <= 0.5
    never = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0)
    never.optimize(lambda c: {"objective": c["x"], "constraints": [1.0 + c["x"]]}, n_trials=3, progress=False)
    with pytest.raises(ValueError, match="none of its 3 completed trials is feasible.*closest is trial"):
        _ = never.best_trial
    bad = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0)
    bad.optimize(lambda c: {"objective": c["x"], "constraints": ["low"]}, n_trials=1, progress=False)
    assert "constraints must be finite numbers" in bad.trials[0].fail_reason
    from hypersweep.objective import TrialHandle

    with pytest.raises(ValueError, match="set_constraints"):
        TrialHandle.set_constraints(bad.ask(), [float("nan")])


def test_progress_bar_shows_the_front_size_and_counts_feasible_trials_only(capsys):
    from hypersweep.progress import ProgressBar

    study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], sampler="random", seed=0)
    study.optimize(lambda c: (c["x"], 1 - c["x"]), n_trials=6, progress=True)  # every trial on the front
    shown = capsys.readouterr().err
    assert "front=6" in shown and "best=" not in shown

    bar = ProgressBar(total=None, enabled=False, directions=["maximize", "minimize"])
    for number, (values, constraints) in enumerate([((1.0, 1.0), [-1.0]), ((10.0, 5.0), [2.0]),  # infeasible
                                                     ((2.0, 2.0), [0.0]), ((2.0, 2.0), [-1.0]),   # a tie
                                                     ((3.0, 0.5), [-1.0])]):                      # dominates all
        bar.update(hs.Trial(number, {}, TrialState.COMPLETE, values=values, metadata={"constraints": constraints}))
    assert bar.postfix() == {"front": "1"}
    one = ProgressBar(total=None, enabled=False, direction="minimize")
    one.update(hs.Trial(0, {}, TrialState.COMPLETE, value=1.0, metadata={"constraints": [-0.5]}))
    one.update(hs.Trial(1, {}, TrialState.COMPLETE, value=0.1, metadata={"constraints": [0.5]}))  # infeasible
    one.update(hs.Trial(2, {}, TrialState.FAILED))
    assert one.postfix() == {"best": "1", "failed": "1"}
