"""examples/incremental_sgd.py runs, quickly, and prints what dask-ml's incremental learning tutorial prints."""

from __future__ import annotations

import ast
import pathlib
import re
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "incremental_sgd.py"


def test_incremental_tutorial_example_runs_and_prints_the_tutorials_outputs():
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--passes", "4"], capture_output=True, text=True, timeout=120,
        cwd=EXAMPLE.parents[1],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.startswith("<Client: ")
    assert "dask.array<make_classification_X, shape=(100000, 100), dtype=float64, chunksize=(10000, 100)" in out
    assert "dask.array<train_test_split_train, shape=(90000, 100), dtype=float64, chunksize=(9000, 100)" in out
    assert "array([0, 1])" in out
    assert "Incremental(estimator=SGDClassifier(loss='log_loss'" in out
    scores = [float(s) for s in re.findall(r"^Score: ([0-9.]+)$", out, flags=re.MULTILINE)]
    assert len(scores) == 4 and all(0.6 < s <= 1.0 for s in scores)
    assert "dask.array<predict, shape=(10000,), dtype=int64, chunksize=(1000,)" in out
    shown = re.search(r"array\((\[[0-9,\s]+\])\)\s*\n([0-9.]+)\s*$", out)
    assert shown, out[-1500:]
    predictions = ast.literal_eval(shown.group(1))
    assert len(predictions) == 100 and set(predictions) <= {0, 1}
    assert float(shown.group(2)) == scores[-1]  # the final score is the last pass's
