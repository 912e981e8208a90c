"""A HyperbandSearchCV with storage=, killed halfway (SIGKILL), continues with resume=True: finished models are
kept and the surviving ones continue from their checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("resume_script.py")


def _calls(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def _run(counter: Path, storage: str, resume: bool, pause: float, where: str) -> subprocess.Popen:
    args = [str(counter), storage, "1" if resume else "0", str(pause), where]
    return subprocess.Popen([sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["threads", "dask"])
def test_killed_search_resumes_from_checkpoints(tmp_path, where):
    from hypersweep import load_study

    full = tmp_path / "full.txt"
    out = _run(full, "-", False, 0.0, where).communicate(timeout=120)
    assert "done" in out[0], out[1][-3000:]
    uninterrupted = _calls(full)

    counter, db = tmp_path / "resumed.txt", f"sqlite:///{tmp_path / 'search.db'}"
    proc = _run(counter, db, False, 0.01, where)
    deadline = time.monotonic() + 120
    while _calls(counter) < uninterrupted // 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {t.number: (t.state, t.value) for t in load_study("hb", storage=db).trials if t.state.is_finished}
    assert before, "nothing had finished before the kill"

    out = _run(counter, db, True, 0.0, where).communicate(timeout=120)
    assert "done" in out[0], out[1][-3000:]
    study = load_study("hb", storage=db)
    after = {t.number: (t.state, t.value) for t in study.trials}
    for number, kept in before.items():  # every finished model is kept as it was
        assert after[number] == kept
    n_models = len(after)
    assert n_models == 17  # Hyperband(9, 3) plans 9 + 5 + 3 models: none was started twice
    total = _calls(counter)
    assert uninterrupted <= total <= uninterrupted + n_models, (uninterrupted, total)
