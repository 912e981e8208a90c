"""Storage fixtures: one `SQLStorage` per database server per session, in tables of its own.

Each session uses a unique table prefix and drops its tables at the end, so parallel runs never collide.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hypersweep.storage.sql import SQLStorage, StorageConnectionError

POSTGRES_URL = os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("HYPERSWEEP_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

# data/ holds the committed old-release study files and the scripts that wrote them: never collect (import)
# those scripts, as --doctest-modules would: importing one rewrites its file.
collect_ignore = ["data"]


@pytest.fixture
def private_copy(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """``private_copy(committed)``: a copy of a committed old-release study file in ``tmp_path``; the committed
    file itself is never opened, and is checked unchanged after the test."""
    copied: list[tuple[Path, str]] = []

    def copy(committed: Path) -> Path:
        copied.append((committed, hashlib.sha256(committed.read_bytes()).hexdigest()))
        return Path(shutil.copyfile(committed, tmp_path / committed.name))

    yield copy
    for committed, before in copied:
        assert hashlib.sha256(committed.read_bytes()).hexdigest() == before, f"{committed.name} was modified"


def _server_storage(url: str) -> Iterator[SQLStorage]:
    prefix = f"hs_t{uuid.uuid4().hex[:8]}_"
    try:
        storage = SQLStorage(url, table_prefix=prefix)
    except (StorageConnectionError, ImportError) as exc:
        pytest.skip(f"database server unreachable: {exc}")
    try:
        yield storage
    finally:
        storage.drop_tables()
        storage.close()


@pytest.fixture(scope="session")
def postgres_storage() -> Iterator[SQLStorage]:
    """`SQLStorage` on the PostgreSQL test server (skipped if it is down)."""
    yield from _server_storage(POSTGRES_URL)


@pytest.fixture(scope="session")
def mysql_storage() -> Iterator[SQLStorage]:
    """`SQLStorage` on the MariaDB/MySQL test server (skipped if it is down)."""
    yield from _server_storage(MYSQL_URL)
