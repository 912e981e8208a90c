"""In-memory storage: the library's default, thread-safe, gone when the process ends.

It refuses what `SQLStorage` refuses, with the same errors, and keeps normalized JSON copies of configs and
attributes (`hypersweep._json`), so both give back the same values.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from hypersweep import _json
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
from hypersweep.trial import Trial, TrialState

__all__ = ["InMemoryStorage"]


class _StudyData:
    def __init__(self, record: StudyRecord) -> None:
        self.record = record
        self.trials: list[Trial] = []  # index == number
        self.versions: list[int] = []  # version of each trial's last change
        self.heartbeats: dict[int, float] = {}  # trial_id -> time.time() of its last sign of life, RUNNING only
        self.version = 0
        # numbers of trials that were WAITING when pushed, smallest first; entries of trials claimed or
        # finished since are skipped when popped (a re-queued trial is pushed again: its number may be small)
        self.waiting: list[int] = []
        # trials ordered by version: a dict keeps insertion order, re-inserting moves a trial to the end
        self.by_version: dict[int, None] = {}


class InMemoryStorage(BaseStorage):
    """Trials kept in this process's memory.

    >>> storage = InMemoryStorage()
    >>> record = storage.create_study("demo", direction="maximize")
    >>> storage.create_trial(record.study_id, {"x": 1}).number
    0
    """

    supports_multiple_writers = False
    persistent = False

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[int, _StudyData] = {}
        self._names: dict[str, int] = {}
        self._trial_index: dict[int, tuple[int, int]] = {}  # trial_id -> (study_id, number)
        self._next_study_id = 0
        self._next_trial_id = 0

    # --- studies -------------------------------------------------------------------------------------
    def create_study(self, name, direction="minimize", space=None, load_if_exists=False, directions=None):
        space = None if space is None else _json.normalized(space, "space")
        directions = _directions(direction, directions)
        with self._lock:
            if name in self._names:
                if load_if_exists:
                    return self._studies[self._names[name]].record
                raise DuplicatedStudyError(
                    f"a study named {name!r} already exists; pass resume=True to continue it "
                    "or choose another name="
                )
            record = StudyRecord(self._next_study_id, name, directions[0], space, {}, {}, directions)
            self._next_study_id += 1
            self._studies[record.study_id] = _StudyData(record)
            self._names[name] = record.study_id
            return record

    def get_study(self, name):
        with self._lock:
            if name not in self._names:
                raise StudyNotFound(f"no study named {name!r}; known: {sorted(self._names)}")
            return self._studies[self._names[name]].record

    def list_studies(self):
        with self._lock:
            return [data.record for data in self._studies.values()]

    def delete_study(self, name):
        with self._lock:
            study_id = self.get_study(name).study_id
            data = self._studies.pop(study_id)
            del self._names[name]
            for trial in data.trials:
                self._trial_index.pop(trial.trial_id, None)

    def set_study_attr(self, study_id, key, value, only_if_absent=False, system=False):
        what = f"study attribute {key!r}"
        value = _json.normalized(value, what)
        with self._lock:
            data = self._study(study_id)
            field_name = "system_attrs" if system else "user_attrs"
            attrs = getattr(data.record, field_name)
            if only_if_absent and key in attrs:
                return False
            data.record = replace(data.record, **{field_name: _json.normalized({**attrs, key: value}, what)})
            return True

    def _study(self, study_id: int) -> _StudyData:
        try:
            return self._studies[study_id]
        except KeyError:
            raise StudyNotFound(f"no study with study_id={study_id}") from None

    # --- trials ----------------------------------------------------------------------------------------
    def _put(self, data: _StudyData, trial: Trial) -> Trial:
        data.version += 1
        data.trials[trial.number] = trial
        data.versions[trial.number] = data.version
        data.by_version.pop(trial.number, None)
        data.by_version[trial.number] = None
        return trial

    def _locate(self, trial_id: int) -> tuple[_StudyData, Trial]:
        try:
            study_id, number = self._trial_index[trial_id]
        except KeyError:
            raise KeyError(f"no trial with trial_id={trial_id}") from None
        data = self._studies[study_id]
        return data, data.trials[number]

    def create_trial(self, study_id, config, state=TrialState.RUNNING, system_attrs=None, worker=None):
        state = _creation_state(state)
        config = _json.normalized(dict(config), "config")
        system_attrs = _json.normalized(dict(system_attrs or {}), "system_attrs")
        with self._lock:
            data = self._study(study_id)
            number = len(data.trials)
            trial = Trial(
                number=number,
                config=config,
                state=state,
                datetime_start=datetime.now() if state == TrialState.RUNNING else None,
                system_attrs=system_attrs,
                trial_id=self._next_trial_id,
                worker=worker,
            )
            self._next_trial_id += 1
            data.trials.append(trial)
            data.versions.append(0)
            self._trial_index[trial.trial_id] = (study_id, number)
            if state == TrialState.WAITING:
                heapq.heappush(data.waiting, number)
            if state == TrialState.RUNNING:
                data.heartbeats[trial.trial_id] = time.time()
            return self._put(data, trial)

    def _start(self, data: _StudyData, trial: Trial, worker: str) -> Trial:
        """``trial`` RUNNING for ``worker``, with everything it had."""
        data.heartbeats[trial.trial_id] = time.time()
        claimed = trial.evolve(
            state=TrialState.RUNNING, datetime_start=trial.datetime_start or datetime.now(), worker=worker
        )
        return self._put(data, claimed)

    def claim_waiting_trial(self, study_id, worker):
        with self._lock:
            data = self._study(study_id)
            while data.waiting:
                trial = data.trials[heapq.heappop(data.waiting)]
                if trial.state == TrialState.WAITING:  # skip those claimed or finished since they were queued
                    return self._start(data, trial, worker)
            return None

    def claim_trial(self, trial_id, worker):
        with self._lock:
            data, trial = self._locate(trial_id)
            if trial.state not in (TrialState.WAITING, TrialState.PAUSED):
                return None
            return self._start(data, trial, worker)  # a WAITING one leaves a stale entry in data.waiting

    def pause_trial(self, trial_id, value=None):
        value = _json.finite_or_none(value)
        with self._lock:
            data, trial = self._locate(trial_id)
            if trial.state != TrialState.RUNNING:
                raise _state_error("pause_trial", trial.number, trial.state, "running")
            data.heartbeats.pop(trial_id, None)
            return self._put(data, trial.evolve(state=TrialState.PAUSED, value=value))

    def requeue_trial(self, trial_id, reason):
        with self._lock:
            data, trial = self._locate(trial_id)
            if trial.state not in (TrialState.RUNNING, TrialState.PAUSED):
                raise _state_error("requeue_trial", trial.number, trial.state, "running or paused")
            return self._requeue(data, trial, reason)

    def _requeue(self, data: _StudyData, trial: Trial, reason: str) -> Trial:
        system_attrs = _json.normalized(_requeued_attrs(trial.system_attrs, reason), "system_attrs")
        data.heartbeats.pop(trial.trial_id, None)
        heapq.heappush(data.waiting, trial.number)
        return self._put(data, trial.evolve(state=TrialState.WAITING, worker=None, system_attrs=system_attrs))

    def report(self, trial_id, step, value, values=None):
        step = int(step)
        value, values = _step_values(value, values)  # as SQL gives them back
        with self._lock:
            data, trial = self._locate(trial_id)
            if trial.is_finished:
                raise _state_error("report", trial.number, trial.state, "unfinished")
            vectors = dict(trial.intermediate_values)
            if values is None:
                vectors.pop(step, None)
            else:
                vectors[step] = values
            self._put(data, trial.evolve(intermediate={**trial.intermediate, step: value},
                                         intermediate_values=vectors))

    def finish_trial(self, trial_id, state, value=None, metadata=None, fail_reason=None, values=None):
        state = _finished_state(state)
        value, values = _values(value, values)
        value = _json.finite_or_none(value)
        metadata = _json.normalized(dict(metadata or {}), "metadata")
        with self._lock:
            data, trial = self._locate(trial_id)
            if trial.is_finished:
                raise _state_error("finish_trial", trial.number, trial.state, "unfinished")
            data.heartbeats.pop(trial_id, None)
            now = datetime.now()
            finished = trial.evolve(
                state=state,
                value=value,
                values=values,
                metadata=metadata,
                fail_reason=fail_reason,
                datetime_complete=now,
                datetime_start=trial.datetime_start or now,
            )
            return self._put(data, finished)

    def set_trial_attr(self, trial_id, key, value, system=False):
        what = f"trial attribute {key!r}"
        value = _json.normalized(value, what)
        with self._lock:
            data, trial = self._locate(trial_id)
            field_name = "system_attrs" if system else "user_attrs"
            attrs = _json.normalized({**getattr(trial, field_name), key: value}, what)  # keys as JSON has them
            self._put(data, trial.evolve(**{field_name: attrs}))

    def add_artifact(self, trial_id, artifact):
        artifact = _checked_artifact(artifact)
        with self._lock:
            data, trial = self._locate(trial_id)
            self._put(data, trial.evolve(artifacts={**trial.artifacts, artifact.name: artifact}))

    def remove_artifacts(self, trial_id, names):
        names = {names} if isinstance(names, str) else {str(name) for name in names}
        if not names:
            return
        with self._lock:
            data, trial = self._locate(trial_id)
            if names.isdisjoint(trial.artifacts):
                return
            kept = {name: a for name, a in trial.artifacts.items() if name not in names}
            self._put(data, trial.evolve(artifacts=kept))

    def heartbeat(self, trial_ids: Sequence[int]) -> None:
        now = time.time()
        with self._lock:
            for trial_id in trial_ids:
                data, trial = self._locate(trial_id)
                if trial.state == TrialState.RUNNING:
                    data.heartbeats[trial_id] = now

    def requeue_stale_trials(self, study_id, grace_seconds):
        now = time.time()
        with self._lock:
            data = self._study(study_id)
            # every RUNNING trial has a heartbeat, and only those: the scan costs the running trials, not the study
            stale = [trial_id for trial_id, beat in data.heartbeats.items() if now - beat > grace_seconds]
            trials = sorted((self._locate(trial_id)[1] for trial_id in stale), key=lambda trial: trial.number)
            return [self._requeue(data, trial, HEARTBEAT_LOST) for trial in trials if trial.state == TrialState.RUNNING]

    def get_trials(self, study_id, since=0):
        with self._lock:
            data = self._study(study_id)
            if since <= 0:
                return list(data.trials), data.version
            changed = []
            # walk the version-ordered index from the newest end until we pass `since`
            for number in reversed(data.by_version):
                if data.versions[number] <= since:
                    break
                changed.append(data.trials[number])
            changed.reverse()
            return changed, data.version

    def get_trial(self, trial_id):
        with self._lock:
            return self._locate(trial_id)[1]

