"""examples/distributed_grid_search.py runs (the tutorial's small grid, a small large array) and prints what
it promises."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distributed_grid_search.py"


def test_distributed_grid_search_example_runs():
    args = ["--grid", "tutorial", "--n-docs", "200", "--blocks", "4", "--block-size", "500"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=180,
                          env=env, cwd=EXAMPLE.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "client: 2 workers" in out and "200 generated documents" in out
    assert "8 candidates x 3 folds = 24 fits" in out
    assert "distinct upstream fits: {'vect': 3, 'tfidf': 12}" in out  # one vectorizer per fold, shared
    best = float(re.search(r"best score: ([0-9.]+)", out).group(1))
    assert 0.25 < best <= 1.0
    params = ast.literal_eval(re.search(r"best params: (\{.*\})", out).group(1))
    assert set(params) == {"clf__alpha", "tfidf__norm", "tfidf__use_idf"}
    assert "mean_test_score" in out and "rank_test_score" in out  # the cv_results_ rows
    assert "the study's record: 8 trials" in out
    assert "2000 documents in 4 blocks" in out
    assert re.search(r"ParallelPostFit.predict \(lazy\): dask\.array<predict, shape=\(2000,\)", out)
    first = ast.literal_eval(re.search(r"first predictions: (\[.*\])", out).group(1))
    assert len(first) == 10 and set(first) <= {0, 1, 2, 3}
    assert "same as the in-memory best model's: True" in out
    accuracy = float(re.search(r"accuracy on the 2000 new documents: ([0-9.]+)", out).group(1))
    assert accuracy > 0.25
