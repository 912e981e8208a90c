"""The ``hypersweep`` command line: scaffolding, search (serial, process, killed and resumed), topk, show, errors.

Searches run in subprocesses, as a user runs them; quick commands and error paths through click's CliRunner.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import hypersweep as hs
from hypersweep.cli import cli

EXAMPLE = "hypersweep.examples.polynome2"
EXAMPLE_DIR = Path(hs.__file__).parent / "examples" / "polynome2"


def hypersweep(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m hypersweep ARGS`` in ``cwd`` (the user's way: a fresh process, cwd-relative imports)."""
    return subprocess.run(
        [sys.executable, "-m", "hypersweep", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def scaffold(root: Path) -> Path:
    """The tutorial's first two commands; returns the project's package directory."""
    assert hypersweep("new-project", "dh_project", cwd=root).returncode == 0
    package = root / "dh_project" / "dh_project"
    done = hypersweep("new-problem", "polynome2", cwd=package)
    assert done.returncode == 0, done.stderr
    return package


def completed(csv: Path) -> pd.DataFrame:
    df = pd.read_csv(csv)
    return df[df["state"] == "complete"]


# --- scaffolding ------------------------------------------------------------------------------------------------
def test_new_project_and_new_problem_write_the_tutorial_and_refuse_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("new-project", "dh_project")
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "dh_project").iterdir()} == {"dh_project", "pyproject.toml", "README.md"}
    assert 'name = "dh_project"' in (tmp_path / "dh_project" / "pyproject.toml").read_text()
    again = invoke("new-project", "dh_project")
    assert again.exit_code == 2 and "already exists" in again.output

    monkeypatch.chdir(tmp_path / "dh_project" / "dh_project")
    result = invoke("new-problem", "polynome2")
    assert result.exit_code == 0, result.output
    assert "--problem dh_project.polynome2.problem.Problem" in result.output
    problem_dir = tmp_path / "dh_project" / "dh_project" / "polynome2"
    for name in ("__init__.py", "load_data.py", "model_run.py", "problem.py"):  # the bundled example's code
        expected = (EXAMPLE_DIR / name).read_text().replace(EXAMPLE, "dh_project.polynome2")
        assert (problem_dir / name).read_text() == expected
    assert "already exists" in invoke("new-problem", "polynome2").output


