"""The SQL tables of `SQLStorage` and the statements it runs, built once per table prefix.

SQLAlchemy Core only; JSON columns are TEXT written by `hypersweep._json`, never pickles. This is the layout of
`SCHEMA_VERSION`; `sql_migrations` brings older databases to it.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from hypersweep.storage.base import ARTIFACT_FIELD_LENGTHS, ARTIFACT_NAME_LENGTH
from hypersweep.trial import TrialState

#: Version of the table layout below; bump it (and add a step to `sql_migrations`) when the layout changes.
SCHEMA_VERSION = 3

_UNFINISHED = [s.value for s in TrialState if not s.is_finished]
_CLAIMABLE = [TrialState.WAITING.value, TrialState.PAUSED.value]


@cache
def _schema(prefix: str) -> SimpleNamespace:
    """The tables, with names starting with ``prefix``, in their own `MetaData`."""
    md = sa.MetaData()
    when = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    text = sa.Text()
    version_table = sa.Table(f"{prefix}schema_version", md, sa.Column("version", sa.Integer, primary_key=True))
    studies = sa.Table(
        f"{prefix}studies",
        md,
        sa.Column("study_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(512), nullable=False, unique=True),
        sa.Column("direction", sa.String(16), nullable=False),  # the first objective's
        sa.Column("directions", text),  # JSON list, one per objective; NULL: one objective (version-2 tables)
        sa.Column("space", text),
        sa.Column("user_attrs", text, nullable=False),
        sa.Column("system_attrs", text),  # NULL reads as {} (the column was added to version-1 tables)
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
        sa.Column("config", text, nullable=False),
        sa.Column("value", sa.Double),  # the first objective's
        sa.Column("objective_values", text),  # JSON list, one per objective; NULL: one objective (or none)
        sa.Column("metadata", text, nullable=False),
        sa.Column("user_attrs", text, nullable=False),
        sa.Column("system_attrs", text, nullable=False),
        sa.Column("fail_reason", text),
        sa.Column("datetime_start", when),
        sa.Column("datetime_complete", when),
        sa.Column("heartbeat", sa.Double),  # time.time() of the last sign of life, RUNNING trials only
        sa.Column("worker", sa.String(255)),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("study_id", "number", name=f"{prefix}uq_trials_number"),
        sa.Index(f"{prefix}ix_trials_version", "study_id", "version"),
        sa.Index(f"{prefix}ix_trials_state", "study_id", "state", "number"),  # oldest WAITING: one seek
    )
    intermediate = sa.Table(
        f"{prefix}intermediate_values",
        md,
        sa.Column("trial_id", sa.Integer, sa.ForeignKey(trials.c.trial_id), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Double),  # the first objective's; NULL stands for a non-finite value (read as NaN)
        sa.Column("objective_values", text),  # JSON list, one per objective (null: non-finite); NULL: one objective
    )
    artifacts = sa.Table(
        f"{prefix}artifacts",
        md,
        sa.Column("trial_id", sa.Integer, sa.ForeignKey(trials.c.trial_id), primary_key=True),
        sa.Column("name", sa.String(ARTIFACT_NAME_LENGTH), primary_key=True),
        sa.Column("key", text, nullable=False),
        sa.Column("kind", sa.String(ARTIFACT_FIELD_LENGTHS["kind"]), nullable=False),
        sa.Column("step", sa.Integer),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("checksum", sa.String(ARTIFACT_FIELD_LENGTHS["checksum"]), nullable=False),
        sa.Column("format", sa.String(ARTIFACT_FIELD_LENGTHS["format"]), nullable=False),
        sa.Column("datetime_create", when, nullable=False),
    )
    t = SimpleNamespace(
        metadata=md, version=version_table, studies=studies, trials=trials, iv=intermediate, artifacts=artifacts
    )
    _prepare_statements(t)
    return t


def _prepare_statements(t: SimpleNamespace) -> None:
    """Build the hot statements once, with bound parameters, so that each call only binds values.

    Trial updates come in pairs (plain, RETURNING the row) for dialects without and with UPDATE ... RETURNING.
    """
    s, tr, iv, art, p = t.studies, t.trials, t.iv, t.artifacts, sa.bindparam
    of_trial = s.c.study_id == sa.select(tr.c.study_id).where(tr.c.trial_id == p("tid")).scalar_subquery()
    counters = (s.c.study_id, s.c.version, s.c.next_number)
    t.lock = {}  # "sid" | "tid" -> (bump version and next_number by :n, the same RETURNING, read them back)
    for key, where in (("sid", s.c.study_id == p("sid")), ("tid", of_trial)):
        bump = sa.update(s).where(where).values(version=s.c.version + 1, next_number=s.c.next_number + p("n"))
        t.lock[key] = (bump, bump.returning(*counters), sa.select(*counters).where(where))
    t.study_version = sa.select(s.c.version).where(s.c.study_id == p("sid"))
    unfinished = (tr.c.trial_id == p("tid"), tr.c.state.in_(_UNFINISHED))
    t.touch = sa.update(tr).where(*unfinished).values(version=p("b_version"))
    t.touch_any = sa.update(tr).where(tr.c.trial_id == p("tid")).values(version=p("b_version"))  # any state
    finish = (
        sa.update(tr)
        .where(*unfinished)
        .values(
            state=p("b_state"),
            value=p("b_value"),
            objective_values=p("b_values"),
            metadata=p("b_metadata"),
            fail_reason=p("b_reason"),
            datetime_complete=p("b_now"),
            datetime_start=sa.func.coalesce(tr.c.datetime_start, p("b_now")),
            heartbeat=None,
            version=p("b_version"),
        )
    )
    t.finish = (finish, finish.returning(*tr.c))
    t.oldest_waiting = (  # one seek in ix_trials_state
        sa.select(tr.c.trial_id)
        .where(tr.c.study_id == p("sid"), tr.c.state == TrialState.WAITING.value)
        .order_by(tr.c.number)
        .limit(1)
    )
    start = (  # claim a WAITING or PAUSED trial; it keeps the time it first started
        sa.update(tr)
        .where(tr.c.trial_id == p("tid"), tr.c.state.in_(_CLAIMABLE))
        .values(
            state=TrialState.RUNNING.value,
            datetime_start=sa.func.coalesce(tr.c.datetime_start, p("b_now")),
            heartbeat=p("b_heartbeat"),
            worker=p("b_worker"),
            version=p("b_version"),
        )
    )
    t.start = (start, start.returning(*tr.c))
    pause = (
        sa.update(tr)
        .where(tr.c.trial_id == p("tid"), tr.c.state == TrialState.RUNNING.value)
        .values(state=TrialState.PAUSED.value, value=p("b_value"), heartbeat=None, version=p("b_version"))
    )
    t.pause = (pause, pause.returning(*tr.c))
    requeue = (  # the caller checked the state under the study lock
        sa.update(tr)
        .where(tr.c.trial_id == p("tid"))
        .values(
            state=TrialState.WAITING.value,
            system_attrs=p("b_system_attrs"),
            worker=None,
            heartbeat=None,
            version=p("b_version"),
        )
    )
    t.requeue = (requeue, requeue.returning(*tr.c))
    t.trial_by_id = sa.select(tr).where(tr.c.trial_id == p("tid"))
    t.trial_state = sa.select(tr.c.state).where(tr.c.trial_id == p("tid"))
    steps = (iv.c.trial_id, iv.c.step, iv.c.value, iv.c.objective_values)
    t.iv_by_id = sa.select(*steps).where(iv.c.trial_id == p("tid"))
    t.art_by_id = sa.select(art).where(art.c.trial_id == p("tid"))
    tids = p("tids", expanding=True)
    t.trials_by_ids = sa.select(tr).where(tr.c.trial_id.in_(tids)).order_by(tr.c.number)
    t.iv_by_ids = sa.select(*steps).where(iv.c.trial_id.in_(tids))
    t.art_by_ids = sa.select(art).where(art.c.trial_id.in_(tids))
    t.remove_artifacts = sa.delete(art).where(art.c.trial_id == p("tid"), art.c.name.in_(p("names", expanding=True)))
    changed = (tr.c.study_id == p("sid"), tr.c.version > p("since"))  # every trial has version >= 1
    t.changed = sa.select(tr).where(*changed).order_by(tr.c.number)
    t.iv_changed = (
        sa.select(*steps)
        .join_from(iv, tr, iv.c.trial_id == tr.c.trial_id)
        .where(*changed)
    )
    t.art_changed = sa.select(art).join_from(art, tr, art.c.trial_id == tr.c.trial_id).where(*changed)


def _upsert_step(backend: str, iv: sa.Table) -> Any:
    """INSERT an intermediate value, overwriting the same (trial_id, step), in the dialect's own words."""
    if backend == "mysql":
        stmt = mysql.insert(iv)
        return stmt.on_duplicate_key_update(value=stmt.inserted.value, objective_values=stmt.inserted.objective_values)
    stmt = (postgresql.insert if backend == "postgresql" else sqlite.insert)(iv)
    return stmt.on_conflict_do_update(
        index_elements=["trial_id", "step"],
        set_={"value": stmt.excluded.value, "objective_values": stmt.excluded.objective_values},
    )


def _upsert_artifact(backend: str, art: sa.Table) -> Any:
    """INSERT an artifact row, replacing the one of the same (trial_id, name), in the dialect's own words."""
    columns = [c.name for c in art.c if not c.primary_key]
    if backend == "mysql":
        stmt = mysql.insert(art)
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in columns})
    stmt = (postgresql.insert if backend == "postgresql" else sqlite.insert)(art)
    return stmt.on_conflict_do_update(index_elements=["trial_id", "name"], set_={c: stmt.excluded[c] for c in columns})
