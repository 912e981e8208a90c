"""Schema migrations: a study file written by release 0.1.0 (schema version 1) opens, is migrated to the current
version and resumes; the same migration on PostgreSQL and MariaDB; several processes opening one old database.

The version-1 tables are frozen below (as release 0.1.0 created them), never taken from `sql_schema`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

import hypersweep
from hypersweep.storage.sql import SCHEMA_VERSION, SchemaVersionError, SQLStorage, _normalize_url
from hypersweep.trial import Artifact, Trial, TrialState

RELEASE_0_1_0 = Path(__file__).with_name("data") / "release-0.1.0.sqlite"


def _v1_tables(prefix: str) -> sa.MetaData:
    """The tables of schema version 1, exactly as release 0.1.0 defined them."""
    md = sa.MetaData()
    when = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    sa.Table(f"{prefix}schema_version", md, sa.Column("version", sa.Integer, primary_key=True))
    studies = sa.Table(
        f"{prefix}studies",
        md,
        sa.Column("study_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(512), nullable=False, unique=True),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("space", sa.Text),
        sa.Column("user_attrs", sa.Text, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False, default=0),
        sa.Column("next_number", sa.Integer, nullable=False, default=0),
        sa.Column("datetime_create", when, nullable=False),
    )
    trials = sa.Table(
        f"{prefix}trials",
        md,
        sa.Column("trial_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study_id", sa.Integer, sa.ForeignKey(studies.c.study_id), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("value", sa.Double),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("user_attrs", sa.Text, nullable=False),
        sa.Column("system_attrs", sa.Text, nullable=False),
        sa.Column("fail_reason", sa.Text),
        sa.Column("datetime_start", when),
        sa.Column("datetime_complete", when),
        sa.Column("heartbeat", sa.Double),
        sa.Column("worker", sa.String(255)),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("study_id", "number", name=f"{prefix}uq_trials_number"),
        sa.Index(f"{prefix}ix_trials_version", "study_id", "version"),
        sa.Index(f"{prefix}ix_trials_state", "study_id", "state", "number"),
    )
    sa.Table(
        f"{prefix}intermediate_values",
        md,
        sa.Column("trial_id", sa.Integer, sa.ForeignKey(trials.c.trial_id), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Double),
    )
    return md


@pytest.fixture
def release_copy(private_copy) -> Path:
    """A private copy of the committed release-0.1.0 study file."""
    return private_copy(RELEASE_0_1_0)


def _raw_v1(path: Path) -> dict[str, Any]:
    """What the version-1 file holds, read with sqlite3 (no hypersweep involved)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT version FROM hs_schema_version").fetchall() == [(1,)]
        studies = {name: (sid, json.loads(attrs)) for sid, name, attrs in conn.execute(
            "SELECT study_id, name, user_attrs FROM hs_studies")}
        steps: dict[int, dict[int, float]] = {}
        for trial_id, step, value in conn.execute("SELECT trial_id, step, value FROM hs_intermediate_values"):
            steps.setdefault(trial_id, {})[step] = math.nan if value is None else value
        trials = {}
        for row in conn.execute(
            "SELECT trial_id, study_id, number, state, value, config, metadata, user_attrs, system_attrs, "
            "worker, fail_reason FROM hs_trials"
        ):
            trial_id, study_id, number, state, value, config, metadata, user, system, worker, reason = row
            trials[trial_id] = {
                "study_id": study_id, "number": number, "state": TrialState(state), "value": value,
                "config": json.loads(config), "metadata": json.loads(metadata), "user_attrs": json.loads(user),
                "system_attrs": json.loads(system), "worker": worker, "fail_reason": reason,
                "intermediate": steps.get(trial_id, {}),
            }
        return {"studies": studies, "trials": trials}
    finally:
        conn.close()


def _fields(trial: Trial) -> dict[str, Any]:
    return {
        "number": trial.number, "state": trial.state, "value": trial.value, "config": trial.config,
        "metadata": trial.metadata, "user_attrs": trial.user_attrs, "system_attrs": trial.system_attrs,
        "worker": trial.worker, "fail_reason": trial.fail_reason, "intermediate": trial.intermediate,
    }


