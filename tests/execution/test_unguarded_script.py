"""A script that starts a search at top level, with no `if __name__ == "__main__":` guard, as a newcomer writes it."""

import subprocess
import sys

import pytest

SCRIPT = """
import hypersweep as hs

def run(config):
    return (config["x"] - 0.25) ** 2

study = hs.create_study({{"x": (0.0, 1.0)}}, sampler="random", seed=0, storage="sqlite:///{db}", name="s")
study.optimize(run, n_trials=6, n_workers=2, executor="{executor}", progress=False)
print("complete", sum(t.state == "complete" for t in study.trials))
"""


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_workers_do_not_run_the_script_again(tmp_path, executor):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT.format(db=tmp_path / "s.db", executor=executor))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "complete 6" in done.stdout
    assert "already exists" not in done.stderr  # the script's create_study ran once, not again in a worker
