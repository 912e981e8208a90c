"""The storage conformance suite run against every backend hypersweep ships.

In memory, SQLite (file and memory), and the PostgreSQL and MariaDB test servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hypersweep.storage import InMemoryStorage
from hypersweep.storage.sql import SQLStorage
from hypersweep.testing.storage import StorageConformance


class TestInMemoryStorage(StorageConformance):
    @pytest.fixture
    def storage(self) -> InMemoryStorage:
        return InMemoryStorage()


class TestSQLiteFileStorage(StorageConformance):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[SQLStorage]:
        storage = SQLStorage(f"sqlite:///{tmp_path}/not/yet/there/study.db")
        yield storage
        storage.close()


class TestSQLiteMemoryStorage(StorageConformance):
    @pytest.fixture
    def storage(self) -> Iterator[SQLStorage]:
        storage = SQLStorage("sqlite:///:memory:")
        yield storage
        storage.close()


@pytest.mark.postgres
class TestPostgreSQLStorage(StorageConformance):
    @pytest.fixture
    def storage(self, postgres_storage: SQLStorage) -> SQLStorage:
        return postgres_storage


@pytest.mark.mysql
class TestMySQLStorage(StorageConformance):
    @pytest.fixture
    def storage(self, mysql_storage: SQLStorage) -> SQLStorage:
        return mysql_storage
