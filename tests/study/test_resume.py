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


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sigkill_halfway_then_resume_keeps_every_finished_trial(kind, tmp_path, request):
    url = f"sqlite:///{tmp_path}/study.db" if kind == "sqlite" else _backend(request, PG)
    name = f"kill-{uuid.uuid4().hex[:8]}"
    proc = _launch(url, name, n_trials=30, sleep=0.05)
    _wait_for_complete(url, name, 12, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    before = {t.number: t for t in hs.load_study(name, url).trials if t.state == TrialState.COMPLETE}
    assert len(before) >= 12
    if kind == "postgres":
        time.sleep(2.5)  # let the dead process's heartbeats go stale (grace = 4 x 0.5 s)
    study = hs.create_study(SPACE, storage=url, name=name, resume=True, heartbeat_interval=0.5)
    study.optimize(lambda c: (c["x"] - 0.3) ** 2 + c["n"] / 100, n_trials=30 - len(before), progress=False)

    after = study.trials
    kept = {t.number: t for t in after if t.number in before}
    assert all(kept[n].state == TrialState.COMPLETE and kept[n].value == before[n].value for n in before)
    assert sum(t.state == TrialState.COMPLETE for t in after) == 30
    assert not [t for t in after if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    retried = [t for t in after if "retry_of" in t.system_attrs]
    lost = [t for t in after if t.state == TrialState.FAILED]
    assert len(retried) == len(lost)  # the trial the kill interrupted was re-queued and run again
    if hs.get_storage(url).supports_multiple_writers:
        hs.get_storage(url).delete_study(name)


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
