"""A Lightning search killed mid-trial resumes from SQLite at its last epoch; a new process reads the best
model back; n_parallels=4 on PostgreSQL finishes distinct trials."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytest.importorskip("lightning")

SCRIPT = Path(__file__).resolve().parents[1] / "lightning_script.py"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _run(*args: str, expect: int = 0) -> dict | None:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=400)
    assert done.returncode == expect, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]) if expect == 0 else None


@pytest.mark.slow
def test_killed_search_resumes_the_interrupted_trial_at_its_last_epoch(tmp_path):
    url, log = f"sqlite:///{tmp_path / 'hpo.db'}", tmp_path / "epochs.log"
    # 4 epochs a trial: trial 0 runs epochs 0-3, trial 1 epochs 0-1, and the process dies as epoch 2 starts
    _run(url, "s", "3", "--kill-at-epoch", "7", "--log", str(log), expect=17)
    first = [line.split() for line in log.read_text().splitlines()]
    assert [(int(n), int(e)) for n, e, _ in first] == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]
    log.write_text("")
    result = _run(url, "s", "2", "--resume", "--log", str(log))
    resumed = [(int(n), int(e)) for n, e, _ in (line.split() for line in log.read_text().splitlines())]
    assert resumed[:2] == [(1, 2), (1, 3)]  # trial 1 went on from its epoch-2 checkpoint
    # n_trials counts the re-queued trial it claimed (as in Optuna): one new trial, from its first epoch
    assert resumed[2:] == [(2, 0), (2, 1), (2, 2), (2, 3)]
    trials = {t["number"]: t for t in result["trials"]}
    assert len(trials) == 3 and all(t["state"] == "complete" and t["steps"] == [1, 2, 3, 4] for t in trials.values())
    assert result["returned_score"] == pytest.approx(result["best_value"], abs=1e-6)
    # a new process reads the finished search back: the same best model, no trial run
    again = _run(url, "s", "0", "--resume", "--log", str(log))
    assert again["best_number"] == result["best_number"] and len(again["trials"]) == 3
    assert log.read_text().count("\n") == 6  # nothing trained again
    assert again["returned_score"] == pytest.approx(result["best_value"], abs=1e-6)


@pytest.mark.slow
@pytest.mark.postgres
def test_parallel_search_on_postgresql_finishes_distinct_trials(tmp_path):
    from hypersweep.storage.sql import SQLStorage, StorageConnectionError

    try:
        SQLStorage(POSTGRES_URL).close()
    except (StorageConnectionError, ImportError) as exc:  # pragma: no cover - the server is part of the machine
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    name = f"dl-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "epochs.log"
    result = _run(POSTGRES_URL, name, "8", "--parallels", "4", "--epochs", "2", "--log", str(log),
                  "--artifacts", str(tmp_path / "artifacts"))
    trials = result["trials"]
    assert sorted(t["number"] for t in trials) == list(range(8))
    assert all(t["state"] == "complete" for t in trials)
    assert len({json.dumps(t["config"], sort_keys=True) for t in trials}) == 8
    pids = {pid for _, _, pid in (line.split() for line in log.read_text().splitlines())}
    assert len(pids) >= 2  # the trials ran in several worker processes
    assert result["returned_score"] == pytest.approx(result["best_value"], abs=1e-6)
