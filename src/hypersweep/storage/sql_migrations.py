"""Schema migrations of `SQLStorage`: one function per version step, run when an older database is opened.

Each step names the tables it touches itself (never through `sql_schema`, which describes only the newest
layout), so an old database moves through every step in turn however the layout changes later. Steps are
idempotent: MySQL/MariaDB commit each DDL statement at once, so a step cut short is simply run again.

`upgrade` serializes processes that open one old database at once: SQLite runs it all in one BEGIN IMMEDIATE
transaction, PostgreSQL in one transaction that first locks the version table, MySQL/MariaDB under a named
lock (GET_LOCK), each re-reading the version once it holds the lock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Engine

from hypersweep import _json

__all__ = ["STEPS", "upgrade"]

logger = logging.getLogger("hypersweep")

#: seconds a process waits for another one's migration (MySQL's GET_LOCK) before giving up
LOCK_TIMEOUT = 120


def v1_to_v2(conn: Connection, prefix: str) -> None:
    """Version 1 -> 2: studies get ``system_attrs``; the artifacts table; the study attributes hypersweep
    wrote itself (keys starting with "hs:", e.g. "hs:planned") move from ``user_attrs`` to ``system_attrs``.
    """
    studies = f"{prefix}studies"
    if "system_attrs" not in {column["name"] for column in sa.inspect(conn).get_columns(studies)}:
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql(f"ALTER TABLE {quote(studies)} ADD COLUMN {quote('system_attrs')} TEXT")
    md = sa.MetaData()
    sa.Table(f"{prefix}trials", md, sa.Column("trial_id", sa.Integer, primary_key=True))  # the foreign key's target
    sa.Table(  # the artifacts table as version 2 defines it
        f"{prefix}artifacts",
        md,
        sa.Column("trial_id", sa.Integer, sa.ForeignKey(f"{prefix}trials.trial_id"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("checksum", sa.String(255), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column(
            "datetime_create", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False
        ),
    ).create(conn, checkfirst=True)
    s = sa.table(studies, sa.column("study_id"), sa.column("user_attrs"), sa.column("system_attrs"))
    rows = conn.execute(sa.select(s.c.study_id, s.c.user_attrs, s.c.system_attrs)).all()
    for study_id, user_text, system_text in rows:
        user = _json.loads(user_text, {})
        moved = {key: user.pop(key) for key in list(user) if key.startswith("hs:")}
        if moved or system_text is None:
            system = {**_json.loads(system_text, {}), **moved}  # merged: a step cut short may have moved some
            values = {"user_attrs": _json.dumps(user), "system_attrs": _json.dumps(system)}
            conn.execute(sa.update(s).where(s.c.study_id == study_id).values(values))


def v2_to_v3(conn: Connection, prefix: str) -> None:
    """Version 2 -> 3 (several objectives): studies get ``directions``, trials and intermediate values
    ``objective_values`` (JSON lists, one per objective). All stay NULL in the rows of version 2, which read
    as one objective: the study's ``direction``, the trial's ``value`` and the step's ``value``."""
    quote = conn.dialect.identifier_preparer.quote
    added = (
        (f"{prefix}studies", "directions"),
        (f"{prefix}trials", "objective_values"),
        (f"{prefix}intermediate_values", "objective_values"),
    )
    for table, column in added:
        if column not in {c["name"] for c in sa.inspect(conn).get_columns(table)}:
            conn.exec_driver_sql(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column)} TEXT")


#: version -> the step that brings a database of that version to the next one
STEPS: dict[int, Callable[[Connection, str], None]] = {1: v1_to_v2, 2: v2_to_v3}


def upgrade(engine: Engine, backend: str, prefix: str, target: int) -> list[int]:
    """Migrate the tables named ``prefix``* step by step to version ``target``; return the versions the version
    table then holds (one: ``target``, or the version it had when that is newer or no step leads on from it).

    ``engine`` writes: on SQLite it must begin its transactions with BEGIN IMMEDIATE.
    """
    if backend == "mysql":
        with engine.connect() as conn:
            lock = {"name": _lock_name(engine, prefix), "timeout": LOCK_TIMEOUT}
            if conn.execute(sa.text("SELECT GET_LOCK(:name, :timeout)"), lock).scalar() != 1:
                raise TimeoutError(
                    f"waited {LOCK_TIMEOUT} s for another process to migrate the hypersweep tables {prefix}*; "
                    "open the storage again once it has finished"
                )
            try:
                conn.commit()
                return _steps(conn, prefix, target, commit_each=True)
            finally:
                conn.rollback()
                conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": lock["name"]})
                conn.commit()
    with engine.begin() as conn:  # DDL is transactional here: all steps or none
        if backend == "postgresql":  # the second process waits here, then reads the new version
            version_table = conn.dialect.identifier_preparer.quote(f"{prefix}schema_version")
            conn.exec_driver_sql(f"LOCK TABLE {version_table} IN EXCLUSIVE MODE")
        return _steps(conn, prefix, target, commit_each=False)


def _steps(conn: Connection, prefix: str, target: int, commit_each: bool) -> list[int]:
    """Run the steps from the version found (read again: another process may have migrated meanwhile)."""
    v = sa.table(f"{prefix}schema_version", sa.column("version"))
    found = list(conn.execute(sa.select(v.c.version)).scalars())
    if len(found) != 1:
        return found
    version = start = found[0]
    while version < target and version in STEPS:
        STEPS[version](conn, prefix)
        conn.execute(sa.update(v).where(v.c.version == version).values(version=version + 1))
        if commit_each:
            conn.commit()
        version += 1
    if version != start:
        logger.info("migrated the hypersweep tables %s* from schema version %d to %d", prefix, start, version)
    return [version]


def _lock_name(engine: Engine, prefix: str) -> str:
    """A MySQL lock name (at most 64 characters, server-wide) for these tables of this database."""
    digest = hashlib.sha1(f"{engine.url.database}.{prefix}".encode()).hexdigest()
    return f"hypersweep-migrate-{digest}"
