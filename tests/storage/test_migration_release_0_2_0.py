"""A study file written by release 0.2.0 (schema version 2: one objective per study) opens, is migrated to the
version that holds several objectives, reads as before (one direction, one value per trial) and resumes; a study
of several objectives then lives beside the old ones in the same file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import hypersweep as hs
from hypersweep.storage.sql import SCHEMA_VERSION, SQLStorage
from hypersweep.trial import TrialState

RELEASE_0_2_0 = Path(__file__).with_name("data") / "release-0.2.0.sqlite"


@pytest.fixture
def release_copy(private_copy) -> Path:
    """A private copy of the committed release-0.2.0 study file."""
    return private_copy(RELEASE_0_2_0)


def _raw(path: Path) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = conn.execute("SELECT version FROM hs_schema_version").fetchall()
        values = dict(conn.execute("SELECT trial_id, value FROM hs_trials").fetchall())
        return {"version": version, "values": values}
    finally:
        conn.close()


def test_release_0_2_0_file_opens_migrated(release_copy: Path) -> None:
    raw = _raw(release_copy)
    assert raw["version"] == [(2,)]
    storage = SQLStorage(f"sqlite:///{release_copy}")
    try:
        assert _raw(release_copy)["version"] == [(SCHEMA_VERSION,)]
        poly, plain = storage.get_study("poly"), storage.get_study("plain")
        assert (poly.directions, plain.directions) == (("maximize",), ("minimize",))
        assert poly.user_attrs == {"owner": "release-0.2.0"}
        trials = storage.get_trials(poly.study_id)[0] + storage.get_trials(plain.study_id)[0]
        assert len(trials) == 20
        for t in trials:
            assert t.value == raw["values"][t.trial_id]
            assert t.values == (None if t.value is None else (t.value,))
        states = [t.state for t in storage.get_trials(poly.study_id)[0]]
        assert states.count(TrialState.COMPLETE) >= 1 and TrialState.RUNNING in states and TrialState.WAITING in states
    finally:
        storage.close()


def test_release_0_2_0_study_resumes_and_a_new_one_has_several_objectives(release_copy: Path) -> None:
    url = f"sqlite:///{release_copy}"
    study = hs.create_study({"x": (0.0, 1.0)}, direction="minimize", storage=url, name="plain", resume=True,
                            sampler="random", seed=2, artifacts=None)
    assert study.directions == ["minimize"] and len(study.trials) == 5
    best_before = study.best_value
    study.optimize(lambda c: (c["x"] - 0.3) ** 2, n_trials=5, progress=False)
    assert len(study.trials) == 10 and study.best_value <= best_before
    both = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], storage=url, name="both",
                           sampler="random", seed=3, artifacts=None)
    both.optimize(lambda c: (c["x"], (1 - c["x"]) ** 2), n_trials=6, progress=False)
    pruned = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], storage=url, name="pruned",
                             sampler="random", seed=4, scheduler=hs.schedulers.ASHA(max_resource=3),
                             artifacts=None)

    def reporting(config, trial):
        for step in (1, 2, 3):
            trial.report((config["x"] * step, 1.0 / step), step)  # one value per objective at each step
            if trial.should_stop():
                break
        return config["x"] * step, 1.0 / step

    pruned.optimize(reporting, n_trials=4, progress=False)
    stored = hs.load_study("pruned", storage=url).trials
    assert all(t.intermediate_values[1] == (t.config["x"], 1.0) for t in stored)
    assert TrialState.PRUNED in {t.state for t in stored}
    again = hs.load_study("both", storage=url)
    assert again.directions == ["minimize", "minimize"]
    assert all(len(t.values) == 2 for t in again.trials) and len(again.best_trials) == 6  # a trade-off: all on it
