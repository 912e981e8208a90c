"""The storage contract every backend fulfils, and the errors it raises.

Storage is written only by `Study`; reads are incremental (`get_trials(since=cursor)`) so their cost stays
flat as a study grows. Parameters and attributes are JSON values, never pickles; artifacts are recorded
(name, key, step, size, checksum), their bytes live in an artifact store.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hypersweep.trial import Artifact, Trial, TrialState

__all__ = [
    "BaseStorage",
    "StudyRecord",
    "StudyNotFound",
    "DuplicatedStudyError",
    "TrialAlreadyFinished",
    "MultiWriterNotSupported",
]


class StudyNotFound(KeyError):
    """No study of that name exists in the storage."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "study not found"


class DuplicatedStudyError(ValueError):
    """A study of that name exists and the caller asked for a new one."""


class TrialAlreadyFinished(RuntimeError):
    """A finished trial cannot be reported to or finished again."""


class MultiWriterNotSupported(RuntimeError):
    """The backend cannot safely host several writer processes on one study (e.g. SQLite)."""


@dataclass(frozen=True)
class StudyRecord:
    """What storage knows of a study: its id, name, direction(s), space (JSON form) and attributes.

    ``directions`` has one direction per objective (``(direction,)`` for a study of one objective;
    ``direction`` is the first); ``user_attrs`` are the user's; ``system_attrs`` hold hypersweep's own flags
    (e.g. ``"hs:planned"``).
    """

    study_id: int
    name: str
    direction: str
    space: dict[str, Any] | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    directions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.directions:
            object.__setattr__(self, "directions", (self.direction,))
        else:
            object.__setattr__(self, "directions", tuple(self.directions))


