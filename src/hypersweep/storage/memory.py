"""In-memory storage: the library's default, thread-safe, gone when the process ends."""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime

from hypersweep.storage.base import (
    BaseStorage,
    DuplicatedStudyError,
    StudyNotFound,
    StudyRecord,
    TrialAlreadyFinished,
)
from hypersweep.trial import Trial, TrialState

__all__ = ["InMemoryStorage"]


class _StudyData:
    def __init__(self, record: StudyRecord) -> None:
        self.record = record
        self.trials: list[Trial] = []  # index == number
        self.versions: list[int] = []  # version of each trial's last change
        self.heartbeats: dict[int, float] = {}
        self.version = 0
        self.waiting: deque[int] = deque()  # numbers of WAITING trials, oldest first
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
    def create_study(self, name, direction="minimize", space=None, load_if_exists=False):
        with self._lock:
            if name in self._names:
                if load_if_exists:
                    return self._studies[self._names[name]].record
                raise DuplicatedStudyError(
                    f"a study named {name!r} already exists; pass resume=True to continue it "
                    "or choose another name="
                )
            record = StudyRecord(self._next_study_id, name, direction, copy.deepcopy(space), {})
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

    def set_study_attr(self, study_id, key, value, only_if_absent=False):
        with self._lock:
            data = self._studies[study_id]
            if only_if_absent and key in data.record.user_attrs:
                return False
            attrs = dict(data.record.user_attrs)
            attrs[key] = copy.deepcopy(value)
            data.record = StudyRecord(
                data.record.study_id, data.record.name, data.record.direction, data.record.space, attrs
            )
            return True

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
        with self._lock:
            data = self._studies[study_id]
            number = len(data.trials)
            trial = Trial(
                number=number,
                config=copy.deepcopy(dict(config)),
                state=TrialState(state),
                datetime_start=datetime.now() if state == TrialState.RUNNING else None,
                system_attrs=copy.deepcopy(dict(system_attrs or {})),
                trial_id=self._next_trial_id,
                worker=worker,
            )
            self._next_trial_id += 1
            data.trials.append(trial)
            data.versions.append(0)
            self._trial_index[trial.trial_id] = (study_id, number)
            if state == TrialState.WAITING:
                data.waiting.append(number)
            if state == TrialState.RUNNING:
                data.heartbeats[trial.trial_id] = time.time()
            return self._put(data, trial)

    def claim_waiting_trial(self, study_id, worker):
        with self._lock:
            data = self._studies[study_id]
            while data.waiting:
                trial = data.trials[data.waiting.popleft()]
                if trial.state == TrialState.WAITING:  # skip those finished while waiting
                    claimed = trial.evolve(state=TrialState.RUNNING, datetime_start=datetime.now(), worker=worker)
                    data.heartbeats[trial.trial_id] = time.time()
                    return self._put(data, claimed)
            return None

    def report(self, trial_id, step, value):
        with self._lock:
            data, trial = self._locate(trial_id)
            if trial.is_finished:
                raise TrialAlreadyFinished(f"trial {trial.number} is {trial.state}; it takes no more reports")
            intermediate = dict(trial.intermediate)
            intermediate[int(step)] = float(value)
            self._put(data, trial.evolve(intermediate=intermediate))

    def finish_trial(self, trial_id, state, value=None, metadata=None, fail_reason=None):
        with self._lock:
            data, trial = self._locate(trial_id)
            if trial.is_finished:
                raise TrialAlreadyFinished(f"trial {trial.number} is already {trial.state}")
            data.heartbeats.pop(trial_id, None)
            finished = trial.evolve(
                state=TrialState(state),
                value=None if value is None else float(value),
                metadata=copy.deepcopy(dict(metadata or {})),
                fail_reason=fail_reason,
                datetime_complete=datetime.now(),
                datetime_start=trial.datetime_start or datetime.now(),
            )
            return self._put(data, finished)

    def set_trial_attr(self, trial_id, key, value, system=False):
        with self._lock:
            data, trial = self._locate(trial_id)
            field_name = "system_attrs" if system else "user_attrs"
            attrs = dict(getattr(trial, field_name))
            attrs[key] = copy.deepcopy(value)
            self._put(data, trial.evolve(**{field_name: attrs}))

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
            data = self._studies[study_id]
            stale = [
                trial
                for trial in data.trials
                if trial.state == TrialState.RUNNING
                and now - data.heartbeats.get(trial.trial_id, now) > grace_seconds
            ]
            requeued = []
            for trial in stale:
                new = self.create_trial(
                    study_id,
                    trial.config,
                    TrialState.WAITING,
                    system_attrs={**trial.system_attrs, "retry_of": trial.number},
                )
                self.finish_trial(
                    trial.trial_id,
                    TrialState.FAILED,
                    fail_reason=f"heartbeat lost; re-queued as trial {new.number}",
                )
                requeued.append(self._studies[study_id].trials[new.number])
            return requeued

    def get_trials(self, study_id, since=0):
        with self._lock:
            data = self._studies[study_id]
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
