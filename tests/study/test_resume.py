"""Crash safety on real databases: SIGKILL halfway then resume; several processes on one study."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import hypersweep as hs
from hypersweep import TrialState

SCRIPT = str(Path(__file__).parents[1] / "search_script.py")
PG = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL = "mysql+pymysql://root@127.0.0.1:3306/test"
SPACE = {"x": (0.0, 1.0), "n": (1, 10)}


def _reachable(url):
    try:
        hs.get_storage(url).list_studies()
        return True
    except Exception:
        return False


def _backend(request, url):
    if url.startswith("sqlite"):
        return url
    if not _reachable(url):
        pytest.skip(f"database server not reachable at {url}")
    return url


def _launch(url, name, n_trials, sleep, sampler="tpe"):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.Popen(
        [sys.executable, SCRIPT, url, name, str(n_trials), str(sleep), sampler], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _wait_for_complete(url, name, count, proc, limit=60.0):
    storage = hs.get_storage(url)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            study_id = storage.get_study(name).study_id
            trials, _ = storage.get_trials(study_id)
            if sum(t.state == TrialState.COMPLETE for t in trials) >= count:
                return
        except Exception:
            pass
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    raise AssertionError("the search made no progress")


def _launch_epochs(url, name, n_trials, sleep, artifacts, log, workers=2, executor="thread"):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    args = ["epochs", url, name, str(n_trials), str(sleep), str(artifacts), str(log), str(workers), executor]
    return subprocess.Popen([sys.executable, SCRIPT, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _epochs_run(log):
    """(trial number, epoch) of every epoch the searches ran, in order."""
    if not log.exists():
        return []
    return [tuple(map(int, line.split())) for line in log.read_text().splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sigkill_halfway_then_resume_continues_interrupted_trials_from_their_checkpoints(kind, tmp_path, request):
    from search_script import EPOCHS, SPACE, epochs_objective

    url = f"sqlite:///{tmp_path}/study.db" if kind == "sqlite" else _backend(request, PG)
    name, artifacts, log = f"kill-{uuid.uuid4().hex[:8]}", tmp_path / "artifacts", tmp_path / "epochs.log"
    n_trials = 12
    proc = _launch_epochs(url, name, n_trials, sleep=0.02, artifacts=artifacts, log=log)
    _wait_for_complete(url, name, n_trials // 2, proc)
    time.sleep(0.05)  # let the next trials get some epochs in
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    trials = hs.load_study(name, url).trials
    before = {t.number: t for t in trials if t.state == TrialState.COMPLETE}
    interrupted = {t.number: t for t in trials if t.state == TrialState.RUNNING}
    assert len(before) >= n_trials // 2 and interrupted
    ran_before = _epochs_run(log)
    if kind == "postgres":
        time.sleep(2.5)  # let the dead process's heartbeats go stale (grace = 4 x 0.5 s)
    study = hs.create_study(SPACE, storage=url, name=name, resume=True, sampler="random", seed=1,
                            heartbeat_interval=0.5, artifacts=artifacts)
    remaining = n_trials - len(before) - len(interrupted)
    study.optimize(epochs_objective(log, 0.0), n_trials=remaining + len(interrupted), progress=False)

    after = {t.number: t for t in study.trials}
    assert len(after) == n_trials and all(t.state == TrialState.COMPLETE for t in after.values())
    assert all(after[n].value == t.value and after[n].intermediate == t.intermediate for n, t in before.items())
    ran = _epochs_run(log)
    # an uninterrupted search runs n_trials x EPOCHS epochs; each interrupted trial may redo at most the one
    # epoch it was in when the process died (run, but not yet checkpointed)
    assert n_trials * EPOCHS <= len(ran) <= n_trials * EPOCHS + len(interrupted)
    for number, old in interrupted.items():
        checkpointed = old.checkpoint.step if old.checkpoint is not None else 0
        resumed = [epoch for n, epoch in ran[len(ran_before):] if n == number]
        assert resumed == list(range(checkpointed + 1, EPOCHS + 1))  # continued after its last checkpoint
        model = after[number].load_checkpoint()
        assert model["epochs"] == list(range(1, EPOCHS + 1))  # the trained object carried over every epoch
        assert after[number].system_attrs["requeued"] == 1
    if hs.get_storage(url).supports_multiple_writers:
        hs.get_storage(url).delete_study(name)


@pytest.mark.slow
def test_the_best_model_loads_after_the_process_that_trained_it_is_gone(tmp_path):
    from search_script import EPOCHS

    url, artifacts, log = f"sqlite:///{tmp_path}/best.db", tmp_path / "artifacts", tmp_path / "epochs.log"
    proc = _launch_epochs(url, "best", 6, sleep=0.0, artifacts=artifacts, log=log, workers=2, executor="process")
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    study = hs.load_study("best", url)  # the artifact store comes from the study's record
    best = study.best_trial
    model = best.load_checkpoint()
    assert model["epochs"] == list(range(1, EPOCHS + 1))
    assert model["w"] == pytest.approx(EPOCHS * best.config["x"])
    assert study.load_checkpoint(best.number) == model


@pytest.mark.slow
@pytest.mark.parametrize(
    "url", [pytest.param(PG, marks=pytest.mark.postgres), pytest.param(MYSQL, marks=pytest.mark.mysql)]
)
def test_four_processes_share_one_study(url, request):
    url = _backend(request, url)
    name = f"shared-{uuid.uuid4().hex[:8]}"
    hs.create_study(SPACE, storage=url, name=name, sampler="random")
    procs = [_launch(url, name, n_trials=100, sleep=0.0, sampler="random") for _ in range(4)]
    for proc in procs:
        assert proc.wait(timeout=240) == 0, proc.stderr.read().decode()
    trials = hs.load_study(name, url).trials
    assert len(trials) == 400
    assert sorted(t.number for t in trials) == list(range(400))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    hs.get_storage(url).delete_study(name)


def test_sqlite_refuses_several_writers(tmp_path):
    storage = hs.get_storage(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(Exception, match="PostgreSQL or MySQL"):
        storage.check_multiple_writers()


def test_sqlite_refuses_a_second_process_on_a_running_study(tmp_path):
    url = f"sqlite:///{tmp_path}/busy.db"
    name = "busy"
    proc = _launch(url, name, n_trials=200, sleep=0.2)
    try:
        _wait_for_complete(url, name, 1, proc)
        with pytest.raises(Exception, match="cannot be shared by several processes"):
            hs.create_study(SPACE, storage=url, name=name, resume=True)
    finally:
        proc.kill()
        proc.wait()
    # once that process is gone the study resumes, its interrupted trial re-queued
    study = hs.create_study(SPACE, storage=url, name=name, resume=True)
    assert [t.system_attrs.get("retry_of") for t in study.get_trials(["waiting"])] != []


@pytest.mark.slow
@pytest.mark.parametrize("url", [pytest.param(PG, marks=pytest.mark.postgres)])
def test_a_grid_shared_by_processes_started_together_runs_each_point_once(url, request):
    url = _backend(request, url)
    name = f"grid-{uuid.uuid4().hex[:8]}"
    # all four create-or-resume the study at the same moment; only one may enqueue the grid
    procs = [_launch(url, name, n_trials=200, sleep=0.0, sampler="grid") for _ in range(4)]
    for proc in procs:
        assert proc.wait(timeout=240) == 0, proc.stderr.read().decode()
    trials = hs.load_study(name, url).trials
    configs = [(t.config["x"], t.config["n"]) for t in trials]
    assert len(configs) == 100 and len(set(configs)) == 100  # 10 x values x 10 n values, each once
    assert all(t.state == TrialState.COMPLETE for t in trials)
    hs.get_storage(url).delete_study(name)