@pytest.mark.parametrize("name", ["my-project", "1st", "class"])
def test_new_project_rejects_names_that_cannot_be_packages(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    result = invoke("new-project", name)
    assert result.exit_code == 2 and "valid Python identifier" in result.output
    assert not any(tmp_path.iterdir())


def test_a_generic_problem_skeleton_runs(tmp_path):
    hypersweep("new-project", "proj", cwd=tmp_path)
    package = tmp_path / "proj" / "proj"
    assert hypersweep("new-problem", "housing", cwd=package).returncode == 0
    done = hypersweep("search", "--problem", "proj.housing.problem.Problem", "--run", "proj.housing.model_run.run",
                      "--method", "random", "--max-evals", "2", "--seed", "0", "--no-progress", cwd=package)
    assert done.returncode == 0, done.stderr
    df = completed(package / "results.csv")
    assert len(df) == 2 and {"p:n_estimators", "m:train_r2"} <= set(df.columns)


# --- the tutorial -----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("executor, workers", [("serial", "1"), ("process", "2")])
def test_tutorial_search_then_topk(tmp_path, executor, workers):
    package = scaffold(tmp_path)
    args = ["search", "--problem", "dh_project.polynome2.problem.Problem",
            "--run", "dh_project.polynome2.model_run.run", "--method", "bo", "--max-evals", "8",
            "--workers", workers, "--executor", executor, "--seed", "0", "--no-progress"]
    done = hypersweep(*args, cwd=package)  # run from inside dh_project/dh_project, as the tutorial does
    assert done.returncode == 0, done.stderr
    assert "best objective" in done.stdout and "units" in done.stdout
    df = pd.read_csv(package / "results.csv")
    assert len(df) == 8 and (df["state"] == "complete").all()
    assert {"objective", "p:units", "p:activation", "p:lr", "p:alpha", "m:train_r2", "m:epochs"} <= set(df.columns)
    assert (package / "results.db").is_file()
    assert "trial 7 complete" in (package / "search.log").read_text()

    top = hypersweep("topk", "results.csv", "-k", "3", "-o", "best.json", cwd=package)
    assert top.returncode == 0, top.stderr
    best = json.loads((package / "best.json").read_text())
    assert [set(b) for b in best] == [{"number", "objective", "config"}] * 3
    assert set(best[0]["config"]) == {"units", "activation", "lr", "alpha"}
    assert [b["objective"] for b in best] == sorted(df["objective"], reverse=True)[:3]
    assert top.stdout.splitlines()[0].split() == ["rank", "trial", "objective", "units", "activation", "lr", "alpha"]

    again = hypersweep(*args, cwd=package)  # the study exists: say how to go on
    assert again.returncode == 2 and "--resume" in again.stderr and "Traceback" not in again.stderr


SLOW_PROBLEM = """
import time
import hypersweep as hs

Problem = hs.Problem({"x": (-5.0, 5.0)})

def run(config):
    time.sleep(0.15)
    return {"objective": -(config["x"] - 1.0) ** 2, "metadata": {"pid": 0}}
"""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_killed_search_keeps_its_trials_and_resume_completes_the_count(tmp_path, how):
    (tmp_path / "slowprob.py").write_text(textwrap.dedent(SLOW_PROBLEM))
    args = ["search", "--problem", "slowprob.Problem", "--run", "slowprob.run", "--method", "random",
            "--max-evals", "40", "--seed", "1", "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "hypersweep", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    csv = tmp_path / "results.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if csv.exists() and len(completed(csv)) >= 6:
            break
        time.sleep(0.05)
    os.kill(proc.pid, how)
    assert proc.wait(timeout=30) == (-9 if how == signal.SIGKILL else 130)
    before = completed(csv)
    assert 6 <= len(before) < 40
    stored = hs.load_study("slowprob", "sqlite:///" + str(tmp_path / "results.db"))
    assert len([t for t in stored.trials if t.state == "complete"]) >= len(before)
    stored.storage.close()

    done = hypersweep(*args, "--resume", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    after = completed(csv)
    assert len(after) == 40
    kept = before.merge(after, on=["number", "objective", "p:x"])
    assert len(kept) == len(before)  # every trial finished before the kill is still there, unchanged


EPOCHS_PROBLEM = """
import time
import hypersweep as hs

Problem = hs.Problem({"x": (-5.0, 5.0)})

def run(config, trial):
    model, start, score = {"epochs": 0}, 0, None
    if trial.checkpoint is not None:
        model, start, score = trial.load_checkpoint(), trial.last_step, trial.last_value
    for epoch in range(start + 1, 10):
        time.sleep(0.02)
        model["epochs"] += 1
        score = -(config["x"] - 1.0) ** 2 - 1.0 / epoch
        trial.report(score, step=epoch)
        trial.save_checkpoint(model, step=epoch)
        if trial.should_stop():
            break
    return score
"""


def test_checkpoints_with_a_promoting_scheduler_survive_a_kill(tmp_path):
    (tmp_path / "epochsprob.py").write_text(textwrap.dedent(EPOCHS_PROBLEM))
    args = ["search", "--problem", "epochsprob.Problem", "--run", "epochsprob.run", "--method", "random",
            "--max-evals", "18", "--seed", "1", "--no-progress", "--scheduler", "asha-promote", "--max-resource", "9"]
    proc = subprocess.Popen([sys.executable, "-m", "hypersweep", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    csv = tmp_path / "results.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if csv.exists() and len(pd.read_csv(csv)) >= 8:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    done = hypersweep(*args, "--resume", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    df = pd.read_csv(csv)
    assert len(df) == 18 and set(df["state"]) <= {"complete", "paused"} and (df["state"] == "complete").any()
    assert (tmp_path / "results-artifacts").is_dir()  # beside the SQLite file, by default
    study = hs.load_study("epochsprob", "sqlite:///" + str(tmp_path / "results.db"))
    for trial in study.trials:  # every epoch ran once per trial: resumed, never retrained
        assert trial.load_checkpoint()["epochs"] == trial.last_step


@pytest.mark.slow
def test_scheduler_address_runs_a_project_the_dask_workers_cannot_import(tmp_path):
    distributed = pytest.importorskip("distributed")
    package = tmp_path / "remote_proj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "prob.py").write_text(textwrap.dedent(SLOW_PROBLEM))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        done = hypersweep("search", "--problem", "remote_proj.prob.Problem", "--run", "remote_proj.prob.run",
                          "--method", "tpe", "--max-evals", "4", "--scheduler-address", lc.scheduler_address,
                          "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(completed(tmp_path / "results.csv")) == 4  # shipped by value: the workers' cwd is elsewhere


@pytest.mark.slow
def test_executor_ray_runs_a_project_found_above_the_working_directory(tmp_path):
    pytest.importorskip("ray")
    package = tmp_path / "ray_proj" / "ray_proj"  # run from inside it, as the tutorial runs its search
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "prob.py").write_text(textwrap.dedent(SLOW_PROBLEM))
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local Ray of its own
    # the hypersweep under test, wherever the working directory is (a relative PYTHONPATH would not follow)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(hs.__file__).parents[1]), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run(
        [sys.executable, "-m", "hypersweep", "search", "--problem", "ray_proj.prob.Problem", "--run",
         "ray_proj.prob.run", "--method", "random", "--max-evals", "4", "--workers", "2", "--executor", "ray",
         "--seed", "0", "--no-progress"], cwd=package, capture_output=True, text=True, timeout=180, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "2 ray workers" in done.stdout
    assert len(completed(package / "results.csv")) == 4  # Ray workers cannot import ray_proj: shipped by value


# --- show, topk, errors -------------------------------------------------------------------------------------------
def test_show_prints_the_problem():
    result = invoke("show", f"{EXAMPLE}.problem.Problem")
    assert result.exit_code == 0
    assert "Problem with 4 parameters" in result.output and "Int(1, 100)" in result.output
    assert "starting points (1)" in result.output
    done = hypersweep("show", f"{EXAMPLE}.problem:Problem", cwd=Path.cwd())  # python -m hypersweep, module:attr
    assert done.returncode == 0 and "Float(0.0001, 1.0, log=True)" in done.stdout


RUN = f"{EXAMPLE}.model_run.run"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--problem", "no_such_pkg.problem.Problem", "--run", RUN], "cannot import module 'no_such_pkg.problem'"),
        (["--problem", f"{EXAMPLE}.problem.Problm", "--run", RUN], "has no attribute 'Problm'; it defines: Problem\n"),
        (["--problem", "Problem", "--run", RUN], "expected MODULE.ATTR"),
        (["--problem", ".problem.Problem", "--run", RUN], "expected MODULE.ATTR"),
        (["--problem", "broken.Problem", "--run", RUN], "raised SyntaxError"),
        (["--problem", f"{EXAMPLE}.model_run.run", "--run", RUN], "not a search space"),
        (["--problem", f"{EXAMPLE}.problem.Problem", "--run", f"{EXAMPLE}.model_run.EPOCHS"], "not a function"),
        (["--problem", f"{EXAMPLE}.problem.Problem", "--run", RUN, "--method", "simplex"],
         "Invalid value for '--method'"),
        (["--problem", f"{EXAMPLE}.problem.Problem", "--run", RUN, "--workers", "2", "--executor", "serial"],
         "use --executor process"),
        (["--problem", f"{EXAMPLE}.problem.Problem", "--run", RUN, "--max-evals", "0"], "--max-evals"),
    ],
)
def test_bad_search_input_is_a_usage_error_not_a_traceback(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.py").write_text("Problem = (\n")
    result = CliRunner().invoke(cli, ["search", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "results.db").exists()
    if "cannot import" in message or "no attribute" in message:
        assert "Invalid value for --problem:" in result.output  # the message names the option to fix


def test_topk_rejects_files_that_are_not_results(tmp_path):
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    result = CliRunner().invoke(cli, ["topk", str(tmp_path / "other.csv")])
    assert result.exit_code == 1 and "no 'objective' column" in result.output
    assert CliRunner().invoke(cli, ["topk", str(tmp_path / "missing.csv")]).exit_code == 2
    assert "-k" in CliRunner().invoke(cli, ["topk", str(tmp_path / "other.csv"), "-k", "0"]).output


def test_topk_minimize_and_json(tmp_path):
    (tmp_path / "r.csv").write_text("number,state,objective,p:x\n0,complete,3.0,a\n1,failed,,b\n2,complete,1.0,c\n")
    result = invoke("topk", str(tmp_path / "r.csv"), "-k", "5", "--direction", "minimize", "--json")
    assert [row["config"]["x"] for row in json.loads(result.output)] == ["c", "a"]


# --- the README's first command -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_readme_tutorial_reaches_r2_above_0_9_in_50_bo_evaluations(tmp_path):
    done = hypersweep("search", "--problem", f"{EXAMPLE}.problem.Problem", "--run", RUN, "--method", "bo",
                      "--max-evals", "50", "--workers", "2", "--executor", "process", "--no-progress",
                      cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr
    df = completed(tmp_path / "results.csv")
    assert len(df) == 50
    assert df["objective"].max() > 0.9
    top = hypersweep("topk", "results.csv", "-k", "3", cwd=tmp_path)
    assert top.returncode == 0 and len(top.stdout.splitlines()) == 4


# --- several objectives ---------------------------------------------------------------------------------------
def test_search_of_two_objectives_then_topk_prints_the_front(tmp_path):
    (tmp_path / "twoobj.py").write_text(
        "import hypersweep as hs\n"
        "Problem = hs.Problem({'x': (0.0, 1.0), 'y': (0.0, 1.0)})\n"
        "def run(config):\n"
        "    return config['x'], -config['x'] ** 2 - config['y']  # x against x**2: a trade-off\n"
    )
    done = hypersweep("search", "--problem", "twoobj.Problem", "--run", "twoobj.run", "--max-evals", "30",
                      "--seed", "0", "--no-progress", "--directions", "maximize", "maximize", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Pareto front:" in done.stdout and "method auto" in done.stdout
    df = completed(tmp_path / "results.csv")
    assert len(df) == 30 and {"objective_0", "objective_1"} <= set(df.columns) and "objective" not in df.columns
    study = hs.load_study("twoobj", storage=f"sqlite:///{tmp_path}/results.db")
    front = {t.number for t in study.best_trials}
    result = invoke("topk", str(tmp_path / "results.csv"), "-k", "100", "--json")
    rows = json.loads(result.output)
    assert {r["number"] for r in rows} == front and {"objective_0", "objective_1"} <= set(rows[0])
    for spelled in (["--directions", "max", "maximize"], ["--directions=maximize,maximize"],
                    ["--directions", "maximize", "--directions", "maximize"]):  # the same directions, spelled so
        again = invoke("topk", *spelled, str(tmp_path / "results.csv"), "-k", "100", "--json")
        assert {r["number"] for r in json.loads(again.output)} == front, spelled
    other = invoke("topk", "--directions", "maximize", "minimize", str(tmp_path / "results.csv"), "-k", "100",
                   "--json")  # another trade-off, another front: none of it dominated under these directions
    mixed = json.loads(other.output)
    assert {r["number"] for r in mixed} != front
    a, b = df["objective_0"].to_numpy(), df["objective_1"].to_numpy()
    for r in mixed:
        assert not np.any((a >= r["objective_0"]) & (b <= r["objective_1"])
                          & ((a > r["objective_0"]) | (b < r["objective_1"])))
    assert len(json.loads(invoke("topk", str(tmp_path / "results.csv"), "-k", "2", "--json").output)) == 2
    table = invoke("topk", str(tmp_path / "results.csv")).output
    assert "objective_0" in table.splitlines()[0]
    bad = invoke("search", "--problem", f"{EXAMPLE}.problem.Problem", "--run", f"{EXAMPLE}.model_run.run",
                 "--directions", "up,down", "--storage", f"sqlite:///{tmp_path}/bad.db")
    assert bad.exit_code != 0 and "--directions" in bad.output