def _schema_version(url: str, prefix: str = "hs_") -> list[int]:
    engine = sa.create_engine(_normalize_url(url))  # the driver SQLStorage picks
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(f"SELECT version FROM {prefix}schema_version")).scalars())
    finally:
        engine.dispose()


# --- the committed release-0.1.0 file -------------------------------------------------------------------------
def test_release_0_1_0_file_opens_migrated_and_unchanged(release_copy: Path) -> None:
    raw = _raw_v1(release_copy)
    url = f"sqlite:///{release_copy}"
    storage = SQLStorage(url)
    try:
        assert _schema_version(url) == [SCHEMA_VERSION]
        poly, plain = storage.get_study("poly"), storage.get_study("plain")
        assert (poly.user_attrs, poly.system_attrs) == ({"owner": "release-0.1.0"}, {"hs:planned": True})
        assert (plain.user_attrs, plain.system_attrs) == ({}, {"hs:planned": True})
        assert poly.direction == "maximize" and set(poly.space) == {"units", "lr", "act", "drop"}
        assert [s.name for s in storage.list_studies()] == ["poly", "plain"]
        read = {}
        for record in (poly, plain):
            trials, _ = storage.get_trials(record.study_id)
            assert [t.number for t in trials] == list(range(len(trials)))
            read.update({t.trial_id: t for t in trials})
        assert set(read) == set(raw["trials"])
        for trial_id, expected in raw["trials"].items():
            got = read[trial_id]
            assert got.artifacts == {} and got.checkpoint is None
            assert got == storage.get_trial(trial_id)
            assert _fields(got) == {k: v for k, v in expected.items() if k != "study_id"}
        # a few facts, written down independently of the raw read above
        by_number = {t.number: t for t in read.values() if t.config.get("units") is not None}
        assert len(by_number) == 15 and len([t for t in read.values() if "x" in t.config]) == 5
        assert by_number[0].config == {"units": 10, "lr": 0.01, "act": "relu", "drop": 0.0}
        assert by_number[0].state == TrialState.COMPLETE and by_number[0].intermediate[9] == pytest.approx(1.0)
        assert by_number[0].metadata == {"epochs": 9} and by_number[0].worker == "release-host:999999:0a1b2c"
        assert (by_number[12].state, by_number[12].fail_reason) == (TrialState.FAILED, "ValueError: diverged")
        assert (by_number[13].state, by_number[13].intermediate) == (TrialState.RUNNING, {1: 0.25})
        assert by_number[13].user_attrs == {"note": "interrupted"}
        assert by_number[14].state == TrialState.WAITING and by_number[14].config["units"] == 50
    finally:
        storage.close()
    again = SQLStorage(url)  # opening a migrated file again changes nothing
    try:
        assert _schema_version(url) == [SCHEMA_VERSION] and again.get_study("poly").system_attrs == {"hs:planned": True}
        assert len(again.get_trials(again.get_study("poly").study_id)[0]) == 15
    finally:
        again.close()


