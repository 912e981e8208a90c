"""executor="ray": trials as Ray tasks, reports and stop decisions across Ray workers, a dead worker, sessions.

One local Ray for the module (starting Ray takes seconds), started by a `RayExecutor` that owns it and shut down
by that executor at the end; every test's executor attaches to it.
"""

import os
import subprocess
import sys

import cloudpickle
import objectives
import pytest
from objectives import checkpointed_curve, crash_on_big_x, curve, with_metadata

import hypersweep as hs
from hypersweep import TrialState
from hypersweep.execution import get_executor

ray = pytest.importorskip("ray")

from hypersweep.execution.ray import RayExecutor  # noqa: E402 - after the skip when Ray is missing

SPACE = {"x": (0.0, 1.0)}


@pytest.fixture(scope="module")
def session():
    if ray.is_initialized():
        pytest.skip("a Ray session is already running in this process")
    # Ray workers import from the driver's script directory and cwd, not pytest's `pythonpath = tests`
    cloudpickle.register_pickle_by_value(objectives)
    try:
        with pytest.MonkeyPatch.context() as env:
            env.delenv("RAY_ADDRESS", raising=False)  # a local Ray of its own, not a cluster named there
            owner = RayExecutor(n_workers=2)
        try:
            yield owner
        finally:
            owner.shutdown()
    finally:
        cloudpickle.unregister_pickle_by_value(objectives)
    assert not ray.is_initialized(), "the executor that started Ray shuts it down"


def test_every_trial_runs_in_a_ray_worker(session):
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(with_metadata, n_trials=8, n_workers=2, executor="ray", progress=False)
    trials = study.trials
    assert len(trials) == 8 and all(t.state == TrialState.COMPLETE for t in trials)
    assert os.getpid() not in {t.metadata["pid"] for t in trials}
    assert ray.is_initialized()  # executor="ray" attached to the running session: it leaves it running


def test_the_stop_decision_reaches_the_ray_worker(session):
    study = hs.create_study(SPACE, sampler="random", seed=0, scheduler="sh")
    study.optimize(curve, n_trials=12, n_workers=2, executor="ray", progress=False)
    trials = study.trials
    assert all(t.intermediate for t in trials)
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    # told to stop, the objectives broke out of their loops (one that reported its last step before the
    # decision came back, on a loaded machine, is pruned all the same)
    assert pruned and sum(t.last_step < 9 for t in pruned) >= len(pruned) // 2
    assert any(t.state == TrialState.COMPLETE and t.last_step == 9 for t in trials)


def test_ray_workers_resume_promoted_trials_from_their_checkpoints(session, tmp_path):
    scheduler = hs.schedulers.ASHA(max_resource=9, promote=True)
    study = hs.create_study(SPACE, sampler="random", seed=2, scheduler=scheduler, artifacts=tmp_path)
    study.optimize(checkpointed_curve, n_trials=12, executor="ray", n_workers=2, progress=False)
    trials = study.trials
    assert {t.state for t in trials} == {TrialState.PAUSED, TrialState.COMPLETE}
    assert all(t.load_checkpoint() == list(range(1, t.last_step + 1)) for t in trials)


def test_a_dead_ray_worker_fails_only_its_trial(session):
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(crash_on_big_x, n_trials=8, n_workers=2, executor="ray", progress=False)
    trials = study.trials
    assert len(trials) == 8 and all(t.is_finished for t in trials)
    died = [t for t in trials if t.config["x"] > 0.8]
    assert len(died) == 2, "seed 0 draws two x > 0.8 in its first 8 trials"
    assert all(t.state == TrialState.FAILED and "WorkerCrashedError" in t.fail_reason for t in died)
    assert all(t.state == TrialState.COMPLETE for t in trials if t.config["x"] <= 0.8)  # not retried, not lost


def test_a_large_objective_is_put_in_the_object_store_once(session):
    weights = bytes(200_000)  # the pickled objective is over the 64 KiB from which it is shared

    def objective(config):
        return config["x"] + len(weights)

    executor = RayExecutor(n_workers=2)
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(objective, n_trials=4, executor=executor, progress=False)
    assert all(t.value == pytest.approx(t.config["x"] + 200_000) for t in study.trials)
    assert len(executor._shared) == 1
    executor.shutdown()
    assert ray.is_initialized()


def test_names_sizes_and_addresses(session):
    ex, owned = get_executor("ray", n_workers=3)
    assert isinstance(ex, RayExecutor) and owned and ex.n_workers == 3
    assert ex.report_host() == "127.0.0.1"  # every node of a local session is this machine
    ex.shutdown()
    assert get_executor("ray", n_workers=-1)[0].n_workers == 2  # as many as the session's 2 CPUs fit
    wide = RayExecutor(num_cpus=2)
    assert wide.n_workers == 1
    wide.shutdown()
    with pytest.raises(ValueError, match="already initialised.*address='ray://head:10001'"):
        get_executor("ray://head:10001")  # Ray Client addresses go to Ray, not to Dask
    with pytest.raises(ValueError, match="num_cpus per call must be a number >= 0, got num_cpus=-1"):
        RayExecutor(num_cpus=-1)


def test_without_ray_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if Ray were not installed
    with pytest.raises(ImportError, match=r"pip install 'hypersweep\[ray\]'"):
        get_executor("ray", n_workers=2)


def test_importing_hypersweep_does_not_import_ray():
    code = "import sys, hypersweep, hypersweep.execution, hypersweep.execution.ray; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
