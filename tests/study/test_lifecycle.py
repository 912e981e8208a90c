"""The trial lifecycle through the Study: pause, promote and resume from checkpoints on every executor,
re-queue on interrupt, NaN reports, and the driver API that front ends use."""

import math
from collections import Counter

import pytest
from objectives import checkpointed_curve

import hypersweep as hs
from hypersweep import Decision, TrialState
from hypersweep.schedulers import ASHA, Hyperband
from hypersweep.testing.simulator import run_hyperband

SPACE = {"x": (0.0, 1.0)}


@pytest.mark.parametrize("executor, n_workers", [("serial", 1), ("thread", 2), ("process", 2)])
def test_asha_promotions_resume_trials_from_their_checkpoints(executor, n_workers, tmp_path):
    study = hs.create_study(SPACE, sampler="random", seed=0, scheduler=ASHA(max_resource=9, promote=True),
                            artifacts=tmp_path / "artifacts")
    study.optimize(checkpointed_curve, n_trials=30, n_workers=n_workers, executor=executor, progress=False)
    trials = study.trials
    states = Counter(t.state for t in trials)
    assert set(states) == {TrialState.PAUSED, TrialState.COMPLETE} and states[TrialState.COMPLETE] >= 1
    promoted = [t for t in trials if t.last_step > 1]
    assert len(promoted) >= 10  # the top third of rung 1 went on to rung 3
    for t in trials:
        assert t.load_checkpoint() == list(range(1, t.last_step + 1))  # each step ran once: resumed, not retrained
    best = study.best_trial
    assert best.last_step == 9 and best.load_checkpoint() == list(range(1, 10))


def test_stopping_asha_prunes_instead_of_pausing():
    study = hs.create_study(SPACE, sampler="random", seed=0, scheduler=ASHA(max_resource=9))
    study.optimize(checkpointed_curve, n_trials=20, progress=False)
    assert set(Counter(t.state for t in study.trials)) == {TrialState.PRUNED, TrialState.COMPLETE}


def test_synchronous_hyperband_in_trial_mode_runs_its_plan_with_checkpoints():
    hb = Hyperband(max_resource=9, reduction_factor=3, synchronous=True)  # 9 + 5 + 3 = 17 models, 69 epochs

    def objective(config, trial):
        ran = trial.load_checkpoint() if trial.checkpoint is not None else 0
        for epoch in range(trial.last_step + 1, 10):
            ran += 1
            trial.report((config["x"] - 0.5) ** 2 + 1 / epoch, step=epoch)
            trial.save_checkpoint(ran, step=epoch)
            if trial.should_stop():
                break
        return (config["x"] - 0.5) ** 2

    study = hs.create_study(SPACE, sampler="random", seed=1, scheduler=hb)
    study.optimize(objective, n_trials=hb.plan().n_models, n_workers=3, executor="thread", progress=False)
    trials = study.trials
    assert sum(t.load_checkpoint() for t in trials) == hb.plan().partial_fit_calls == 69
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}


def test_nan_and_inf_reports_are_the_worst_value_and_get_pruned():
    def objective(config, trial):
        for step in range(1, 10):
            value = math.inf if config["x"] > 0.5 and step > 1 else config["x"] + 1 / step
            trial.report(value, step=step)
            if trial.should_stop():
                break
        return value

    study = hs.create_study(SPACE, sampler="random", seed=0, scheduler=hs.schedulers.SuccessiveHalving(max_resource=9))
    study.optimize(objective, n_trials=20, progress=False)
    diverged = [t for t in study.trials if t.config["x"] > 0.5]
    assert diverged and all(t.state is TrialState.PRUNED for t in diverged)
    assert all(t.last_step <= 3 for t in diverged)  # never past the rung after they diverged
    went_on = [t for t in diverged if t.last_step >= 2]
    assert went_on and all(math.isnan(t.intermediate[2]) for t in went_on)  # recorded, not dropped


def test_an_interrupt_requeues_running_trials_which_resume_at_their_checkpoint():
    calls = []

    def objective(config, trial):
        start = trial.last_step
        calls.append((trial.number, start))
        for epoch in range(start + 1, 6):
            trial.report(epoch, step=epoch)
            trial.save_checkpoint(epoch, step=epoch)
            if trial.number == 2 and epoch == 3 and start == 0:
                raise KeyboardInterrupt
        return float(config["x"])

    study = hs.create_study(SPACE, sampler="random", seed=0)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=5, progress=False)
    interrupted = study.trial(2)
    assert interrupted.state is TrialState.WAITING and interrupted.last_step == 3
    assert interrupted.system_attrs["requeued"] == 1 and interrupted.system_attrs["requeue_reason"] == "interrupted"
    study.optimize(objective, n_trials=2, progress=False)
    assert (2, 3) in calls  # resumed after its checkpoint of step 3
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    assert study.trial(2).intermediate == {step: float(step) for step in range(1, 6)}


