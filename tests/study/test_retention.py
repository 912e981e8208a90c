"""The retention policy in a real search: checkpoints on disk stay bounded however many trials run."""

import os

import pytest

import hypersweep as hs
from hypersweep.artifacts import LocalArtifactStore, Retention
from hypersweep.schedulers import ASHA


def _files(root):
    return sum(len(files) for _, _, files in os.walk(root))


@pytest.mark.slow
def test_ten_thousand_trials_keep_at_most_the_k_best_and_the_running_checkpoints(tmp_path):
    k, root = 5, tmp_path / "artifacts"
    store = LocalArtifactStore(root, fsync=False)
    study = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0, artifacts=store,
                            retention=Retention(keep_last=1, keep_best=k))
    most = {"running": 0, "between": 0}

    def objective(config, trial):
        for step in (1, 2):
            trial.report(config["x"] + 1.0 / step, step=step)
            trial.save_checkpoint({"x": config["x"], "step": step}, step=step)
            most["running"] = max(most["running"], _files(root))  # k best + this running trial's last one
        return config["x"]

    def after_each(study, trial):
        most["between"] = max(most["between"], _files(root))

    study.optimize(objective, n_trials=10_000, progress=False, callbacks=[after_each])
    assert len(study.trials) == 10_000
    assert most["running"] <= k + 1 and most["between"] <= k
    kept = sorted(t.number for t in study.trials if t.checkpoint is not None)
    best = sorted(t.number for t in sorted(study.trials, key=lambda t: t.value)[:k])
    assert kept == best and _files(root) == k
    assert study.best_trial.load_checkpoint() == {"x": study.best_value, "step": 2}


def test_parallel_workers_and_pruned_trials(tmp_path):
    root = tmp_path / "artifacts"
    study = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0, artifacts=root,
                            scheduler=ASHA(max_resource=9), retention=Retention(keep_best=2, delete_pruned=True))

    def objective(config, trial):
        for step in range(1, 10):
            trial.report((config["x"] - 0.5) ** 2 + 1 / step, step=step)
            trial.save_checkpoint(step, step=step)
            if trial.should_stop():
                break
        return (config["x"] - 0.5) ** 2

    study.optimize(objective, n_trials=60, n_workers=3, executor="thread", progress=False)
    trials = study.trials
    assert [t for t in trials if t.state is hs.TrialState.PRUNED]
    with_checkpoints = [t for t in trials if t.checkpoint is not None]
    assert len(with_checkpoints) <= 2 and all(t.state is hs.TrialState.COMPLETE for t in with_checkpoints)
    assert _files(root) == len(with_checkpoints)
    assert study.best_trial.load_checkpoint() == 9
