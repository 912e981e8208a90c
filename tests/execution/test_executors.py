"""Executors for real: a process pool and a Dask `LocalCluster`, trial reports across processes, dead workers."""

import os
import time
from concurrent.futures.process import BrokenProcessPool

import pytest
from objectives import checkpointed_curve, crash_on_big_x, curve, quadratic, with_metadata

import hypersweep as hs
from hypersweep import TrialState
from hypersweep.execution import ProcessExecutor, close_dask_clusters, get_executor
from hypersweep.execution.channel import ReportServer

SPACE = {"x": (0.0, 1.0)}


def test_process_executor_runs_trials_in_other_processes():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(with_metadata, n_trials=6, n_workers=2, executor="process", progress=False)
    trials = study.trials
    assert all(t.state == TrialState.COMPLETE for t in trials)
    pids = {t.metadata["pid"] for t in trials}
    assert os.getpid() not in pids


def test_lambdas_cross_process_boundaries():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    offset = 0.25
    study.optimize(lambda c: c["x"] + offset, n_trials=4, n_workers=2, executor="process", progress=False)
    assert all(t.value == pytest.approx(t.config["x"] + 0.25) for t in study.trials)


def test_reports_from_worker_processes_reach_the_scheduler():
    scheduler = hs.get_scheduler("asha", max_resource=9)
    study = hs.create_study(SPACE, sampler="random", seed=0, scheduler=scheduler)
    study.optimize(curve, n_trials=16, n_workers=2, executor="process", progress=False)
    trials = study.trials
    assert all(len(t.intermediate) >= 1 for t in trials)
    assert any(t.state == TrialState.PRUNED for t in trials)
    assert any(t.state == TrialState.COMPLETE and t.last_step == 9 for t in trials)


def test_a_dead_worker_fails_its_trial_and_the_search_goes_on():
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(crash_on_big_x, n_trials=12, n_workers=2, executor="process", progress=False)
    trials = study.trials
    assert len(trials) == 12 and all(t.is_finished for t in trials)
    died = [t for t in trials if t.config["x"] > 0.8]
    assert died, "seed 0 should draw some x > 0.8"
    assert all(t.state == TrialState.FAILED and "worker failed" in t.fail_reason for t in died)
    assert all(t.state == TrialState.COMPLETE for t in trials if t.config["x"] <= 0.8)


def test_process_pool_recovers_after_a_crash():
    ex = ProcessExecutor(1)
    try:
        with pytest.raises(BrokenProcessPool):
            ex.submit(os._exit, 1).result()
        assert ex.submit(abs, -3).result() == 3
    finally:
        ex.shutdown()


def test_a_large_argument_travels_to_each_worker_once():
    blob = bytes(200_000)  # e.g. an objective that closes over its data, pickled
    ex = ProcessExecutor(1)
    try:
        assert ex.submit(len, blob).result() == 200_000
        call, carried = ex._call(0, len, (blob,))
        assert carried == [] and call[-1].data is None  # the worker holds it: only its token goes now
        assert [ex.submit(len, blob).result() for _ in range(3)] == [200_000] * 3
        with pytest.raises(BrokenProcessPool):
            ex.submit(os._exit, 1).result()
        assert ex.submit(len, blob).result() == 200_000  # the worker that replaced the dead one gets it again
        other = bytes(300_000)
        assert ex.submit(len, other).result() == 300_000
    finally:
        ex.shutdown()


def test_report_server_round_trip():
    seen = []

    def handler(method, trial_id, *args):
        if method == "user_attr":
            raise TypeError("not JSON")
        seen.append((method, trial_id, *args))
        return args[0] == 2

    server = ReportServer(handler)
    try:
        channel = server.channel()
        assert channel.call("report", 7, 1, 0.5) is False
        assert channel.call("report", 7, 2, 0.25) is True
        assert seen == [("report", 7, 1, 0.5), ("report", 7, 2, 0.25)]
        with pytest.raises(TypeError, match="not JSON"):  # the study's error is raised again in the worker
            channel.call("user_attr", 7, "key", object.__name__)
    finally:
        server.close()


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_client_and_address(dask_client):
    study = hs.create_study(SPACE, sampler="tpe", seed=0)
    study.optimize(quadratic, n_trials=10, executor=dask_client, progress=False)
    assert len(study.get_trials([TrialState.COMPLETE])) == 10
    study.optimize(quadratic, n_trials=4, executor=dask_client.scheduler.address, progress=False)
    assert len(study.trials) == 14