def test_an_engine_error_requeues_running_trials_with_its_reason():
    class Broken(hs.BaseSampler):
        calls = 0

        def ask(self, space, trials, pending, direction):
            Broken.calls += 1
            if Broken.calls == 2:
                raise RuntimeError("sampler bug")
            return space.sample(self.rng)

    def slow(config):
        import time

        time.sleep(0.3)
        return config["x"]

    study = hs.create_study(SPACE, sampler=Broken(seed=0))
    with pytest.raises(RuntimeError, match="sampler bug"):
        study.optimize(slow, n_trials=10, n_workers=2, executor="thread", progress=False)
    waiting = study.get_trials(["waiting"])
    assert [t.system_attrs["requeue_reason"] for t in waiting] == ["search stopped by RuntimeError: sampler bug"]
    assert not study.get_trials(["running"])


def test_user_attrs_and_artifacts_from_the_objective(tmp_path):
    def objective(config, trial):
        trial.set_user_attr("size", 12)
        trial.save_artifact("notes.txt", str(_write(tmp_path / f"n{trial.number}.txt", "hello")))
        return config["x"]

    for executor in ("serial", "process"):
        study = hs.create_study(SPACE, sampler="random", seed=0, artifacts=tmp_path / executor)
        study.optimize(objective, n_trials=2, n_workers=1, executor=executor, progress=False)
        t = study.trials[0]
        assert t.user_attrs == {"size": 12}
        assert open(t.load_artifact("notes.txt")).read() == "hello"
    study = hs.create_study(SPACE)
    study.optimize(lambda c, trial: trial.set_user_attr("bad", object()) or 1.0, n_trials=1, progress=False)
    assert study.trials[0].state is TrialState.FAILED and "must be JSON" in study.trials[0].fail_reason


def _write(path, text):
    path.write_text(text)
    return path


def test_saving_a_checkpoint_without_an_artifact_store_says_how_to_get_one():
    storage = hs.storage.InMemoryStorage()
    record = storage.create_study("s", space=hs.Space(SPACE).to_dict())
    study = hs.Study(storage, record.study_id, "s", "minimize", hs.Space(SPACE), hs.get_sampler("random"),
                     hs.get_scheduler(None))
    handle = study.ask()
    with pytest.raises(RuntimeError, match="artifacts="):
        handle.save_checkpoint({"w": 1}, step=1)


# --- the driver API -------------------------------------------------------------------------------------
def test_a_driver_follows_next_steps_through_hyperband():
    hb = Hyperband(max_resource=81, reduction_factor=3)
    study = hs.create_study({"lr": (1e-4, 1.0, "log-uniform")}, direction="maximize", sampler="random", seed=0,
                            scheduler=hb)
    handles = {}
    for s, bracket in hb.brackets().items():
        for _ in range(bracket.n_models):
            h = study.start_trial(system_attrs={"bracket": s})
            handles[h.number] = h
    calls = Counter()
    models = {n: 0 for n in handles}
    while todo := study.next_steps():
        for number, n in todo.items():
            if n == 0:
                if study.trial(number).state is TrialState.RUNNING:
                    study.tell(number, state="pruned")
                continue
            for _ in range(n):
                models[number] += 1
                calls[number] += 1
            score = -abs(math.log10(handles[number].config["lr"]) + 2) + math.log(models[number]) / 10
            assert study.report(number, score, step=models[number]) in tuple(Decision)
    assert sum(calls.values()) == hb.plan().partial_fit_calls == 1581
    assert len(handles) == hb.plan().n_models == 143
    # the same calls the pure driver-mode runner makes on the same scores
    expected = run_hyperband(hb, lambda model, step: 0.0)
    assert expected.metadata["partial_fit_calls"] == 1581


def test_driver_pause_resume_and_checkpoints(tmp_path):
    study = hs.create_study(SPACE, sampler="random", seed=0, artifacts=tmp_path)
    handle = study.start_trial({"x": 0.25})
    handle.report(0.5, step=1)
    handle.save_checkpoint({"weights": [1, 2]}, step=1)
    paused = study.pause(handle)
    assert paused.state is TrialState.PAUSED and paused.value == 0.5
    again = study.resume(paused.number)
    assert again.checkpoint is not None and again.last_step == 1
    assert again.load_checkpoint() == {"weights": [1, 2]}
    with pytest.raises(RuntimeError, match="cannot be resumed"):
        study.resume(paused.number)  # it is running now
    again.report(0.25, step=2)
    done = study.tell(again, 0.25)
    assert done.state is TrialState.COMPLETE and done.intermediate == {1: 0.5, 2: 0.25}
    assert study.load_checkpoint(done.number) == {"weights": [1, 2]}
    refit = study.save_checkpoint(done.number, {"weights": [3]}, step=2)  # a driver keeping only numbers
    assert refit.step == 2 and study.trial(done.number).checkpoint == refit
    assert study.load_checkpoint(done) == {"weights": [3]}
    with pytest.raises(ValueError, match="outside Float"):
        study.start_trial({"x": 3.0})