class BaseStorage(abc.ABC):
    """One contract, several backends (in-memory, SQL). See `hypersweep.testing.storage` for its tests.

    Every write bumps a per-study version; `get_trials(study_id, since=v)` returns the trials changed after
    version ``v`` (with their intermediate values) and the new cursor.
    """

    #: True when several processes may write one study at once (PostgreSQL, MySQL).
    supports_multiple_writers: bool = False
    #: True when the data outlives this process (then running trials send heartbeats).
    persistent: bool = True

    # --- studies -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_study(
        self,
        name: str,
        direction: str = "minimize",
        space: dict[str, Any] | None = None,
        load_if_exists: bool = False,
        directions: Sequence[str] | None = None,
    ) -> StudyRecord:
        """Create a study; with ``load_if_exists`` return the existing one of that name instead of failing.
        ``directions`` (one per objective) makes a study of several objectives; ``direction`` is then ignored."""

    @abc.abstractmethod
    def get_study(self, name: str) -> StudyRecord:
        """The study of that name; raises `StudyNotFound`."""

    @abc.abstractmethod
    def list_studies(self) -> list[StudyRecord]:
        """All studies, oldest first."""

    @abc.abstractmethod
    def delete_study(self, name: str) -> None:
        """Remove a study and all its trials; raises `StudyNotFound`."""

    @abc.abstractmethod
    def set_study_attr(
        self, study_id: int, key: str, value: Any, only_if_absent: bool = False, system: bool = False
    ) -> bool:
        """Store a JSON-able user attribute (system attribute with ``system=True``) on the study; True when
        stored. A value that is not JSON raises TypeError.

        With ``only_if_absent`` the check and the write are one atomic step, even across processes: of several
        writers racing to set the same key, exactly one gets True.
        """

    # --- trials ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_trial(
        self,
        study_id: int,
        config: dict[str, Any],
        state: TrialState = TrialState.RUNNING,
        system_attrs: dict[str, Any] | None = None,
        worker: str | None = None,
    ) -> Trial:
        """Add a trial with the next free number (unique even with concurrent writers).

        ``state`` is WAITING (enqueued, to be claimed later) or RUNNING (started now by ``worker``); any other
        state raises ValueError. Non-JSON ``config`` or ``system_attrs`` raise TypeError.
        """

    @abc.abstractmethod
    def claim_waiting_trial(self, study_id: int, worker: str) -> Trial | None:
        """Atomically move the oldest WAITING trial to RUNNING for ``worker``; None if there is none.

        A claimed trial keeps everything it had: number, config, intermediate values, attributes and artifacts
        (a re-queued one resumes at its checkpoint and reports its steps again, overwriting them).
        """

    @abc.abstractmethod
    def claim_trial(self, trial_id: int, worker: str) -> Trial | None:
        """Atomically move this WAITING or PAUSED trial to RUNNING for ``worker`` (to resume it).

        None when it is in another state (another worker claimed it first, or it finished); of several
        workers racing for one trial exactly one gets it; it keeps its steps and artifacts. Raises KeyError
        for an unknown trial.
        """

    @abc.abstractmethod
    def pause_trial(self, trial_id: int, value: float | None = None) -> Trial:
        """Move a RUNNING trial to PAUSED (it keeps its steps and artifacts; ``value`` is its latest value).

        Raises `TrialAlreadyFinished` for a finished trial and ValueError for one that is not RUNNING.
        """

    @abc.abstractmethod
    def requeue_trial(self, trial_id: int, reason: str) -> Trial:
        """Move a RUNNING or PAUSED trial back to WAITING, to be claimed again (its worker was lost or the
        search was interrupted).

        The trial keeps its number, config, intermediate values and artifacts; its worker and heartbeat are
        cleared. ``system_attrs["requeued"]``
        counts its re-queues and ``system_attrs["requeue_reason"]`` holds ``reason``. Raises
        `TrialAlreadyFinished` for a finished trial and ValueError for a WAITING one.
        """

    @abc.abstractmethod
    def report(self, trial_id: int, step: int, value: float, values: Sequence[float] | None = None) -> None:
        """Record an intermediate value (overwriting the same step); raises `TrialAlreadyFinished`.

        ``values``, when given, holds one value per objective (read back in ``trial.intermediate_values``;
        ``value`` is then ignored: the first of them is the step's ``trial.intermediate``). A non-finite value
        (NaN, inf) is stored as NaN: schedulers read it as the worst value.
        """

    @abc.abstractmethod
    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        value: float | None = None,
        metadata: dict[str, Any] | None = None,
        fail_reason: str | None = None,
        values: Sequence[float] | None = None,
    ) -> Trial:
        """Move a WAITING, RUNNING or PAUSED trial to a finished state (COMPLETE, PRUNED or FAILED; any
        other ``state`` raises ValueError); raises `TrialAlreadyFinished`. Non-JSON metadata raises TypeError.
        ``values`` (one per objective) records a trial of several objectives (``value`` is then their first).
        """

    @abc.abstractmethod
    def set_trial_attr(self, trial_id: int, key: str, value: Any, system: bool = False) -> None:
        """Store a JSON-able user attribute (or system attribute with ``system=True``) on a trial, in any
        state; a value that is not JSON raises TypeError."""

    @abc.abstractmethod
    def add_artifact(self, trial_id: int, artifact: Artifact) -> None:
        """Record that ``artifact`` exists for the trial (replacing one of the same name), in any state."""

    @abc.abstractmethod
    def remove_artifacts(self, trial_id: int, names: Sequence[str]) -> None:
        """Forget the named artifacts of the trial (names it does not have are ignored)."""

    @abc.abstractmethod
    def heartbeat(self, trial_ids: Sequence[int]) -> None:
        """Mark these RUNNING trials as alive now."""

    @abc.abstractmethod
    def requeue_stale_trials(self, study_id: int, grace_seconds: float) -> list[Trial]:
        """Re-queue (as `requeue_trial` does) the RUNNING trials whose heartbeat is older than
        ``grace_seconds``: their process is gone. Returns them, now WAITING.
        """

    @abc.abstractmethod
    def get_trials(self, study_id: int, since: int = 0) -> tuple[list[Trial], int]:
        """Trials changed after version ``since`` (all trials for 0) and the cursor to pass next time; each
        with its intermediate values and artifacts."""

    @abc.abstractmethod
    def get_trial(self, trial_id: int) -> Trial:
        """One trial by its storage id."""

    # --- lifecycle -----------------------------------------------------------------------------------
    def check_multiple_writers(self) -> None:
        """Raise `MultiWriterNotSupported` when this backend cannot host several writer processes."""
        if not self.supports_multiple_writers:
            raise MultiWriterNotSupported(
                f"{type(self).__name__} cannot be shared by several processes writing one study; "
                "use a PostgreSQL or MySQL URL for storage=, e.g. 'postgresql://user@host/db'."
            )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the storage may not be used afterwards."""

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(f"{type(self).__name__} cannot be pickled; pass its URL to worker processes instead.")


# --- checks both backends share, so that they refuse the same things with the same errors ---------------------
#: longest artifact name every backend stores (SQL keys the artifacts table by it)
ARTIFACT_NAME_LENGTH = 255
#: longest ``kind``, ``format`` and ``checksum`` of an artifact (the SQL column widths)
ARTIFACT_FIELD_LENGTHS = {"kind": 32, "format": 32, "checksum": 255}
#: what `requeue_stale_trials` records as the reason
HEARTBEAT_LOST = "heartbeat lost"


def _directions(direction: str, directions: Sequence[str] | None) -> tuple[str, ...]:
    """The study's directions as storage keeps them."""
    if directions is None:
        return (str(direction),)
    out = tuple(str(d) for d in directions)
    if not out:
        raise ValueError("directions: give at least one, e.g. directions=['maximize', 'minimize']")
    return out


