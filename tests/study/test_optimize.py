"""`Study.optimize`, `ask`/`tell` and results on the in-memory storage and the local executors."""

import math
import threading

import numpy as np
import pytest
from objectives import curve, quadratic, slow_quadratic, with_metadata

import hypersweep as hs
from hypersweep import TrialState

SPACE = {"x": (0.0, 1.0)}


def test_optimize_finds_the_minimum_and_records_everything():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(quadratic, n_trials=30, progress=False)
    trials = study.trials
    assert [t.number for t in trials] == list(range(30))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert study.best_value == min(t.value for t in trials)
    assert study.best_value < 0.01
    assert all(t.duration is not None and t.duration >= 0 for t in trials)


@pytest.mark.parametrize(
    "result, reason",
    [
        (float("nan"), "nan"),
        (math.inf, "inf"),
        ("F_diverged", "F_diverged"),
        (None, "return a number"),
        ("hello", "string"),
        ([1, 2], "returned 2 value(s) for a study of 1 objective(s)"),
        ({"loss": 1.0}, "without an 'objective' key"),
    ],
)
def test_bad_results_fail_the_trial_and_the_search_goes_on(result, reason):
    calls = []

    def objective(config):
        calls.append(config)
        return result if len(calls) == 2 else config["x"]

    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(objective, n_trials=4, progress=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAILED, TrialState.COMPLETE, TrialState.COMPLETE]
    assert reason in study.trials[1].fail_reason


def test_an_exception_is_recorded_with_its_message():
    def objective(config):
        raise RuntimeError("out of memory")

    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(objective, n_trials=3, progress=False)
    assert all(t.state == TrialState.FAILED for t in study.trials)
    assert study.trials[0].fail_reason.startswith("RuntimeError: out of memory")
    with pytest.raises(ValueError, match="no completed trial"):
        _ = study.best_trial


def test_direction_maximize_picks_the_largest():
    study = hs.create_study(SPACE, direction="maximize", sampler="random", seed=1)
    study.optimize(lambda c: c["x"], n_trials=20, progress=False)
    assert study.best_value == max(t.value for t in study.trials)


def test_starting_points_and_enqueued_configs_run_first():
    problem = hs.Problem({"x": (0.0, 1.0), "k": ["a", "b"]})
    problem.add_starting_point(x=0.5, k="b")
    study = hs.create_study(problem, sampler="random", seed=0)
    study.enqueue({"x": 0.25, "k": "a"})
    seen = []
    study.optimize(lambda c: seen.append(dict(c)) or c["x"], n_trials=5, progress=False)
    assert seen[:2] == [{"x": 0.5, "k": "b"}, {"x": 0.25, "k": "a"}]
    with pytest.raises(ValueError, match="outside"):
        study.enqueue({"x": 3.0, "k": "a"})


def test_ask_tell_by_hand():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    for _ in range(5):
        trial = study.ask()
        study.tell(trial, trial.config["x"] * 2)
    t = study.ask()
    study.tell(t, state="pruned")
    t = study.ask()
    study.tell(t.number, state="failed", fail_reason="diverged")
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 5 + [TrialState.PRUNED, TrialState.FAILED]
    assert study.trials[-1].fail_reason == "diverged"
    with pytest.raises(Exception, match="already"):
        study.tell(t, 1.0)
    with pytest.raises(ValueError, match="state must be"):
        study.tell(study.ask(), state="running")


def test_metadata_dataframe_and_csv(tmp_path):
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(with_metadata, n_trials=5, progress=False)
    df = study.trials_dataframe()
    for column in ["number", "state", "objective", "p:x", "m:note", "m:pid", "datetime_start", "duration"]:
        assert column in df.columns
    assert (df["m:note"] == "ok").all()
    study.to_csv(tmp_path / "out" / "results.csv")
    import pandas as pd

    back = pd.read_csv(tmp_path / "out" / "results.csv")
    assert back["objective"].tolist() == pytest.approx(df["objective"].tolist())


def test_callbacks_see_each_finished_trial():
    seen = []
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(quadratic, n_trials=6, progress=False, callbacks=[lambda s, t: seen.append(t.number)])
    assert seen == list(range(6))


def test_timeout_stops_launching_new_trials():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(slow_quadratic, timeout=0.5, progress=False)
    assert 3 <= len(study.trials) <= 15
    assert all(t.is_finished for t in study.trials)


def test_seeded_serial_runs_are_reproducible():
    def configs(seed):
        study = hs.create_study({"x": (0.0, 1.0), "n": (1, 50), "c": ["a", "b", "c"]}, sampler="tpe", seed=seed)
        study.optimize(lambda c: c["x"] + c["n"] / 50 + (c["c"] == "b"), n_trials=25, progress=False)
        return [t.config for t in study.trials]

    assert configs(3) == configs(3)
    assert configs(3) != configs(4)