def test_release_0_1_0_study_resumes(release_copy: Path) -> None:
    storage = SQLStorage(f"sqlite:///{release_copy}")
    try:
        sid = storage.get_study("poly").study_id
        trials, cursor = storage.get_trials(sid)
        running = next(t for t in trials if t.state == TrialState.RUNNING)
        # a resumed SQLite study re-queues every trial still marked running: its process is gone
        requeued = storage.requeue_stale_trials(sid, grace_seconds=-1)
        assert [(t.number, t.state, t.worker) for t in requeued] == [(13, TrialState.WAITING, None)]
        assert requeued[0].intermediate == {1: 0.25} and requeued[0].config == running.config
        assert requeued[0].system_attrs["requeued"] == 1 and requeued[0].user_attrs == {"note": "interrupted"}
        storage.add_artifact(running.trial_id, Artifact("checkpoint-1", "0-poly/13/checkpoint-1", "checkpoint", 1,
                                                        64, "sha256:00", "pickle"))
        claimed = storage.claim_waiting_trial(sid, "host:1:new")  # the oldest number first: 13, then 14
        assert claimed is not None and (claimed.number, claimed.worker) == (13, "host:1:new")
        assert claimed.intermediate == {1: 0.25}  # its steps, up to its checkpoint
        storage.report(claimed.trial_id, 2, 0.5)
        storage.finish_trial(claimed.trial_id, TrialState.COMPLETE, value=0.5, metadata={"epochs": 2})
        queued = storage.claim_waiting_trial(sid, "host:1:new")
        assert queued is not None and queued.number == 14 and queued.config["act"] == "tanh"
        storage.finish_trial(queued.trial_id, TrialState.PRUNED, value=0.1)
        new = storage.create_trial(sid, {"units": 5, "lr": 0.5, "act": "relu", "drop": 0.1}, worker="host:1:new")
        assert new.number == 15
        storage.report(new.trial_id, 1, 0.75)
        storage.add_artifact(new.trial_id, Artifact("checkpoint-1", "k", "checkpoint", 1, 1, "sha256:11", "pickle"))
        storage.pause_trial(new.trial_id, value=0.75)
        storage.set_study_attr(sid, "hs:resumed", True, system=True)
        changed, later = storage.get_trials(sid, since=cursor)
        assert later > cursor
        assert [(t.number, t.state) for t in changed] == [
            (13, TrialState.COMPLETE), (14, TrialState.PRUNED), (15, TrialState.PAUSED)
        ]
        assert changed[0].intermediate == {1: 0.25, 2: 0.5} and list(changed[2].artifacts) == ["checkpoint-1"]
        assert storage.get_study("poly").system_attrs == {"hs:planned": True, "hs:resumed": True}
        storage.delete_study("plain")
        assert [s.name for s in storage.list_studies()] == ["poly"]
    finally:
        storage.close()