def test_dask_reports_reach_the_scheduler(dask_client):
    scheduler = hs.get_scheduler("asha", max_resource=9)
    study = hs.create_study(SPACE, sampler="random", seed=1, scheduler=scheduler)
    study.optimize(curve, n_trials=12, executor=dask_client, progress=False)
    trials = study.trials
    assert any(t.state == TrialState.PRUNED for t in trials)
    assert all(t.intermediate for t in trials)


def test_dask_workers_resume_promoted_trials_from_their_checkpoints(dask_client, tmp_path):
    scheduler = hs.schedulers.ASHA(max_resource=9, promote=True)
    study = hs.create_study(SPACE, sampler="random", seed=2, scheduler=scheduler, artifacts=tmp_path)
    study.optimize(checkpointed_curve, n_trials=12, executor=dask_client, progress=False)
    trials = study.trials
    assert {t.state for t in trials} == {TrialState.PAUSED, TrialState.COMPLETE}
    assert [t for t in trials if t.last_step > 1]  # promoted past the first rung
    assert all(t.load_checkpoint() == list(range(1, t.last_step + 1)) for t in trials)  # never retrained


def test_dask_killed_worker_fails_the_trial(dask_client):
    study = hs.create_study(SPACE, sampler="random", seed=0)
    study.optimize(crash_on_big_x, n_trials=6, executor=dask_client, progress=False)
    trials = study.trials
    assert len(trials) == 6 and all(t.is_finished for t in trials)
    assert all(t.state == TrialState.FAILED for t in trials if t.config["x"] > 0.8)


def test_a_local_dask_cluster_started_on_demand_is_reused(monkeypatch):
    distributed = pytest.importorskip("distributed")
    from distributed.core import Status

    started = []
    real_local_cluster = distributed.LocalCluster

    def counted(*args, **kwargs):
        started.append(real_local_cluster(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(distributed, "LocalCluster", counted)
    close_dask_clusters()
    study = hs.create_study(SPACE, sampler="random", seed=0)
    try:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            study.optimize(quadratic, n_trials=4, n_workers=2, executor="dask", progress=False)
            times.append(time.perf_counter() - start)
        assert len(started) == 1, "the second optimize reuses the cluster of the first"
        assert times[1] < times[0] / 2, f"the second call should not pay a cluster start: {times}"
        started[0].close()  # closed behind hypersweep's back: the next call starts a new one
        study.optimize(quadratic, n_trials=2, n_workers=2, executor="dask", progress=False)
        assert len(started) == 2
    finally:
        close_dask_clusters()
    assert len(study.get_trials([TrialState.COMPLETE])) == 10
    assert started[1].status == Status.closed


def test_executor_name_errors():
    with pytest.raises(ValueError, match="not known"):
        get_executor("cluster")
    with pytest.raises(TypeError, match="executor= must be"):
        get_executor(3.5)


def test_an_unpicklable_objective_gets_a_clear_error():
    import threading

    lock = threading.Lock()
    study = hs.create_study(SPACE, sampler="random", seed=0)
    with pytest.raises(TypeError, match="cannot be sent to ProcessExecutor workers"):
        study.optimize(lambda c: lock.locked() or c["x"], n_trials=2, n_workers=2, executor="process", progress=False)
    assert study.trials == []  # nothing was started, nothing left running


def test_worker_processes_import_only_what_they_run():
    """Workers fork from a server that preloads hypersweep.objective: keeping it light keeps pools fast to start."""
    import subprocess
    import sys

    code = (
        "import sys, hypersweep.objective, hypersweep as hs\n"
        "heavy = [m for m in ('numpy', 'scipy', 'pandas', 'sqlalchemy', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert hs.create_study and 'hypersweep.study' in sys.modules  # imported on first use\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
