"""examples/hyperband_circles.py (dask-ml's Hyperband tutorial) runs and prints what the tutorial prints."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hyperband_circles.py"


def test_hyperband_tutorial_runs():
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=180, env=env,
                          cwd=EXAMPLE.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "max_iter: 8 chunks: 12500" in out
    assert "planned partial_fit calls: 26 models: 5" in out  # dask-ml's plan for max_iter=8
    made = int(re.search(r"partial_fit calls made: (\d+)", out).group(1))
    assert 5 <= made <= 26  # patience may stop plateaued models early, never more than planned
    params = ast.literal_eval(re.search(r"best_params_: (\{.*\})", out).group(1))
    assert set(params) == {"hidden_layer_sizes", "activation", "alpha", "batch_size"}
    assert isinstance(params["hidden_layer_sizes"], tuple)
    assert 0.4 <= float(re.search(r"test score: ([0-9.]+)", out).group(1)) <= 1.0
    assert "rank_test_score" in out and "elapsed_wall_time" in out
    assert "models in model_history_: 5" in out
    assert "predict (Dask in, lazy Dask out): Array" in out
