"""SQL storage through SQLAlchemy Core: SQLite, PostgreSQL and MySQL/MariaDB with one schema.

Each trial write bumps its study's version under the study row lock: `get_trials(since=v)` misses nothing.
A database of an older schema version is migrated when it is opened (`sql_migrations`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, Row
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError

from hypersweep import _json
from hypersweep.storage import sql_migrations
from hypersweep.storage.base import (
    HEARTBEAT_LOST,
    BaseStorage,
    DuplicatedStudyError,
    StudyNotFound,
    StudyRecord,
    _checked_artifact,
    _creation_state,
    _directions,
    _finished_state,
    _requeued_attrs,
    _state_error,
    _step_values,
    _values,
)
from hypersweep.storage.sql_schema import SCHEMA_VERSION, _schema, _upsert_artifact, _upsert_step
from hypersweep.trial import Artifact, Trial, TrialState

__all__ = ["SCHEMA_VERSION", "SQLStorage", "SchemaVersionError", "StorageConnectionError"]

_T = TypeVar("_T")
_RETRIES = 5


class SchemaVersionError(RuntimeError):
    """The database holds hypersweep tables of a schema version this release cannot use."""


class StorageConnectionError(ConnectionError):
    """The database named by ``storage=`` cannot be reached or opened."""


# --- small helpers -----------------------------------------------------------------------------------------
def _normalize_url(url: str) -> URL:
    """Parse ``url``, choosing an installed driver when it names none (``postgresql://``, ``mysql://``)."""
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        raise ValueError(
            f"storage={url!r} is not a database URL; use e.g. 'sqlite:///results.db', "
            "'postgresql://user:password@host:5432/db' or 'mysql://user:password@host:3306/db'"
        ) from None
    backend = parsed.get_backend_name()
    if "+" not in parsed.drivername:
        if backend == "postgresql" and importlib.util.find_spec("psycopg") is None:
            if importlib.util.find_spec("psycopg2") is not None:
                parsed = parsed.set(drivername="postgresql+psycopg2")
        elif backend in ("mysql", "mariadb") and importlib.util.find_spec("MySQLdb") is None:
            if importlib.util.find_spec("pymysql") is not None:
                parsed = parsed.set(drivername=f"{backend}+pymysql")
    return parsed


def _is_retryable(exc: DBAPIError) -> bool:
    """Deadlock or serialization failure: the transaction can simply run again."""
    code = getattr(exc.orig, "pgcode", None)
    if code in ("40P01", "40001"):
        return True
    args = getattr(exc.orig, "args", ())
    return bool(args) and args[0] in (1213, 1205)  # MySQL deadlock, lock wait timeout


class SQLStorage(BaseStorage):
    """Studies and trials in a SQL database (SQLite file, PostgreSQL, MySQL/MariaDB).

    Each call is one short transaction of a few prepared statements on a pooled engine. The storage pickles
    as its URL and reconnects lazily, so worker processes can receive it.

    >>> storage = SQLStorage("sqlite:///:memory:")
    >>> study = storage.create_study("demo")
    >>> storage.create_trial(study.study_id, {"x": 1}).number
    0
    """

    def __init__(self, url: str, engine_kwargs: dict[str, Any] | None = None, *, table_prefix: str = "hs_") -> None:
        self._setup(url, engine_kwargs or {}, table_prefix)
        self._engine  # noqa: B018 - connect now, so that a bad URL fails here and names itself

    def _setup(self, url: str, engine_kwargs: dict[str, Any], table_prefix: str) -> None:
        self.url = url
        self.engine_kwargs = dict(engine_kwargs)
        self.table_prefix = table_prefix
        self._sa_url = _normalize_url(url)
        self._masked_url = sa.make_url(url).render_as_string(hide_password=True)  # as the user wrote it
        self._t = _schema(table_prefix)
        backend = self._sa_url.get_backend_name()
        self._backend = "mysql" if backend == "mariadb" else backend
        if self._backend not in ("sqlite", "postgresql", "mysql"):
            raise ValueError(
                f"storage={self._masked_url!r}: SQLStorage takes sqlite://, postgresql:// or mysql:// URLs, "
                f"got a {backend} URL; use one of those databases, or storage=None to keep trials in memory"
            )
        self.supports_multiple_writers = self._backend in ("postgresql", "mysql")
        self._in_memory = self._backend == "sqlite" and self._sa_url.database in (None, "", ":memory:")
        self._mutex: threading.RLock | None = threading.RLock() if self._in_memory else None
        self._engine_: Engine | None = None
        self._connect_lock = threading.Lock()
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"SQLStorage({self._masked_url!r})"

    # --- engine and transactions -------------------------------------------------------------------------
    @property
    def _engine(self) -> Engine:
        if self._engine_ is not None and self._pid != os.getpid():  # forked: never share pooled sockets
            self._engine_.dispose(close=False)
            self._engine_ = None
        if self._engine_ is None:
            with self._connect_lock:
                if self._engine_ is None:
                    self._pid = os.getpid()
                    self._engine_ = self._connect()
        return self._engine_

    def _connect(self) -> Engine:
        kwargs: dict[str, Any] = {}
        if self._backend == "sqlite":
            kwargs["connect_args"] = {"timeout": 30.0, "check_same_thread": False}
            if self._in_memory:
                kwargs["poolclass"] = sa.StaticPool
            else:
                folder = Path(self._sa_url.database).expanduser().parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageConnectionError(
                        f"cannot open storage={self._masked_url!r}: cannot create its folder {folder} ({exc}); "
                        "choose a path in a writable folder"
                    ) from exc
        elif self._backend == "mysql":
            kwargs.update(isolation_level="READ COMMITTED", pool_recycle=3600)
        user = dict(self.engine_kwargs)
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), **user.pop("connect_args", {})}
        kwargs.update(user)
        try:
            engine = sa.create_engine(self._sa_url, **kwargs)
        except ImportError as exc:
            extra = "postgresql" if self._backend == "postgresql" else "mysql"
            raise ImportError(
                f"storage={self._masked_url!r} needs a database driver that is not installed ({exc.name}); "
                f"install it with: pip install 'hypersweep[{extra}]'"
            ) from exc
        if self._backend == "sqlite":
            _sqlite_events(engine, wal=not self._in_memory)
        self._write_engine = engine.execution_options(hypersweep_write=True)
        self._upsert_step = _upsert_step(self._backend, self._t.iv)
        self._upsert_artifact = _upsert_artifact(self._backend, self._t.artifacts)
        try:
            with engine.connect() as conn:
                conn.rollback()
        except DBAPIError as exc:
            engine.dispose()
            first_line = (str(exc.orig).strip() or type(exc.orig).__name__).splitlines()[0]
            fix = (
                "Check that the file's directory is writable"
                if self._backend == "sqlite"
                else "Check that the database server is running and that user, password, host, port and "
                "database name in the URL are right (e.g. 'postgresql://user:password@127.0.0.1:5432/mydb')"
            )
            raise StorageConnectionError(f"cannot open storage={self._masked_url!r}: {first_line}. {fix}.") from exc
        try:
            self._ensure_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        return engine

    def _ensure_schema(self, engine: Engine) -> None:
        """Create the tables in a new database; migrate those of an older schema version; refuse newer ones."""
        t = self._t
        for attempt in range(_RETRIES):  # several processes may create the tables at once
            try:
                with engine.begin() as conn:
                    if not sa.inspect(conn).has_table(t.version.name):
                        t.metadata.create_all(conn, checkfirst=True)
                    found = conn.execute(sa.select(t.version.c.version)).scalars().all()
                    if not found:
                        conn.execute(t.version.insert().values(version=SCHEMA_VERSION))
                        found = [SCHEMA_VERSION]
                break
            except DBAPIError:
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        if len(found) == 1 and found[0] < SCHEMA_VERSION:
            try:
                found = sql_migrations.upgrade(self._write_engine, self._backend, self.table_prefix, SCHEMA_VERSION)
            except DBAPIError as exc:
                first_line = (str(exc.orig).strip() or type(exc.orig).__name__).splitlines()[0]
                raise SchemaVersionError(
                    f"storage={self._masked_url!r} holds hypersweep tables of schema version {found[0]}, which "
                    f"this hypersweep migrates to version {SCHEMA_VERSION} when it opens them, but the migration "
                    f"failed: {first_line}. Open it once with write access (a writable file; a database user "
                    "allowed to ALTER and CREATE tables)."
                ) from exc
        if found == [SCHEMA_VERSION]:
            return
        versions = ", ".join(map(str, found)) or "none"
        if found and max(found) > SCHEMA_VERSION:
            fix = "upgrade hypersweep (pip install -U hypersweep) or point storage= at another database."
        else:
            known = ", ".join(map(str, sorted(sql_migrations.STEPS)))
            fix = (
                f"this hypersweep migrates tables of version {known} only; open it with the hypersweep release "
                "that wrote it, or point storage= at another database."
            )
        raise SchemaVersionError(
            f"storage={self._masked_url!r} holds hypersweep tables of schema version {versions}, "
            f"but this hypersweep reads only version {SCHEMA_VERSION}; {fix}"
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize threads on an in-memory SQLite database (one shared connection); no-op otherwise."""
        if self._mutex is None:
            yield
        else:
            with self._mutex:
                yield

    def _read(self, fn: Callable[[Connection], _T]) -> _T:
        with self._locked(), self._engine.begin() as conn:
            return fn(conn)

    def _write(self, fn: Callable[[Connection], _T]) -> _T:
        """Run ``fn`` in one write transaction (SQLite: BEGIN IMMEDIATE), again after a deadlock."""
        self._engine  # noqa: B018 - (re)connect before using the write engine
        for attempt in range(_RETRIES):
            try:
                with self._locked(), self._write_engine.begin() as conn:
                    return fn(conn)
            except DBAPIError as exc:
                if attempt == _RETRIES - 1 or not _is_retryable(exc):
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    @property
    def _returning(self) -> bool:
        return self._engine.dialect.update_returning

    def _bump(self, conn: Connection, key: str, ident: int, new_numbers: int = 0) -> tuple[int, int, int]:
        """Lock the study row (of study ``sid`` or of trial ``tid``), bump its version and next number.

        Returns (study_id, new version, first new trial number); raises `StudyNotFound` or `KeyError`.
        """
        bump, bump_returning, read = self._t.lock[key]
        params = {key: ident, "n": new_numbers}
        if self._returning:
            row = conn.execute(bump_returning, params).first()
        else:  # MySQL: the UPDATE takes the lock, the SELECT reads our own write
            row = conn.execute(read, params).first() if conn.execute(bump, params).rowcount else None
        if row is None:
            if key == "sid":
                raise StudyNotFound(f"no study with study_id={ident} in storage={self._masked_url!r}")
            raise KeyError(f"no trial with trial_id={ident}")
        return row[0], row[1], row[2] - new_numbers

    def _update_trial(self, conn: Connection, stmts: tuple[Any, Any], params: dict[str, Any]) -> Row | None:
        """Run an update of trial ``tid``; return its new row, or None when no row matched."""
        plain, returning = stmts
        if self._returning:
            return conn.execute(returning, params).first()
        if conn.execute(plain, params).rowcount == 0:
            return None
        return conn.execute(self._t.trial_by_id, params).first()

    def _not_updated(self, conn: Connection, trial_id: int, action: str, allowed: str = "unfinished") -> Exception:
        """The error for ``action`` on trial ``trial_id``, whose update (of ``allowed`` trials) matched nothing."""
        row = conn.execute(self._t.trial_by_id, {"tid": trial_id}).first()
        if row is None:
            return KeyError(f"no trial with trial_id={trial_id}")
        return _state_error(action, row.number, TrialState(row.state), allowed)

    def _assemble(
        self, conn: Connection, rows: Sequence[Row], iv_query: Any, art_query: Any, params: Any
    ) -> list[Trial]:
        """Trials from their ``rows`` plus the intermediate values and artifacts that the two queries read (one
        query each, however many rows)."""
        if not rows:
            return []
        steps: dict[int, dict[int, float]] = {}
        vectors: dict[int, dict[int, tuple[float, ...]]] = {}
        for trial_id, step, value, several in conn.execute(iv_query, params):
            steps.setdefault(trial_id, {})[step] = math.nan if value is None else value
            if several is not None:
                vectors.setdefault(trial_id, {})[step] = tuple(
                    math.nan if v is None else float(v) for v in _json.loads(several)
                )
        saved: dict[int, dict[str, Artifact]] = {}
        for art in conn.execute(art_query, params):
            saved.setdefault(art.trial_id, {})[art.name] = _to_artifact(art)
        return [
            _to_trial(row, steps.get(row.trial_id, {}), saved.get(row.trial_id, {}), vectors.get(row.trial_id, {}))
            for row in rows
        ]

    def _one(self, conn: Connection, trial_id: int, row: Row | None = None) -> Trial:
        t, params = self._t, {"tid": trial_id}
        if row is None:
            row = conn.execute(t.trial_by_id, params).first()
            if row is None:
                raise KeyError(f"no trial with trial_id={trial_id}")
        return self._assemble(conn, [row], t.iv_by_id, t.art_by_id, params)[0]

    def _start(self, conn: Connection, trial_id: int, worker: str, version: int) -> Trial | None:
        """Move a WAITING or PAUSED trial to RUNNING (the caller holds the study lock); None when it is in
        another state."""
        params = {
            "tid": trial_id,
            "b_now": datetime.now(),
            "b_heartbeat": time.time(),
            "b_worker": worker,
            "b_version": version,
        }
        row = self._update_trial(conn, self._t.start, params)
        if row is None:
            return None
        return self._one(conn, trial_id, row)

    # --- studies -------------------------------------------------------------------------------------------
    def create_study(
        self,
        name: str,
        direction: str = "minimize",
        space: dict[str, Any] | None = None,
        load_if_exists: bool = False,
        directions: Sequence[str] | None = None,
    ) -> StudyRecord:
        space_json = None if space is None else _json.dumps(space, "space")
        directions = _directions(direction, directions)
        direction = directions[0]
        insert = self._t.studies.insert().values(
            name=name,
            direction=direction,
            directions=None if len(directions) == 1 else _json.dumps(list(directions), "directions"),
            space=space_json,
            user_attrs="{}",
            system_attrs="{}",
            version=0,
            next_number=0,
            datetime_create=datetime.now(),
        )
        for _ in range(2):
            try:
                existing = self.get_study(name)
            except StudyNotFound:
                try:
                    study_id = self._write(lambda conn: conn.execute(insert).inserted_primary_key[0])
                except IntegrityError:  # another process created it in between: look again
                    continue
                return StudyRecord(study_id, name, direction, _json.loads(space_json), {}, {}, directions)
            if load_if_exists:
                return existing
            raise DuplicatedStudyError(
                f"a study named {name!r} already exists in storage={self._masked_url!r}; "
                "pass resume=True to continue it or choose another name="
            )
        raise AssertionError("unreachable")

    def get_study(self, name: str) -> StudyRecord:
        s = self._t.studies
        row = self._read(lambda conn: conn.execute(sa.select(s).where(s.c.name == name)).first())
        if row is None:
            raise StudyNotFound(f"no study named {name!r} in storage={self._masked_url!r}")
        return _to_study(row)

    def list_studies(self) -> list[StudyRecord]:
        s = self._t.studies
        rows = self._read(lambda conn: conn.execute(sa.select(s).order_by(s.c.study_id)).all())
        return [_to_study(row) for row in rows]

    def delete_study(self, name: str) -> None:
        t = self._t

        def delete(conn: Connection) -> None:
            study_id = conn.execute(sa.select(t.studies.c.study_id).where(t.studies.c.name == name)).scalar()
            if study_id is None:
                raise StudyNotFound(f"no study named {name!r} in storage={self._masked_url!r}")
            self._bump(conn, "sid", study_id)  # take the study lock first, like every writer
            trial_ids = sa.select(t.trials.c.trial_id).where(t.trials.c.study_id == study_id)
            conn.execute(sa.delete(t.iv).where(t.iv.c.trial_id.in_(trial_ids)))
            conn.execute(sa.delete(t.artifacts).where(t.artifacts.c.trial_id.in_(trial_ids)))
            conn.execute(sa.delete(t.trials).where(t.trials.c.study_id == study_id))
            conn.execute(sa.delete(t.studies).where(t.studies.c.study_id == study_id))

        self._write(delete)

    def set_study_attr(
        self, study_id: int, key: str, value: Any, only_if_absent: bool = False, system: bool = False
    ) -> bool:
        s = self._t.studies
        column = s.c.system_attrs if system else s.c.user_attrs
        what = f"study attribute {key!r}"
        value = _json.normalized(value, what)  # refuse a non-JSON value before taking any lock

        def set_attr(conn: Connection) -> bool:
            query = sa.select(s.c.study_id, column).where(s.c.study_id == study_id).with_for_update()
            row = conn.execute(query).first()
            if row is None:
                raise StudyNotFound(f"no study with study_id={study_id} in storage={self._masked_url!r}")
            attrs = _json.loads(row[1], {})
            if only_if_absent and key in attrs:
                return False
            attrs[key] = value
            conn.execute(sa.update(s).where(s.c.study_id == study_id).values({column.name: _json.dumps(attrs, what)}))
            return True

        return self._write(set_attr)

    # --- trials --------------------------------------------------------------------------------------------
    def create_trial(
        self,
        study_id: int,
        config: dict[str, Any],
        state: TrialState = TrialState.RUNNING,
        system_attrs: dict[str, Any] | None = None,
        worker: str | None = None,
    ) -> Trial:
        state = _creation_state(state)
        running = state == TrialState.RUNNING
        row = {
            "study_id": study_id,
            "state": state.value,
            "config": _json.dumps(dict(config), "config"),
            "metadata": "{}",
            "user_attrs": "{}",
            "system_attrs": _json.dumps(dict(system_attrs or {}), "system_attrs"),
            "datetime_start": datetime.now() if running else None,
            "heartbeat": time.time() if running else None,
            "worker": worker,
        }

        def create(conn: Connection) -> tuple[int, int]:
            _, version, number = self._bump(conn, "sid", study_id, new_numbers=1)
            result = conn.execute(self._t.trials.insert(), {**row, "number": number, "version": version})
            return result.inserted_primary_key[0], number

        trial_id, number = self._write(create)
        return Trial(
            number=number,
            config=_json.loads(row["config"]),
            state=state,
            datetime_start=row["datetime_start"],
            system_attrs=_json.loads(row["system_attrs"]),
            trial_id=trial_id,
            worker=worker,
        )

    def claim_waiting_trial(self, study_id: int, worker: str) -> Trial | None:
        t = self._t

        def claim(conn: Connection) -> Trial | None:
            if conn.execute(t.oldest_waiting, {"sid": study_id}).first() is None:
                return None  # nothing queued: take no lock
            _, version, _ = self._bump(conn, "sid", study_id)
            trial_id = conn.execute(t.oldest_waiting, {"sid": study_id}).scalar()  # again, under the lock
            if trial_id is None:
                return None
            return self._start(conn, trial_id, worker, version)

        return self._write(claim)

    def claim_trial(self, trial_id: int, worker: str) -> Trial | None:
        t = self._t

        def claim(conn: Connection) -> Trial | None:
            state = conn.execute(t.trial_state, {"tid": trial_id}).scalar()
            if state is None:
                raise KeyError(f"no trial with trial_id={trial_id}")
            if TrialState(state) not in (TrialState.WAITING, TrialState.PAUSED):
                return None  # running or finished: take no lock
            _, version, _ = self._bump(conn, "tid", trial_id)
            return self._start(conn, trial_id, worker, version)  # None if another worker was first

        return self._write(claim)

    def pause_trial(self, trial_id: int, value: float | None = None) -> Trial:
        params = {"tid": trial_id, "b_value": _json.finite_or_none(value)}

        def pause(conn: Connection) -> Trial:
            _, version, _ = self._bump(conn, "tid", trial_id)
            row = self._update_trial(conn, self._t.pause, {**params, "b_version": version})
            if row is None:
                raise self._not_updated(conn, trial_id, "pause_trial", "running")
            return self._one(conn, trial_id, row)

        return self._write(pause)

    def requeue_trial(self, trial_id: int, reason: str) -> Trial:
        t = self._t

        def requeue(conn: Connection) -> Trial:
            _, version, _ = self._bump(conn, "tid", trial_id)
            row = conn.execute(t.trial_by_id, {"tid": trial_id}).first()  # under the study lock: it stays so
            state = TrialState(row.state)
            if state not in (TrialState.RUNNING, TrialState.PAUSED):
                raise _state_error("requeue_trial", row.number, state, "running or paused")
            params = {"tid": trial_id, "b_system_attrs": _requeued_json(row, reason), "b_version": version}
            return self._one(conn, trial_id, self._update_trial(conn, t.requeue, params))

        return self._write(requeue)

    def report(self, trial_id: int, step: int, value: float, values: Sequence[float] | None = None) -> None:
        value, values = _step_values(value, values)
        row = {  # NULL reads as NaN
            "trial_id": trial_id,
            "step": int(step),
            "value": _json.finite_or_none(value),
            "objective_values": None if values is None else _json.dumps([_json.finite_or_none(v) for v in values]),
        }

        def report(conn: Connection) -> None:
            _, version, _ = self._bump(conn, "tid", trial_id)
            if conn.execute(self._t.touch, {"tid": trial_id, "b_version": version}).rowcount == 0:
                raise self._not_updated(conn, trial_id, "report")
            conn.execute(self._upsert_step, row)

        self._write(report)

    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        value: float | None = None,
        metadata: dict[str, Any] | None = None,
        fail_reason: str | None = None,
        values: Sequence[float] | None = None,
    ) -> Trial:
        state = _finished_state(state)
        value, values = _values(value, values)
        params = {
            "tid": trial_id,
            "b_state": state.value,
            "b_value": _json.finite_or_none(value),
            "b_values": None if values is None or len(values) == 1 else _json.dumps(list(values), "values"),
            "b_metadata": _json.dumps(dict(metadata or {}), "metadata"),
            "b_reason": fail_reason,
        }

        def finish(conn: Connection) -> Trial:
            _, version, _ = self._bump(conn, "tid", trial_id)
            row = self._update_trial(conn, self._t.finish, {**params, "b_now": datetime.now(), "b_version": version})
            if row is None:
                raise self._not_updated(conn, trial_id, "finish_trial")
            return self._one(conn, trial_id, row)

        return self._write(finish)

    def set_trial_attr(self, trial_id: int, key: str, value: Any, system: bool = False) -> None:
        tr = self._t.trials
        column = tr.c.system_attrs if system else tr.c.user_attrs
        what = f"trial attribute {key!r}"
        value = _json.normalized(value, what)  # refuse a non-JSON value before taking any lock

        def set_attr(conn: Connection) -> None:
            _, version, _ = self._bump(conn, "tid", trial_id)
            text = conn.execute(sa.select(column).where(tr.c.trial_id == trial_id)).scalar()
            attrs = _json.dumps({**_json.loads(text, {}), key: value}, what)
            update = sa.update(tr).where(tr.c.trial_id == trial_id)
            conn.execute(update.values({column.name: attrs, "version": version}))

        self._write(set_attr)

    def add_artifact(self, trial_id: int, artifact: Artifact) -> None:
        artifact = _checked_artifact(artifact)
        row = {
            "trial_id": trial_id,
            "name": artifact.name,
            "key": artifact.key,
            "kind": artifact.kind,
            "step": artifact.step,
            "size": artifact.size,
            "checksum": artifact.checksum,
            "format": artifact.format,
            "datetime_create": artifact.created,
        }

        def add(conn: Connection) -> None:
            _, version, _ = self._bump(conn, "tid", trial_id)
            conn.execute(self._upsert_artifact, row)
            conn.execute(self._t.touch_any, {"tid": trial_id, "b_version": version})

        self._write(add)

    def remove_artifacts(self, trial_id: int, names: Sequence[str]) -> None:
        names = [names] if isinstance(names, str) else [str(name) for name in names]
        if not names:
            return
        t = self._t

        def remove(conn: Connection) -> None:
            _, version, _ = self._bump(conn, "tid", trial_id)
            if conn.execute(t.remove_artifacts, {"tid": trial_id, "names": names}).rowcount:
                conn.execute(t.touch_any, {"tid": trial_id, "b_version": version})

        self._write(remove)

    def heartbeat(self, trial_ids: Sequence[int]) -> None:
        if not trial_ids:
            return
        tr = self._t.trials
        alive = (tr.c.trial_id.in_(list(trial_ids)), tr.c.state == TrialState.RUNNING.value)
        stmt = sa.update(tr).where(*alive).values(heartbeat=time.time())
        self._write(lambda conn: conn.execute(stmt))  # no version bump: the trial itself did not change

    def requeue_stale_trials(self, study_id: int, grace_seconds: float) -> list[Trial]:
        t, tr = self._t, self._t.trials

        def requeue(conn: Connection) -> list[Trial]:
            now = time.time()  # a RUNNING trial without a heartbeat counts as alive now (stale if grace < 0)
            stale_query = sa.select(tr.c.trial_id, tr.c.system_attrs).where(
                tr.c.study_id == study_id,
                tr.c.state == TrialState.RUNNING.value,
                sa.func.coalesce(tr.c.heartbeat, now) < now - grace_seconds,
            )
            if not conn.execute(stale_query).first():
                return []  # the common case: nothing stale, take no lock
            _, version, _ = self._bump(conn, "sid", study_id)
            stale = conn.execute(stale_query).all()  # again, under the lock
            if not stale:
                return []
            updates = [
                {"tid": row.trial_id, "b_system_attrs": _requeued_json(row, HEARTBEAT_LOST), "b_version": version}
                for row in stale
            ]
            conn.execute(t.requeue[0], updates)
            params = {"tids": [row.trial_id for row in stale]}
            return self._assemble(conn, conn.execute(t.trials_by_ids, params).all(), t.iv_by_ids, t.art_by_ids, params)

        return self._write(requeue)

    def get_trials(self, study_id: int, since: int = 0) -> tuple[list[Trial], int]:
        t = self._t

        def read(conn: Connection) -> tuple[list[Trial], int]:
            # The cursor first: versions are handed out under the study lock, in commit order, so every
            # version <= cursor is committed and the trial query, even in a later snapshot, sees it.
            cursor = conn.execute(t.study_version, {"sid": study_id}).scalar()
            if cursor is None:
                raise StudyNotFound(f"no study with study_id={study_id} in storage={self._masked_url!r}")
            if since >= cursor:
                return [], cursor
            params = {"sid": study_id, "since": max(since, 0)}
            rows = conn.execute(t.changed, params).all()
            return self._assemble(conn, rows, t.iv_changed, t.art_changed, params), cursor

        return self._read(read)

    def get_trial(self, trial_id: int) -> Trial:
        return self._read(lambda conn: self._one(conn, trial_id))

    # --- lifecycle -----------------------------------------------------------------------------------------
    def drop_tables(self) -> None:
        """Drop the hypersweep tables, and every study in them, from the database (tests, cleanup)."""
        with self._locked():
            self._t.metadata.drop_all(self._engine)

    def close(self) -> None:
        if self._engine_ is not None:
            self._engine_.dispose()
            self._engine_ = None

    def __getstate__(self) -> dict[str, Any]:
        if self._in_memory:
            raise TypeError(
                f"SQLStorage({self.url!r}) lives in this process's memory and cannot be sent to another; "
                "use a file or server URL for storage=, e.g. 'sqlite:///results.db'."
            )
        return {"url": self.url, "engine_kwargs": self.engine_kwargs, "table_prefix": self.table_prefix}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["url"], state["engine_kwargs"], state["table_prefix"])  # connects on first use


# --- rows to values ----------------------------------------------------------------------------------------
def _to_study(row: Row) -> StudyRecord:
    return StudyRecord(
        row.study_id,
        row.name,
        row.direction,
        _json.loads(row.space),
        _json.loads(row.user_attrs, {}),
        _json.loads(row.system_attrs, {}),
        tuple(_json.loads(row.directions, None) or (row.direction,)),
    )


def _to_trial(
    row: Row,
    intermediate: dict[int, float],
    artifacts: dict[str, Artifact],
    intermediate_values: dict[int, tuple[float, ...]] | None = None,
) -> Trial:
    return Trial(
        number=row.number,
        config=_json.loads(row.config),
        state=TrialState(row.state),
        value=row.value,
        values=_json.loads(row.objective_values, None),
        intermediate=intermediate,
        intermediate_values=intermediate_values or {},
        datetime_start=row.datetime_start,
        datetime_complete=row.datetime_complete,
        metadata=_json.loads(row.metadata),
        user_attrs=_json.loads(row.user_attrs),
        system_attrs=_json.loads(row.system_attrs),
        fail_reason=row.fail_reason,
        trial_id=row.trial_id,
        worker=row.worker,
        artifacts=artifacts,
    )


def _to_artifact(row: Row) -> Artifact:
    return Artifact(row.name, row.key, row.kind, row.step, row.size, row.checksum, row.format, row.datetime_create)


def _requeued_json(row: Row, reason: str) -> str:
    """The system attributes (JSON) of the trial of ``row`` once re-queued for ``reason``."""
    return _json.dumps(_requeued_attrs(_json.loads(row.system_attrs, {}), reason), "system_attrs")


def _switch_to_wal(cursor: Any, patience: float = 30.0) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the file: leaving the rollback
    journal of a file an older release wrote needs the file to itself, and SQLite answers "database is
    locked" at once there instead of waiting its busy timeout (several processes opening one old file)."""
    import sqlite3

    deadline = time.monotonic() + patience
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.2)


def _sqlite_events(engine: Engine, wal: bool) -> None:
    """Let SQLAlchemy, not the driver, begin transactions: BEGIN IMMEDIATE for writes, BEGIN for reads."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver stops issuing its own BEGIN
        if wal:
            cursor = dbapi_conn.cursor()
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hypersweep_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