def _values(value: float | None, values: Sequence[float] | None) -> tuple[float | None, tuple[float, ...] | None]:
    """(value, values) of a finished trial as storage keeps them: values of several objectives must be finite
    numbers (a trial whose objective diverged is FAILED, not COMPLETE)."""
    if values is None:
        return value, None
    out = tuple(float(v) for v in values)
    if not out or not all(math.isfinite(v) for v in out):
        raise ValueError(f"values: one finite number per objective, got {list(values)!r}")
    return out[0], out


def _step_values(value: float, values: Sequence[float] | None) -> tuple[float, tuple[float, ...] | None]:
    """(value, values) of an intermediate report as storage keeps them: floats, non-finite ones as NaN."""
    if values is None:
        value = float(value)
        return (value if math.isfinite(value) else math.nan), None
    out = tuple(v if math.isfinite(v) else math.nan for v in map(float, values))
    if not out:
        raise ValueError("values: one number per objective, got an empty sequence")
    return out[0], out


def _creation_state(state: TrialState | str) -> TrialState:
    """``state`` as a `TrialState` if `create_trial` takes it (WAITING, RUNNING); ValueError otherwise."""
    state = TrialState(state)
    if state not in (TrialState.WAITING, TrialState.RUNNING):
        raise ValueError(
            f"create_trial takes state=waiting or state=running, got state={state}; "
            "create the trial, then move it on with pause_trial or finish_trial"
        )
    return state


def _finished_state(state: TrialState | str) -> TrialState:
    """``state`` as a `TrialState` if it is a finished one (COMPLETE, PRUNED, FAILED); ValueError otherwise."""
    state = TrialState(state)
    if not state.is_finished:
        raise ValueError(
            f"finish_trial takes state=complete, pruned or failed, got state={state}; "
            "use claim_trial, pause_trial or requeue_trial to move an unfinished trial"
        )
    return state


def _state_error(action: str, number: int, state: TrialState, allowed: str) -> Exception:
    """The error for ``action`` on trial ``number`` in ``state``, which is not among ``allowed``."""
    if state.is_finished:
        return TrialAlreadyFinished(f"trial {number} is already {state}; {action} takes {allowed} trials only")
    return ValueError(f"{action} takes {allowed} trials only, got trial {number} in state={state}")


def _requeued_attrs(system_attrs: dict[str, Any], reason: str) -> dict[str, Any]:
    """A re-queued trial's system attributes: one more ``"requeued"``, ``reason`` as ``"requeue_reason"``."""
    return {**system_attrs, "requeued": int(system_attrs.get("requeued", 0)) + 1, "requeue_reason": str(reason)}


def _checked_artifact(artifact: Artifact) -> Artifact:
    """``artifact`` as storage keeps it (integer step and size, ``created`` now when unset), or the error."""
    if not isinstance(artifact, Artifact):
        raise TypeError(f"artifact must be an Artifact, got artifact={artifact!r:.80}; build one with Artifact(...)")
    name = artifact.name
    if not isinstance(name, str) or not name or len(name) > ARTIFACT_NAME_LENGTH:
        raise ValueError(
            f"artifact.name must be a non-empty string of at most {ARTIFACT_NAME_LENGTH} characters, "
            f"got name={name!r:.80}; choose a shorter name"
        )
    for field_name, longest in ARTIFACT_FIELD_LENGTHS.items():
        text = getattr(artifact, field_name)
        if not isinstance(text, str) or len(text) > longest:
            raise ValueError(
                f"artifact.{field_name} must be a string of at most {longest} characters, "
                f"got {field_name}={text!r:.80}; shorten it"
            )
    return replace(
        artifact,
        key=str(artifact.key),
        step=None if artifact.step is None else int(artifact.step),
        size=int(artifact.size),
        created=artifact.created or datetime.now(),
    )