def test_grid_visits_each_point_exactly_once_even_in_parallel():
    space = {"a": ["x", "y", "z"], "b": (1, 4)}
    study = hs.create_study(space, sampler="grid")
    lock, seen = threading.Lock(), []

    def objective(config):
        with lock:
            seen.append((config["a"], config["b"]))
        return config["b"]

    study.optimize(objective, n_workers=3, executor="thread", progress=False)  # stops when the grid is done
    assert len(seen) == 12 and len(set(seen)) == 12


def test_thread_executor_runs_trials_concurrently():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(slow_quadratic, n_trials=8, n_workers=4, executor="thread", progress=False)
    trials = study.trials
    assert len(trials) == 8 and all(t.state == TrialState.COMPLETE for t in trials)
    starts = sorted(t.datetime_start for t in trials)
    assert (starts[3] - starts[0]).total_seconds() < 0.05  # four started together


def test_early_stopping_through_the_trial_argument():
    scheduler = hs.get_scheduler("asha", max_resource=9)
    study = hs.create_study(SPACE, sampler="random", seed=0, scheduler=scheduler)
    study.optimize(curve, n_trials=30, progress=False)
    trials = study.trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert pruned and complete
    assert all(t.last_step < 9 for t in pruned)
    assert all(t.value == t.intermediate[t.last_step] for t in pruned)
    assert study.best_trial.last_step == 9


def test_a_scheduler_given_to_optimize_prunes_from_that_call_on():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(curve, n_trials=5, progress=False)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)  # no scheduler: every trial runs out
    study.optimize(curve, n_trials=25, progress=False, scheduler=hs.get_scheduler("asha", max_resource=9))
    later = study.trials[5:]
    assert any(t.state == TrialState.PRUNED for t in later)
    assert type(study.scheduler).__name__ == "ASHA"
    with pytest.raises(ValueError, match="scheduler"):
        study.optimize(curve, n_trials=1, progress=False, scheduler="no-such-scheduler")
    several = hs.create_study(SPACE, directions=["minimize", "maximize"], sampler="random", seed=0)
    with pytest.raises(ValueError, match="MedianStopping judges one objective"):
        several.optimize(lambda c: (c["x"], c["x"]), n_trials=1, progress=False, scheduler="median")
    assert len(several.trials) == 0


def test_interrupt_requeues_the_running_trial_and_keeps_finished_ones():
    calls = []

    def objective(config):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return config["x"]

    study = hs.create_study(SPACE, sampler="random", seed=0)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=10, progress=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 3 + [TrialState.WAITING]  # back in the queue, to run first
    assert study.trials[-1].system_attrs["requeue_reason"] == "interrupted"
    study.optimize(objective, n_trials=1, progress=False)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_trials": -1}, "n_trials must be"),
        ({"timeout": 0}, "timeout must be"),
        ({"executor": "gpu"}, "executor='gpu' is not known"),
        ({"executor": "serial", "n_workers": 4}, "runs one trial at a time"),
        ({"executor": "thread", "n_workers": 0}, "n_workers must be an int >= 1, got n_workers=0; or n_workers=-1"),
    ],
)
def test_optimize_argument_errors(kwargs, message):
    study = hs.create_study(SPACE)
    with pytest.raises((ValueError, TypeError), match=message):
        study.optimize(quadratic, **{"n_trials": 1, **kwargs}, progress=False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"direction": "up"}, "direction must be"),
        ({"sampler": "annealing"}, "sampler='annealing' is not known"),
        ({"resume": True}, "resume=True needs the name="),
        ({"storage": 3}, "storage= must be"),
    ],
)
def test_create_study_argument_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        hs.create_study(SPACE, **kwargs)


def test_duplicate_name_needs_resume():
    storage = hs.get_storage(None)
    hs.create_study(SPACE, storage=storage, name="same")
    with pytest.raises(ValueError, match="resume=True"):
        hs.create_study(SPACE, storage=storage, name="same")
    with pytest.raises(ValueError, match="another search space"):
        hs.create_study({"y": (0, 1)}, storage=storage, name="same", resume=True)


def test_tpe_and_bo_learn_within_optimize():
    def bowl(c):
        return (c["x"] - 1) ** 2 + (c["y"] + 2) ** 2

    def median_best(sampler, seeds=5):
        best = []
        for seed in range(seeds):
            study = hs.create_study({"x": (-5.0, 5.0), "y": (-5.0, 5.0)}, sampler=sampler, seed=seed)
            study.optimize(bowl, n_trials=30, progress=False)
            best.append(study.best_value)
        return float(np.median(best))

    random_best = median_best("random")
    assert median_best("tpe") < random_best
    assert median_best("bo", seeds=3) < min(random_best, 0.01)