def test_processes_opening_one_old_file_at_once(release_copy: Path) -> None:
    """Several processes open the same version-1 file at the same instant: all succeed, it is migrated once."""
    url = f"sqlite:///{release_copy}"
    start_at = time.time() + 3.0  # after every interpreter has started and imported hypersweep
    script = textwrap.dedent(f"""
        import logging, time
        from hypersweep.storage.sql import SQLStorage
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        time.sleep(max(0.0, {start_at!r} - time.time()))
        storage = SQLStorage({url!r})
        print(storage.get_study("poly").system_attrs["hs:planned"], len(storage.list_studies()))
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(hypersweep.__file__).parents[1])}
    children = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(4)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert out.split() == ["True", "2"]
    migrations = [line for _, err in outputs for line in err.splitlines() if line.startswith("migrated")]
    assert migrations == [f"migrated the hypersweep tables hs_* from schema version 1 to {SCHEMA_VERSION}"]
    _check_migrated_once(url)


def _check_migrated_once(url: str) -> None:
    """The release file, migrated once: "hs:planned" moved, nothing lost or doubled."""
    assert _schema_version(url) == [SCHEMA_VERSION]
    storage = SQLStorage(url)
    try:
        assert {s.name: (s.user_attrs, s.system_attrs) for s in storage.list_studies()} == {
            "poly": ({"owner": "release-0.1.0"}, {"hs:planned": True}),
            "plain": ({}, {"hs:planned": True}),
        }
        assert [len(storage.get_trials(s.study_id)[0]) for s in storage.list_studies()] == [15, 5]
    finally:
        storage.close()


# --- version-1 tables written here, on every backend ------------------------------------------------------------
@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres_storage", marks=pytest.mark.postgres, id="postgresql"),
        pytest.param("mysql_storage", marks=pytest.mark.mysql, id="mariadb"),
    ]
)
def v1_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(url, table prefix) of a database holding the version-1 tables and rows of `_write_v1`; dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/v1.db"
    else:
        url = request.getfixturevalue(request.param).url  # skips when that server is down
    prefix = f"hs_m{uuid.uuid4().hex[:8]}_"
    md = _v1_tables(prefix)
    engine = sa.create_engine(_normalize_url(url))  # the driver SQLStorage picks
    try:
        with engine.begin() as conn:
            md.create_all(conn)
            _write_v1(conn, md, prefix)
        yield url, prefix
    finally:
        with engine.begin() as conn:
            current = sa.MetaData()
            current.reflect(conn, only=lambda name, _: name.startswith(prefix))
            current.drop_all(conn)
        engine.dispose()


def _write_v1(conn: sa.Connection, md: sa.MetaData, prefix: str) -> None:
    """Rows as release 0.1.0 wrote them (ids from the database): a study with "hs:" keys among its user
    attributes and four trials, and a study without any."""
    t = md.tables
    when = datetime(2026, 1, 2, 3, 4, 5, 123456)
    conn.execute(t[f"{prefix}schema_version"].insert().values(version=1))
    study = {"direction": "minimize", "space": '{"x": {"type": "float", "low": 0.0, "high": 1.0}}',
             "datetime_create": when}
    insert_study = t[f"{prefix}studies"].insert()
    sid = conn.execute(insert_study, {**study, "name": "old", "version": 9, "next_number": 4,
                                      "user_attrs": '{"hs:planned": true, "hs:note": [1, 2], "owner": "me"}'},
                       ).inserted_primary_key[0]
    conn.execute(insert_study, {**study, "name": "other", "version": 0, "next_number": 0, "user_attrs": "{}"})
    trial = {"study_id": sid, "metadata": "{}", "user_attrs": "{}", "system_attrs": "{}", "fail_reason": None,
             "datetime_start": when, "datetime_complete": when, "heartbeat": None, "worker": "old-host:1:a",
             "value": None}
    rows = [
        ({"number": 0, "state": "complete", "config": '{"x": 0.5}', "value": 0.25, "metadata": '{"epochs": 3}',
          "version": 5}, {1: 0.5, 3: 0.25}),
        ({"number": 1, "state": "failed", "config": '{"x": 0.9}', "fail_reason": "ValueError: boom", "version": 6},
         {}),
        ({"number": 2, "state": "running", "config": '{"x": 0.1}', "datetime_complete": None, "heartbeat": 1.0,
          "user_attrs": '{"note": "left running"}', "system_attrs": '{"bracket": 0}', "version": 8},
         {1: None, 2: 0.75}),  # NULL: a non-finite report
        ({"number": 3, "state": "waiting", "config": '{"x": 0.7}', "datetime_start": None, "datetime_complete": None,
          "worker": None, "version": 9}, {}),
    ]
    for fields, steps in rows:
        trial_id = conn.execute(t[f"{prefix}trials"].insert(), {**trial, **fields}).inserted_primary_key[0]
        for step, value in steps.items():
            conn.execute(t[f"{prefix}intermediate_values"].insert(), {"trial_id": trial_id, "step": step,
                                                                    "value": value})


def _check_v1_database_migrated(storage: SQLStorage) -> None:
    old, other = storage.get_study("old"), storage.get_study("other")
    assert old.user_attrs == {"owner": "me"} and old.system_attrs == {"hs:planned": True, "hs:note": [1, 2]}
    assert (other.user_attrs, other.system_attrs) == ({}, {})
    trials, cursor = storage.get_trials(old.study_id)
    assert cursor == 9
    got = {t.number: t for t in trials}
    assert (got[0].state, got[0].value, got[0].intermediate) == (TrialState.COMPLETE, 0.25, {1: 0.5, 3: 0.25})
    assert got[0].metadata == {"epochs": 3} and got[0].worker == "old-host:1:a" and got[0].config == {"x": 0.5}
    assert got[0].datetime_start == datetime(2026, 1, 2, 3, 4, 5, 123456)
    assert (got[1].state, got[1].fail_reason, got[1].value) == (TrialState.FAILED, "ValueError: boom", None)
    assert got[2].state == TrialState.RUNNING and got[2].user_attrs == {"note": "left running"}
    assert math.isnan(got[2].intermediate[1]) and got[2].intermediate[2] == 0.75
    assert got[3].state == TrialState.WAITING and got[3].worker is None
    assert all(t.artifacts == {} for t in trials)
    # it resumes: the stale running trial is re-queued and claimed first, new trials follow its numbers
    requeued = storage.requeue_stale_trials(old.study_id, grace_seconds=60)  # its heartbeat is from 1970
    assert [(t.number, t.system_attrs) for t in requeued] == [
        (2, {"bracket": 0, "requeued": 1, "requeue_reason": requeued[0].system_attrs["requeue_reason"]})
    ]
    storage.add_artifact(requeued[0].trial_id, Artifact("checkpoint-1", "k", "checkpoint", 1, 3, "sha256:0", "pickle"))
    claimed = storage.claim_waiting_trial(old.study_id, "new-host:2:b")
    assert claimed is not None and claimed.number == 2 and list(claimed.intermediate) == [1, 2]
    assert storage.create_trial(old.study_id, {"x": 0.3}).number == 4
    assert [t.number for t in storage.get_trials(old.study_id, since=cursor)[0]] == [2, 4]
    storage.delete_study("old")  # artifacts go with it
    assert [s.name for s in storage.list_studies()] == ["other"]


def test_version_1_tables_are_migrated(v1_database: tuple[str, str]) -> None:
    url, prefix = v1_database
    storage = SQLStorage(url, table_prefix=prefix)
    try:
        assert _schema_version(url, prefix) == [SCHEMA_VERSION]
        _check_v1_database_migrated(storage)
    finally:
        storage.close()


def test_a_migration_cut_short_is_finished(v1_database: tuple[str, str]) -> None:
    """MySQL commits each DDL statement: a process killed mid-migration leaves version 1 with some steps done."""
    url, prefix = v1_database
    engine = sa.create_engine(_normalize_url(url))  # the driver SQLStorage picks
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            conn.exec_driver_sql(f"ALTER TABLE {quote(prefix + 'studies')} ADD COLUMN system_attrs TEXT")
            attrs = {"system": '{"hs:planned": true}', "user": '{"hs:note": [1, 2], "owner": "me"}'}
            conn.execute(sa.text(f"UPDATE {quote(prefix + 'studies')} SET system_attrs = :system, user_attrs = :user "
                                 "WHERE name = 'old'"), attrs)
    finally:
        engine.dispose()
    storage = SQLStorage(url, table_prefix=prefix)
    try:
        assert _schema_version(url, prefix) == [SCHEMA_VERSION]
        _check_v1_database_migrated(storage)
    finally:
        storage.close()


def test_threads_opening_one_old_database_at_once(
    v1_database: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Four `SQLStorage` objects (own engines, own connections) open one version-1 database at the same instant:
    one migrates it, the others wait for it and find it migrated."""
    url, prefix = v1_database
    caplog.set_level(logging.INFO, logger="hypersweep")
    barrier = threading.Barrier(4)
    opened: list[SQLStorage] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            barrier.wait(timeout=30)
            opened.append(SQLStorage(url, table_prefix=prefix))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors
        assert _schema_version(url, prefix) == [SCHEMA_VERSION]
        assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("migrated")] == [
            f"migrated the hypersweep tables {prefix}* from schema version 1 to {SCHEMA_VERSION}"
        ]
        for storage in opened:
            old = storage.get_study("old")
            assert old.user_attrs == {"owner": "me"} and old.system_attrs == {"hs:planned": True, "hs:note": [1, 2]}
        _check_v1_database_migrated(opened[0])
    finally:
        for storage in opened:
            storage.close()


@pytest.mark.postgres
def test_a_failed_migration_says_so(postgres_storage: SQLStorage) -> None:
    """A database user that may not ALTER the old tables gets a SchemaVersionError naming the cause."""
    prefix, role = f"hs_m{uuid.uuid4().hex[:8]}_", f"hs_role_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(_normalize_url(postgres_storage.url))
    md = _v1_tables(prefix)
    try:
        with admin.begin() as conn:
            md.create_all(conn)
            _write_v1(conn, md, prefix)
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            for table in md.tables:
                conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        url = _normalize_url(postgres_storage.url).set(username=role)
        with pytest.raises(SchemaVersionError, match="schema version 1") as info:
            SQLStorage(url.render_as_string(hide_password=False), table_prefix=prefix)
        assert "migration failed" in str(info.value) and "ALTER" in str(info.value)
        assert _schema_version(postgres_storage.url, prefix) == [1]  # nothing half done
    finally:
        with admin.begin() as conn:
            md.drop_all(conn, checkfirst=True)
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()
