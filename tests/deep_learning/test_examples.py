"""examples/lightning_digits.py and examples/keras_digits.py run (their --quick settings) and print what they
promise: the returned best model validates at its recorded score, resume adds trials, the parallel search runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name: str) -> str:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=EXAMPLES)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _recorded_and_checked(out: str) -> tuple[float, float]:
    found = re.search(r"val_acc(?:uracy)? ([0-9.]+) \(the returned model, (?:validated|evaluated) again: ([0-9.]+)\)",
                      out)
    return float(found.group(1)), float(found.group(2))


@pytest.mark.slow
def test_lightning_example_runs():
    pytest.importorskip("lightning")
    out = _run("lightning_digits.py")
    recorded, checked = _recorded_and_checked(out)
    assert recorded == checked
    assert re.search(r"median val_acc of 5 random configurations trained the same way: [0-9.]+", out)
    assert "trainer.fit(best) trained 2 more epochs" in out
    assert "4 trials in the study" in out  # 2 kept in SQLite, then 2 more on resume
    assert re.search(r"4 trials, numbers \[0, 1, 2, 3\]|skipped: PostgreSQL unreachable", out)
    assert re.search(r"5\. a plain PyTorch loop.*\n   best val_acc [0-9.]+ with \{'hidden'", out)


@pytest.mark.slow
def test_keras_example_runs():
    pytest.importorskip("keras")
    out = _run("keras_digits.py")
    recorded, checked = _recorded_and_checked(out)
    assert recorded == pytest.approx(checked, abs=1e-4)
    for name in ("p:hidden1:units", "p:hidden1:activation", "p:block", "p:hidden2:units", "p:optimizer:learning_rate",
                 "p:batch_size"):
        assert name in out
    assert "space ['dense:activation', 'dense:units', 'dropout:rate', 'optimizer:learning_rate']" in out
    assert re.search(r"3\. Subclassed.*\n   best val_accuracy [0-9.]+ with \{'units'", out)
    assert "2 trials in the study" in out
    assert re.search(r"4 trials, numbers \[0, 1, 2, 3\]|skipped: PostgreSQL unreachable", out)
