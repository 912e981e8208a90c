"""A study file written by the previous release (0.1.0, schema version 1) opens, migrates and resumes."""

import shutil
from pathlib import Path

import pytest

import hypersweep as hs
from hypersweep import TrialState

OLD_FILE = Path(__file__).parents[1] / "storage" / "data" / "release-0.1.0.sqlite"
SPACE = {"units": (1, 100), "lr": (1e-4, 1.0, "log-uniform"), "act": ["relu", "tanh"], "drop": hs.Float(0.0, 0.5)}


def curve(config, trial):
    value = 0.0
    for step in range(1, 10):
        value = config["units"] / 100 - config["drop"] + step / 10
        trial.report(value, step=step)
        if trial.should_stop():
            break
    return value


@pytest.fixture
def old_copy(tmp_path):
    path = tmp_path / "results.db"
    shutil.copyfile(OLD_FILE, path)
    return f"sqlite:///{path}"


def test_a_release_0_1_0_study_resumes(old_copy):
    before = {t.number: t for t in hs.load_study("poly", old_copy).trials}
    assert len(before) == 15 and before[13].state is TrialState.RUNNING and before[14].state is TrialState.WAITING
    study = hs.create_study(hs.Problem(SPACE), direction="maximize", sampler="random", scheduler="asha",
                            storage=old_copy, name="poly", resume=True, seed=3)
    assert study.storage.get_study("poly").system_attrs["hs:planned"] is True  # moved out of the user's attrs
    assert study.user_attrs == {"owner": "release-0.1.0"}
    study.optimize(curve, n_trials=6, progress=False)
    after = {t.number: t for t in study.trials}
    assert len(after) == 19  # the interrupted and the queued trial ran again, then 4 new ones
    for number, old in before.items():
        if old.is_finished:
            assert (after[number].state, after[number].value, after[number].intermediate) == (
                old.state, old.value, old.intermediate
            )
    assert after[13].is_finished and after[13].system_attrs["requeued"] == 1  # the one its process left running
    assert after[13].user_attrs == {"note": "interrupted"}
    assert after[14].is_finished and after[14].config["units"] == 50
    starting = [t for t in after.values() if t.config == {"units": 10, "lr": 0.01, "act": "relu", "drop": 0.0}]
    assert len(starting) == 1  # the starting point was not enqueued a second time
    assert study.best_trial.number in after


def test_a_release_0_1_0_file_serves_the_cli(old_copy, tmp_path):
    from click.testing import CliRunner

    from hypersweep.cli import cli

    study = hs.load_study("plain", old_copy)
    assert len(study.trials) == 5 and study.best_value < 0.1
    out = tmp_path / "plain.csv"
    study.to_csv(out)
    result = CliRunner().invoke(cli, ["topk", str(out), "-k", "2", "--direction", "minimize", "--json"])
    assert result.exit_code == 0, result.output
    assert '"objective"' in result.output
