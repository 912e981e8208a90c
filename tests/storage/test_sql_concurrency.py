"""SQLStorage across processes: unique trial numbers, single claims (of the queue and of one trial) and single
winners of only_if_absent with 4 writers on one study.

Also the SQL-only behaviours: SQLite refuses several writers, schema versions, pickling, URL errors.
"""

from __future__ import annotations

import pickle
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from hypersweep.storage import MultiWriterNotSupported, get_storage
from hypersweep.storage.sql import SCHEMA_VERSION, SchemaVersionError, SQLStorage, StorageConnectionError
from hypersweep.testing.storage import (
    check_concurrent_claims,
    check_concurrent_study_attrs,
    check_concurrent_trial_claims,
    check_concurrent_writers,
    check_reads_while_writing,
)
from hypersweep.trial import TrialState


@pytest.fixture(
    params=[
        pytest.param("postgres_storage", marks=pytest.mark.postgres, id="postgresql"),
        pytest.param("mysql_storage", marks=pytest.mark.mysql, id="mariadb"),
    ]
)
def server_storage(request: pytest.FixtureRequest) -> SQLStorage:
    return request.getfixturevalue(request.param)


def test_four_writer_processes_get_unique_numbers(server_storage: SQLStorage) -> None:
    server_storage.check_multiple_writers()  # does not raise
    check_concurrent_writers(server_storage, n_processes=4, n_trials=100)


def test_four_processes_claim_each_waiting_trial_once(server_storage: SQLStorage) -> None:
    check_concurrent_claims(server_storage, n_processes=4, n_waiting=50)


def test_four_processes_race_for_each_paused_trial(server_storage: SQLStorage) -> None:
    check_concurrent_trial_claims(server_storage, n_processes=4, n_trials=20)


def test_four_processes_set_each_study_attr_once(server_storage: SQLStorage) -> None:
    check_concurrent_study_attrs(server_storage, n_processes=4, n_keys=10)


def test_incremental_reads_miss_nothing_while_another_process_writes(server_storage: SQLStorage) -> None:
    check_reads_while_writing(server_storage, n_trials=60)


# --- SQL-only behaviours ---------------------------------------------------------------------------------
def test_sqlite_refuses_several_writers(tmp_path: Path) -> None:
    storage = SQLStorage(f"sqlite:///{tmp_path}/study.db")
    assert not storage.supports_multiple_writers
    with pytest.raises(MultiWriterNotSupported, match="PostgreSQL or MySQL"):
        storage.check_multiple_writers()


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    SQLStorage(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE hs_schema_version SET version = {SCHEMA_VERSION + 98}")
    engine.dispose()
    with pytest.raises(SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 98}") as info:
        SQLStorage(url)
    assert "storage=" in str(info.value) and "upgrade hypersweep" in str(info.value)


def test_older_schema_version_without_migration_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    SQLStorage(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE hs_schema_version SET version = 0")
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="schema version 0") as info:
        SQLStorage(url)
    assert "migrates tables of version 1, 2 only" in str(info.value) and "storage=" in str(info.value)


def test_pickles_as_its_url(tmp_path: Path) -> None:
    storage = SQLStorage(f"sqlite:///{tmp_path}/study.db")
    study = storage.create_study("pickled")
    trial = storage.create_trial(study.study_id, {"x": 1})
    state = storage.__getstate__()
    assert state == {"url": storage.url, "engine_kwargs": {}, "table_prefix": "hs_"}
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.url == storage.url and clone._engine_ is None  # reconnects lazily
    assert clone.get_study("pickled").study_id == study.study_id
    clone.finish_trial(trial.trial_id, TrialState.COMPLETE, value=1.0)
    assert storage.get_trial(trial.trial_id).state == TrialState.COMPLETE
    with pytest.raises(TypeError, match="memory"):
        pickle.dumps(SQLStorage("sqlite:///:memory:"))


@pytest.mark.postgres
def test_server_storage_pickles_as_its_url(postgres_storage: SQLStorage) -> None:
    clone = pickle.loads(pickle.dumps(postgres_storage))
    assert clone.table_prefix == postgres_storage.table_prefix and clone.supports_multiple_writers
    study = postgres_storage.create_study(f"pickled-{uuid.uuid4().hex}")
    assert clone.get_study(study.name) == study


def test_get_storage_builds_sql_storage(tmp_path: Path) -> None:
    storage = get_storage(f"sqlite:///{tmp_path}/study.db")
    assert isinstance(storage, SQLStorage) and storage.url.endswith("study.db")


def test_bad_urls_name_themselves() -> None:
    with pytest.raises(ValueError, match="storage='not a url'"):
        SQLStorage("not a url")
    with pytest.raises(ValueError, match="sqlite://, postgresql:// or mysql://"):
        SQLStorage("oracle://scott:tiger@localhost/xe")
    with pytest.raises(StorageConnectionError) as info:
        SQLStorage("postgresql://me:s3cret@127.0.0.1:1/nowhere")
    message = str(info.value)
    assert "storage='postgresql://me:***@127.0.0.1:1/nowhere'" in message
    assert "s3cret" not in message and "server is running" in message
