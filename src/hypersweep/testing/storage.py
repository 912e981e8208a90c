"""Conformance tests every `BaseStorage` must pass: subclass `StorageConformance`, give it a ``storage`` fixture;
multi-writer backends also run `check_concurrent_writers`, `check_concurrent_claims`,
`check_concurrent_trial_claims`, `check_concurrent_study_attrs` and `check_reads_while_writing`.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest

from hypersweep.storage.base import (
    BaseStorage,
    DuplicatedStudyError,
    StudyNotFound,
    StudyRecord,
    TrialAlreadyFinished,
)
from hypersweep.trial import Artifact, Trial, TrialState

__all__ = [
    "StorageConformance",
    "check_concurrent_claims",
    "check_concurrent_study_attrs",
    "check_concurrent_trial_claims",
    "check_concurrent_writers",
    "check_reads_while_writing",
]

_NESTED_CONFIG: dict[str, Any] = {
    "lr": 0.001,
    "tiny": 1e-300,
    "big": 1.5e300,
    "negative": -2.5,
    "count": 12,
    "huge_int": 2**53,
    "name": 'adam "w" \\ ünïcödé ✓',
    "empty": "",
    "flag": True,
    "off": False,
    "nothing": None,
    "layers": [64, [32, 16], [], ["relu", None, 0.5, False]],
    "nested": {"a": {"b": [1, {"c": "d"}]}, "e": {}},
}


def _name() -> str:
    return f"conformance-{uuid.uuid4().hex[:12]}"


def _by_number(trials: list[Trial]) -> list[Trial]:
    return sorted(trials, key=lambda t: t.number)


def _artifact(
    name: str,
    step: int | None = None,
    kind: str = "checkpoint",
    *,
    key: str | None = None,
    size: int = 120,
    checksum: str = "sha256:" + "ab" * 32,
    format: str = "pickle",
    created: datetime | None = None,
) -> Artifact:
    return Artifact(name, key or f"0-study/7/{name}", kind, step, size, checksum, format, created)


def _running_with_steps(storage: BaseStorage, study_id: int, steps: int, **create: Any) -> Trial:
    """A RUNNING trial that reported steps 1 .. ``steps`` (value step / 10)."""
    trial = storage.create_trial(study_id, {"steps": steps}, **create)
    for step in range(1, steps + 1):
        storage.report(trial.trial_id, step, step / 10)
    return trial


def _race(n: int, task: Callable[[int], Any]) -> list[Any]:
    """Run ``task(k)`` for k in 0 .. n-1 in ``n`` threads started together; their results, in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[k] = task(k)
        except BaseException as exc:  # surfaced below; a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


class StorageConformance:
    """The storage contract as pytest tests; subclass it in a test module and provide ``storage``.

    ``storage`` may be shared between tests: every test creates its own uniquely named studies.

    >>> import pytest
    >>> from hypersweep.storage import InMemoryStorage
    >>> class TestInMemoryStorage(StorageConformance):
    ...     @pytest.fixture
    ...     def storage(self):
    ...         return InMemoryStorage()
    """

    @pytest.fixture
    def study(self, storage: BaseStorage) -> StudyRecord:
        """A fresh, uniquely named study in ``storage``."""
        return storage.create_study(_name())

    # --- studies -------------------------------------------------------------------------------------------
    def test_create_and_get_study(self, storage: BaseStorage) -> None:
        name, space = _name(), {"x": {"type": "float", "low": 0.0, "high": 1.0}, "c": ["a", "b", None]}
        record = storage.create_study(name, direction="maximize", space=space)
        assert (record.name, record.direction, record.space, record.user_attrs) == (name, "maximize", space, {})
        assert record.system_attrs == {} and storage.get_study(name).system_attrs == {}
        got = storage.get_study(name)
        assert (got.study_id, got.name, got.direction, got.space) == (record.study_id, name, "maximize", space)
        assert storage.create_study(_name()).space is None

    def test_get_missing_study_raises(self, storage: BaseStorage) -> None:
        with pytest.raises(StudyNotFound):
            storage.get_study(_name())
        with pytest.raises(KeyError):  # StudyNotFound is a KeyError
            storage.get_study(_name())

    def test_duplicate_name_raises(self, storage: BaseStorage, study: StudyRecord) -> None:
        with pytest.raises(DuplicatedStudyError, match=study.name):
            storage.create_study(study.name)

    def test_load_if_exists_returns_the_existing_study(self, storage: BaseStorage, study: StudyRecord) -> None:
        storage.create_trial(study.study_id, {"x": 1})
        again = storage.create_study(study.name, direction="maximize", load_if_exists=True)
        assert (again.study_id, again.direction) == (study.study_id, study.direction)
        assert storage.create_trial(again.study_id, {"x": 2}).number == 1

    def test_list_studies_oldest_first(self, storage: BaseStorage) -> None:
        names = [_name() for _ in range(3)]
        for name in names:
            storage.create_study(name)
        listed = [record.name for record in storage.list_studies() if record.name in names]
        assert listed == names

    def test_delete_study(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        storage.report(trial.trial_id, 1, 0.5)
        storage.add_artifact(trial.trial_id, _artifact("checkpoint-1", 1))
        other = storage.create_study(_name())
        kept = storage.create_trial(other.study_id, {"y": 2})
        storage.add_artifact(kept.trial_id, _artifact("checkpoint-1", 1))
        storage.delete_study(study.name)
        with pytest.raises(StudyNotFound):
            storage.get_study(study.name)
        assert study.name not in [record.name for record in storage.list_studies()]
        with pytest.raises(KeyError):
            storage.get_trial(trial.trial_id)
        with pytest.raises(StudyNotFound):
            storage.delete_study(study.name)
        assert storage.get_trial(kept.trial_id).config == {"y": 2}  # other studies are untouched
        assert list(storage.get_trial(kept.trial_id).artifacts) == ["checkpoint-1"]
        reborn = storage.create_study(study.name)
        assert storage.create_trial(reborn.study_id, {"x": 1}).number == 0
        assert storage.get_trials(reborn.study_id)[0][0].intermediate == {}
        assert storage.get_trials(reborn.study_id)[0][0].artifacts == {}

    def test_set_study_attr(self, storage: BaseStorage, study: StudyRecord) -> None:
        storage.set_study_attr(study.study_id, "owner", "me")
        storage.set_study_attr(study.study_id, "budget", {"epochs": [1, 3, 9]})
        storage.set_study_attr(study.study_id, "owner", "you")
        assert storage.get_study(study.name).user_attrs == {"owner": "you", "budget": {"epochs": [1, 3, 9]}}
        listed = {record.name: record for record in storage.list_studies()}
        assert listed[study.name].user_attrs["owner"] == "you"

    def test_set_study_attr_only_if_absent(self, storage: BaseStorage, study: StudyRecord) -> None:
        assert storage.set_study_attr(study.study_id, "planned", 1, only_if_absent=True) is True
        assert storage.set_study_attr(study.study_id, "planned", 2, only_if_absent=True) is False
        assert storage.get_study(study.name).user_attrs["planned"] == 1
        assert storage.set_study_attr(study.study_id, "planned", 3) is True
        assert storage.get_study(study.name).user_attrs["planned"] == 3

    # --- creating and claiming trials ----------------------------------------------------------------------
    def test_trial_numbers_are_sequential_per_study(self, storage: BaseStorage, study: StudyRecord) -> None:
        trials = [storage.create_trial(study.study_id, {"i": i}) for i in range(5)]
        assert [t.number for t in trials] == [0, 1, 2, 3, 4]
        assert len({t.trial_id for t in trials}) == 5
        other = storage.create_study(_name())
        assert storage.create_trial(other.study_id, {"i": 0}).number == 0
        assert storage.create_trial(study.study_id, {"i": 5}, TrialState.WAITING).number == 5

    def test_created_trial_fields(self, storage: BaseStorage, study: StudyRecord) -> None:
        running = storage.create_trial(study.study_id, {"x": 1}, system_attrs={"bracket": 2}, worker="w1")
        waiting = storage.create_trial(study.study_id, {"x": 2}, TrialState.WAITING)
        assert running.state == TrialState.RUNNING and running.datetime_start is not None
        assert waiting.state == TrialState.WAITING and waiting.datetime_start is None
        for trial in (running, waiting):
            stored = storage.get_trial(trial.trial_id)
            assert (stored.number, stored.config, stored.state) == (trial.number, trial.config, trial.state)
            assert stored.value is None and stored.intermediate == {} and stored.datetime_complete is None
        assert storage.get_trial(running.trial_id).system_attrs == {"bracket": 2}

    def test_claim_takes_the_oldest_waiting_trial_once(self, storage: BaseStorage, study: StudyRecord) -> None:
        assert storage.claim_waiting_trial(study.study_id, "w") is None
        storage.create_trial(study.study_id, {"x": 0})  # running: never claimed
        waiting = [storage.create_trial(study.study_id, {"x": i}, TrialState.WAITING) for i in range(1, 4)]
        claimed = [storage.claim_waiting_trial(study.study_id, "w") for _ in range(3)]
        assert [t.number for t in claimed] == [t.number for t in waiting]
        assert all(t.state == TrialState.RUNNING and t.datetime_start is not None for t in claimed)
        assert [t.config for t in claimed] == [{"x": 1}, {"x": 2}, {"x": 3}]
        assert storage.claim_waiting_trial(study.study_id, "w") is None
        assert storage.get_trial(waiting[0].trial_id).state == TrialState.RUNNING

    def test_concurrent_claims_each_trial_once(self, storage: BaseStorage, study: StudyRecord) -> None:
        for i in range(24):
            storage.create_trial(study.study_id, {"i": i}, TrialState.WAITING)
        claimed: list[int] = []
        errors: list[BaseException] = []

        def claim_all(worker: str) -> None:
            try:
                while (trial := storage.claim_waiting_trial(study.study_id, worker)) is not None:
                    claimed.append(trial.number)
            except BaseException as exc:  # surfaced below; a thread's exception would be lost
                errors.append(exc)

        threads = [threading.Thread(target=claim_all, args=(f"w{k}",)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert sorted(claimed) == list(range(24))

    # --- reporting and finishing ---------------------------------------------------------------------------
    def test_report_and_overwrite_step(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        storage.report(trial.trial_id, 1, 0.5)
        storage.report(trial.trial_id, 3, 0.25)
        storage.report(trial.trial_id, 1, 0.75)  # same step: overwrite
        stored = storage.get_trial(trial.trial_id)
        assert stored.intermediate == {1: 0.75, 3: 0.25}
        assert stored.last_step == 3 and stored.state == TrialState.RUNNING

    def test_finish_trial(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        storage.report(trial.trial_id, 1, 2.0)
        finished = storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=1.25, metadata={"n": 3})
        assert (finished.state, finished.value, finished.metadata) == (TrialState.COMPLETE, 1.25, {"n": 3})
        assert finished.intermediate == {1: 2.0} and finished.number == trial.number
        assert storage.get_trial(trial.trial_id) == finished

    def test_study_of_several_objectives(self, storage: BaseStorage) -> None:
        name = _name()
        record = storage.create_study(name, directions=["maximize", "minimize"])
        assert record.directions == ("maximize", "minimize") and record.direction == "maximize"
        assert storage.get_study(name).directions == ("maximize", "minimize")
        assert [r.directions for r in storage.list_studies() if r.name == name] == [("maximize", "minimize")]
        assert storage.create_study(_name(), direction="maximize").directions == ("maximize",)
        with pytest.raises(ValueError, match="directions"):
            storage.create_study(_name(), directions=[])

    def test_finish_trial_with_several_values(self, storage: BaseStorage) -> None:
        study = storage.create_study(_name(), directions=["maximize", "minimize"])
        trial = storage.create_trial(study.study_id, {"x": 1})
        finished = storage.finish_trial(trial.trial_id, TrialState.COMPLETE, values=[0.9, 12.5])
        assert (finished.values, finished.value) == ((0.9, 12.5), 0.9)
        assert storage.get_trial(trial.trial_id) == finished
        (read,), _ = storage.get_trials(study.study_id)
        assert read.values == (0.9, 12.5)
        one = storage.create_trial(study.study_id, {"x": 2})
        assert storage.finish_trial(one.trial_id, TrialState.COMPLETE, value=2.0).values == (2.0,)
        bad = storage.create_trial(study.study_id, {"x": 3})
        with pytest.raises(ValueError, match="values"):
            storage.finish_trial(bad.trial_id, TrialState.COMPLETE, values=[1.0, float("nan")])
        assert storage.get_trial(bad.trial_id).state == TrialState.RUNNING  # refused before any write

    def test_report_several_values(self, storage: BaseStorage) -> None:
        study = storage.create_study(_name(), directions=["maximize", "minimize"])
        trial = storage.create_trial(study.study_id, {"x": 1})
        storage.report(trial.trial_id, 1, 0.0, values=[0.5, 12.0])
        storage.report(trial.trial_id, 2, 0.0, values=(0.75, float("inf")))  # non-finite: NaN
        storage.report(trial.trial_id, 1, 0.0, values=[0.625, 11.0])  # same step: overwrite
        storage.report(trial.trial_id, 3, 0.125)  # one value: no vector at that step
        for read in (storage.get_trial(trial.trial_id), storage.get_trials(study.study_id)[0][0]):
            assert read.intermediate == {1: 0.625, 2: 0.75, 3: 0.125}
            assert read.intermediate_values[1] == (0.625, 11.0) and set(read.intermediate_values) == {1, 2}
            assert read.intermediate_values[2][0] == 0.75 and math.isnan(read.intermediate_values[2][1])
        with pytest.raises(ValueError, match="values"):
            storage.report(trial.trial_id, 4, 0.0, values=[])
        finished = storage.finish_trial(trial.trial_id, TrialState.PRUNED, value=0.75)
        assert finished.intermediate_values[1] == (0.625, 11.0)

    def test_finish_pruned_and_failed(self, storage: BaseStorage, study: StudyRecord) -> None:
        pruned = storage.create_trial(study.study_id, {"x": 1})
        failed = storage.create_trial(study.study_id, {"x": 2})
        assert storage.finish_trial(pruned.trial_id, TrialState.PRUNED, value=0.5).value == 0.5
        out = storage.finish_trial(failed.trial_id, TrialState.FAILED, fail_reason="ValueError: boom")
        assert (out.state, out.value, out.fail_reason) == (TrialState.FAILED, None, "ValueError: boom")
        assert storage.get_trial(failed.trial_id).fail_reason == "ValueError: boom"

    def test_finish_waiting_trial(self, storage: BaseStorage, study: StudyRecord) -> None:
        waiting = storage.create_trial(study.study_id, {"x": 1}, TrialState.WAITING)
        finished = storage.finish_trial(waiting.trial_id, TrialState.FAILED, fail_reason="cancelled")
        assert finished.state == TrialState.FAILED and finished.datetime_start is not None
        assert storage.claim_waiting_trial(study.study_id, "w") is None

    def test_finished_trial_takes_no_more_writes(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        storage.report(trial.trial_id, 1, 1.0)
        storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=1.0)
        with pytest.raises(TrialAlreadyFinished):
            storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=2.0)
        with pytest.raises(TrialAlreadyFinished):
            storage.finish_trial(trial.trial_id, TrialState.FAILED)
        with pytest.raises(TrialAlreadyFinished):
            storage.report(trial.trial_id, 2, 0.5)
        stored = storage.get_trial(trial.trial_id)
        assert (stored.state, stored.value, stored.intermediate) == (TrialState.COMPLETE, 1.0, {1: 1.0})

    def test_unknown_trial_raises_key_error(self, storage: BaseStorage, study: StudyRecord) -> None:
        missing = storage.create_trial(study.study_id, {}).trial_id + 10**9
        with pytest.raises(KeyError):
            storage.get_trial(missing)
        with pytest.raises(KeyError):
            storage.report(missing, 1, 0.5)
        with pytest.raises(KeyError):
            storage.finish_trial(missing, TrialState.COMPLETE, value=1.0)
        with pytest.raises(KeyError):
            storage.claim_trial(missing, "w")
        with pytest.raises(KeyError):
            storage.pause_trial(missing)
        with pytest.raises(KeyError):
            storage.requeue_trial(missing, "lost")
        with pytest.raises(KeyError):
            storage.set_trial_attr(missing, "note", 1)
        with pytest.raises(KeyError):
            storage.add_artifact(missing, _artifact("checkpoint-1", 1))
        with pytest.raises(KeyError):
            storage.remove_artifacts(missing, ["checkpoint-1"])

    def test_timings(self, storage: BaseStorage, study: StudyRecord) -> None:
        before = datetime.now() - timedelta(seconds=5)  # some backends round to the microsecond or second
        trial = storage.create_trial(study.study_id, {"x": 1})
        time.sleep(0.01)
        finished = storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=0.0)
        after = datetime.now() + timedelta(seconds=5)
        assert finished.datetime_start is not None and finished.datetime_complete is not None
        assert before <= finished.datetime_start <= finished.datetime_complete <= after
        assert finished.duration is not None and finished.duration >= 0
        assert storage.get_trial(trial.trial_id).duration == finished.duration
        assert storage.get_trial(storage.create_trial(study.study_id, {}).trial_id).duration is None

    # --- attributes and JSON -------------------------------------------------------------------------------
    def test_user_and_system_attrs(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1}, system_attrs={"bracket": 0})
        storage.set_trial_attr(trial.trial_id, "note", "first")
        storage.set_trial_attr(trial.trial_id, "tags", ["a", "b"])
        storage.set_trial_attr(trial.trial_id, "note", "second")
        storage.set_trial_attr(trial.trial_id, "checkpoint", "/tmp/ckpt/3.pt", system=True)
        stored = storage.get_trial(trial.trial_id)
        assert stored.user_attrs == {"note": "second", "tags": ["a", "b"]}
        assert stored.system_attrs == {"bracket": 0, "checkpoint": "/tmp/ckpt/3.pt"}
        finished = storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=1.0)
        assert finished.user_attrs == stored.user_attrs and finished.system_attrs == stored.system_attrs

    def test_json_round_trip(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, _NESTED_CONFIG, system_attrs={"cfg": _NESTED_CONFIG})
        storage.set_trial_attr(trial.trial_id, "cfg", _NESTED_CONFIG)
        finished = storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=0.1, metadata=_NESTED_CONFIG)
        for got in (trial, finished, storage.get_trial(trial.trial_id), storage.get_trials(study.study_id)[0][0]):
            assert got.config == _NESTED_CONFIG
            assert got.system_attrs == {"cfg": _NESTED_CONFIG}
        for got in (finished, storage.get_trial(trial.trial_id)):
            assert got.metadata == _NESTED_CONFIG and got.user_attrs == {"cfg": _NESTED_CONFIG}
            assert isinstance(got.config["flag"], bool) and isinstance(got.config["count"], int)
            assert got.config["huge_int"] == 2**53 and got.value == 0.1

    def test_metadata_round_trip(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        metadata = {"accuracy": 0.93, "confusion": [[5, 1], [0, 4]], "model": "svc", "converged": True}
        assert storage.finish_trial(trial.trial_id, TrialState.COMPLETE, 0.5, metadata).metadata == metadata
        assert storage.get_trial(trial.trial_id).metadata == metadata
        assert storage.get_trials(study.study_id)[0][0].metadata == metadata

    # --- heartbeats ----------------------------------------------------------------------------------------
    def test_requeue_stale_trials(self, storage: BaseStorage, study: StudyRecord) -> None:
        stale = storage.create_trial(study.study_id, {"x": [1, 2]}, system_attrs={"bracket": 1}, worker="w0")
        storage.report(stale.trial_id, 1, 0.5)
        storage.add_artifact(stale.trial_id, _artifact("checkpoint-1", 1))
        done = storage.create_trial(study.study_id, {"x": 2})
        storage.finish_trial(done.trial_id, TrialState.COMPLETE, value=1.0)
        waiting = storage.create_trial(study.study_id, {"x": 3}, TrialState.WAITING)
        time.sleep(0.05)
        requeued = storage.requeue_stale_trials(study.study_id, grace_seconds=0)
        assert len(requeued) == 1
        again = requeued[0]  # the same trial, back in the queue: number, config, steps and artifacts kept
        assert (again.trial_id, again.number, again.config) == (stale.trial_id, stale.number, {"x": [1, 2]})
        assert (again.state, again.worker, again.datetime_complete) == (TrialState.WAITING, None, None)
        assert again.intermediate == {1: 0.5} and list(again.artifacts) == ["checkpoint-1"]
        assert again.system_attrs["bracket"] == 1 and again.system_attrs["requeued"] == 1
        assert isinstance(again.system_attrs["requeue_reason"], str) and again.system_attrs["requeue_reason"]
        assert storage.get_trial(stale.trial_id) == again
        assert storage.get_trial(done.trial_id).state == TrialState.COMPLETE
        assert storage.get_trial(waiting.trial_id).state == TrialState.WAITING
        assert storage.requeue_stale_trials(study.study_id, grace_seconds=0) == []
        assert len(storage.get_trials(study.study_id)[0]) == 3  # no new trial
        claimed = [storage.claim_waiting_trial(study.study_id, "w") for _ in range(2)]  # oldest number first
        assert [t.number for t in claimed] == [stale.number, waiting.number]
        assert claimed[0].intermediate == {1: 0.5} and claimed[0].worker == "w"

    def test_heartbeat_keeps_trials_alive(self, storage: BaseStorage, study: StudyRecord) -> None:
        alive = storage.create_trial(study.study_id, {"x": 1})
        dead = storage.create_trial(study.study_id, {"x": 2})
        time.sleep(0.6)
        storage.heartbeat([alive.trial_id])
        storage.heartbeat([])
        requeued = storage.requeue_stale_trials(study.study_id, grace_seconds=0.3)
        assert [(t.number, t.state) for t in requeued] == [(dead.number, TrialState.WAITING)]
        assert storage.get_trial(alive.trial_id).state == TrialState.RUNNING
        assert storage.requeue_stale_trials(study.study_id, grace_seconds=60) == []

    def test_claim_starts_the_heartbeat_clock(self, storage: BaseStorage, study: StudyRecord) -> None:
        waiting = storage.create_trial(study.study_id, {"x": 1}, TrialState.WAITING)
        time.sleep(0.05)
        assert storage.requeue_stale_trials(study.study_id, grace_seconds=0) == []  # waiting: never stale
        storage.claim_waiting_trial(study.study_id, "w")
        time.sleep(0.05)
        requeued = storage.requeue_stale_trials(study.study_id, grace_seconds=0)
        assert [t.number for t in requeued] == [waiting.number]
        assert requeued[0].system_attrs["requeued"] == 1

    def test_paused_and_waiting_trials_have_no_heartbeat(self, storage: BaseStorage, study: StudyRecord) -> None:
        paused = storage.create_trial(study.study_id, {"x": 1})
        storage.pause_trial(paused.trial_id)
        requeued = storage.create_trial(study.study_id, {"x": 2})
        storage.requeue_trial(requeued.trial_id, "interrupted")
        storage.heartbeat([paused.trial_id, requeued.trial_id])  # ignored: neither is running
        assert storage.requeue_stale_trials(study.study_id, grace_seconds=-1) == []  # -1: every RUNNING one
        assert storage.get_trial(paused.trial_id).state == TrialState.PAUSED
        assert storage.get_trial(requeued.trial_id).system_attrs["requeued"] == 1
        storage.claim_trial(paused.trial_id, "w")  # running again: its clock starts
        assert [t.number for t in storage.requeue_stale_trials(study.study_id, grace_seconds=-1)] == [paused.number]

    # --- study system attributes ---------------------------------------------------------------------------
    def test_study_system_attrs_are_separate(self, storage: BaseStorage, study: StudyRecord) -> None:
        assert storage.set_study_attr(study.study_id, "hs:planned", True, system=True) is True
        storage.set_study_attr(study.study_id, "owner", "me")
        storage.set_study_attr(study.study_id, "owner", "system", system=True)  # same key, other namespace
        got = storage.get_study(study.name)
        assert got.user_attrs == {"owner": "me"}
        assert got.system_attrs == {"hs:planned": True, "owner": "system"}
        listed = {record.name: record for record in storage.list_studies()}
        assert listed[study.name].system_attrs == got.system_attrs
        again = storage.create_study(study.name, load_if_exists=True)
        assert (again.user_attrs, again.system_attrs) == (got.user_attrs, got.system_attrs)

    def test_study_system_attr_only_if_absent(self, storage: BaseStorage, study: StudyRecord) -> None:
        storage.set_study_attr(study.study_id, "planned", "user")  # a user key of that name does not count
        assert storage.set_study_attr(study.study_id, "planned", 1, only_if_absent=True, system=True) is True
        assert storage.set_study_attr(study.study_id, "planned", 2, only_if_absent=True, system=True) is False
        got = storage.get_study(study.name)
        assert got.system_attrs == {"planned": 1} and got.user_attrs == {"planned": "user"}

    @pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
    def test_only_if_absent_has_one_winner(self, storage: BaseStorage, study: StudyRecord, system: bool) -> None:
        won = _race(8, lambda k: storage.set_study_attr(study.study_id, "hs:planned", k, True, system=system))
        assert won.count(True) == 1 and won.count(False) == 7
        attrs = storage.get_study(study.name).system_attrs if system else storage.get_study(study.name).user_attrs
        assert attrs == {"hs:planned": won.index(True)}

    def test_missing_study_raises_study_not_found(self, storage: BaseStorage, study: StudyRecord) -> None:
        storage.delete_study(study.name)
        with pytest.raises(StudyNotFound):
            storage.set_study_attr(study.study_id, "k", 1, system=True)
        with pytest.raises(StudyNotFound):
            storage.get_trials(study.study_id)

    # --- what every backend refuses, with the same errors --------------------------------------------------
    @pytest.mark.parametrize("state", [TrialState.PAUSED, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED])
    def test_create_trial_takes_waiting_or_running(
        self, storage: BaseStorage, study: StudyRecord, state: TrialState
    ) -> None:
        with pytest.raises(ValueError, match="state"):
            storage.create_trial(study.study_id, {"x": 1}, state)
        with pytest.raises(ValueError):
            storage.create_trial(study.study_id, {"x": 1}, "sleeping")
        assert storage.get_trials(study.study_id)[0] == []
        assert storage.create_trial(study.study_id, {"x": 1}, "waiting").state == TrialState.WAITING

    @pytest.mark.parametrize("state", [TrialState.WAITING, TrialState.RUNNING, TrialState.PAUSED])
    def test_finish_trial_takes_a_finished_state(
        self, storage: BaseStorage, study: StudyRecord, state: TrialState
    ) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        with pytest.raises(ValueError, match="state"):
            storage.finish_trial(trial.trial_id, state, value=1.0)
        assert storage.get_trial(trial.trial_id).state == TrialState.RUNNING
        assert storage.finish_trial(trial.trial_id, "complete", value=1.0).state == TrialState.COMPLETE

    def test_non_json_values_raise_type_error(self, storage: BaseStorage, study: StudyRecord) -> None:
        bad: Any = {"model": object()}
        with pytest.raises(TypeError, match="config"):
            storage.create_trial(study.study_id, bad)
        with pytest.raises(TypeError, match="system_attrs"):
            storage.create_trial(study.study_id, {"x": 1}, system_attrs={"s": {1, 2}})
        trial = storage.create_trial(study.study_id, {"x": 1})
        assert trial.number == 0  # the refused ones took no number
        with pytest.raises(TypeError, match="note"):
            storage.set_trial_attr(trial.trial_id, "note", bad)
        with pytest.raises(TypeError):
            storage.set_trial_attr(trial.trial_id, "note", b"bytes", system=True)
        for system in (False, True):
            with pytest.raises(TypeError, match="owner"):
                storage.set_study_attr(study.study_id, "owner", bad, system=system)
        with pytest.raises(TypeError, match="metadata"):
            storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=1.0, metadata=bad)
        stored = storage.get_trial(trial.trial_id)  # nothing of the refused writes was kept
        assert (stored.state, stored.user_attrs, stored.system_attrs) == (TrialState.RUNNING, {}, {})
        got = storage.get_study(study.name)
        assert (got.user_attrs, got.system_attrs) == ({}, {})

    def test_values_come_back_as_json_has_them(self, storage: BaseStorage, study: StudyRecord) -> None:
        np = pytest.importorskip("numpy")
        given = {"t": (1, (2.5, "a")), "i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True), 7: "seven"}
        expected = {"t": [1, [2.5, "a"]], "i": 3, "f": 0.5, "b": True, "7": "seven"}
        trial = storage.create_trial(study.study_id, given, system_attrs={"s": given})
        storage.set_trial_attr(trial.trial_id, "u", given)
        storage.set_study_attr(study.study_id, "u", given)
        storage.set_study_attr(study.study_id, "s", given, system=True)
        finished = storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=np.float64(1.5), metadata=given)
        for got in (finished, storage.get_trial(trial.trial_id), storage.get_trials(study.study_id)[0][0]):
            assert got.config == expected and got.metadata == expected
            assert got.system_attrs == {"s": expected} and got.user_attrs == {"u": expected}
            assert [type(got.config[k]) for k in ("i", "f", "b")] == [int, float, bool]
            assert type(got.value) is float and got.value == 1.5
        assert trial.config == expected and trial.system_attrs == {"s": expected}
        record = storage.get_study(study.name)
        assert record.user_attrs == {"u": expected} and record.system_attrs == {"s": expected}

    def test_non_finite_reports_read_back_as_nan(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        for step, value in enumerate([math.nan, math.inf, -math.inf, 0.5], start=1):
            storage.report(trial.trial_id, step, value)
        paused = storage.pause_trial(trial.trial_id, value=math.inf)
        assert paused.value is None  # a non-finite value is no value
        for got in (paused, storage.get_trial(trial.trial_id), storage.get_trials(study.study_id)[0][0]):
            assert sorted(got.intermediate) == [1, 2, 3, 4] and got.intermediate[4] == 0.5
            assert all(math.isnan(got.intermediate[step]) for step in (1, 2, 3))
            assert all(type(v) is float for v in got.intermediate.values())
        finished = storage.finish_trial(trial.trial_id, TrialState.PRUNED, value=math.nan)
        assert finished.value is None and math.isnan(finished.intermediate[2])

    # --- pausing and resuming ------------------------------------------------------------------------------
    def test_pause_and_resume(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = _running_with_steps(storage, study.study_id, 4, worker="w1")
        storage.add_artifact(trial.trial_id, _artifact("checkpoint-4", 4))
        paused = storage.pause_trial(trial.trial_id, value=0.4)
        assert (paused.state, paused.value, paused.datetime_complete) == (TrialState.PAUSED, 0.4, None)
        assert paused.intermediate == {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.4} and paused.checkpoint is not None
        assert not paused.is_finished and storage.get_trial(trial.trial_id) == paused
        assert storage.claim_waiting_trial(study.study_id, "w2") is None  # paused is not queued
        resumed = storage.claim_trial(trial.trial_id, "w2")
        assert resumed is not None and (resumed.state, resumed.worker) == (TrialState.RUNNING, "w2")
        assert resumed.intermediate == paused.intermediate and resumed.artifacts == paused.artifacts
        assert (resumed.number, resumed.config) == (trial.number, trial.config)
        assert resumed.datetime_start == storage.get_trial(trial.trial_id).datetime_start is not None
        assert storage.claim_trial(trial.trial_id, "w3") is None  # running now
        storage.report(trial.trial_id, 5, 0.5)
        storage.pause_trial(trial.trial_id, value=0.5)  # paused again, a step further
        assert storage.get_trial(trial.trial_id).value == 0.5

    def test_finish_a_paused_trial(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = _running_with_steps(storage, study.study_id, 2)
        storage.pause_trial(trial.trial_id, value=0.2)
        finished = storage.finish_trial(trial.trial_id, TrialState.PRUNED, value=0.2)
        assert (finished.state, finished.value, finished.intermediate) == (TrialState.PRUNED, 0.2, {1: 0.1, 2: 0.2})
        assert finished.datetime_complete is not None
        assert storage.claim_trial(trial.trial_id, "w") is None
        with pytest.raises(TrialAlreadyFinished):
            storage.pause_trial(trial.trial_id)
        other = storage.create_trial(study.study_id, {"x": 2})
        storage.pause_trial(other.trial_id)
        assert storage.finish_trial(other.trial_id, TrialState.COMPLETE, value=1.0).state == TrialState.COMPLETE

    def test_pause_takes_running_trials_only(self, storage: BaseStorage, study: StudyRecord) -> None:
        waiting = storage.create_trial(study.study_id, {"x": 1}, TrialState.WAITING)
        with pytest.raises(ValueError, match="running"):
            storage.pause_trial(waiting.trial_id)
        paused = storage.create_trial(study.study_id, {"x": 2})
        storage.pause_trial(paused.trial_id)
        with pytest.raises(ValueError, match="running"):
            storage.pause_trial(paused.trial_id)
        for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED):
            done = storage.create_trial(study.study_id, {"x": 3})
            storage.finish_trial(done.trial_id, state, value=1.0)
            with pytest.raises(TrialAlreadyFinished):
                storage.pause_trial(done.trial_id)
            with pytest.raises(TrialAlreadyFinished):
                storage.requeue_trial(done.trial_id, "lost")
        assert storage.get_trial(waiting.trial_id).state == TrialState.WAITING
        assert storage.get_trial(paused.trial_id).state == TrialState.PAUSED

    def test_claim_trial(self, storage: BaseStorage, study: StudyRecord) -> None:
        waiting = storage.create_trial(study.study_id, {"x": 1}, TrialState.WAITING, system_attrs={"k": 1})
        later = storage.create_trial(study.study_id, {"x": 2}, TrialState.WAITING)
        claimed = storage.claim_trial(later.trial_id, "w")  # any waiting one, not only the oldest
        assert claimed is not None and (claimed.number, claimed.state) == (later.number, TrialState.RUNNING)
        assert claimed.datetime_start is not None and storage.get_trial(later.trial_id) == claimed
        assert storage.claim_trial(later.trial_id, "w") is None  # running
        first = storage.claim_waiting_trial(study.study_id, "w")
        assert first is not None and first.number == waiting.number and first.system_attrs == {"k": 1}
        assert storage.claim_waiting_trial(study.study_id, "w") is None  # the claimed one left the queue
        done = storage.create_trial(study.study_id, {"x": 3})
        storage.finish_trial(done.trial_id, TrialState.FAILED)
        assert storage.claim_trial(done.trial_id, "w") is None

    def test_claim_trial_has_one_winner(self, storage: BaseStorage, study: StudyRecord) -> None:
        for state in (TrialState.PAUSED, TrialState.WAITING):
            for _ in range(3):
                trial = storage.create_trial(study.study_id, {"x": 1}, TrialState.WAITING)
                if state == TrialState.PAUSED:
                    storage.claim_trial(trial.trial_id, "w")
                    storage.pause_trial(trial.trial_id)

                def claim(k: int, trial_id: int = trial.trial_id, state: TrialState = state) -> Trial | None:
                    if state == TrialState.WAITING and k % 2:  # the queue's claim races too
                        return storage.claim_waiting_trial(study.study_id, f"w{k}")
                    return storage.claim_trial(trial_id, f"w{k}")

                won = [t for t in _race(8, claim) if t is not None]
                assert len(won) == 1 and won[0].trial_id == trial.trial_id
                assert storage.get_trial(trial.trial_id).worker == won[0].worker
                storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=0.0)

    def test_claims_keep_steps_and_artifacts(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = _running_with_steps(storage, study.study_id, 6)
        storage.add_artifact(trial.trial_id, _artifact("checkpoint-2", 2))
        storage.add_artifact(trial.trial_id, _artifact("checkpoint-4", 4))
        storage.add_artifact(trial.trial_id, _artifact("plot.png", 6, kind="artifact", format="file"))
        storage.requeue_trial(trial.trial_id, "interrupted")
        claimed = storage.claim_waiting_trial(study.study_id, "w")
        assert claimed is not None and sorted(claimed.intermediate) == [1, 2, 3, 4, 5, 6]
        assert sorted(claimed.artifacts) == ["checkpoint-2", "checkpoint-4", "plot.png"]
        assert claimed.checkpoint is not None and claimed.checkpoint.name == "checkpoint-4"
        storage.report(trial.trial_id, 5, 0.55)  # it runs step 5 again, after its checkpoint of step 4
        storage.pause_trial(trial.trial_id)
        resumed = storage.claim_trial(trial.trial_id, "w")
        assert resumed is not None and resumed.intermediate[5] == 0.55 and len(resumed.intermediate) == 6
        assert storage.get_trials(study.study_id)[0][0].intermediate == resumed.intermediate

    # --- re-queueing ---------------------------------------------------------------------------------------
    def test_requeue_trial(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = _running_with_steps(storage, study.study_id, 2, system_attrs={"bracket": 1}, worker="w1")
        storage.set_trial_attr(trial.trial_id, "note", "kept")
        storage.add_artifact(trial.trial_id, _artifact("checkpoint-1", 1))
        requeued = storage.requeue_trial(trial.trial_id, "interrupted")
        assert (requeued.state, requeued.worker, requeued.number) == (TrialState.WAITING, None, trial.number)
        assert requeued.system_attrs == {"bracket": 1, "requeued": 1, "requeue_reason": "interrupted"}
        assert requeued.user_attrs == {"note": "kept"} and requeued.config == trial.config
        assert requeued.intermediate == {1: 0.1, 2: 0.2} and list(requeued.artifacts) == ["checkpoint-1"]
        assert storage.get_trial(trial.trial_id) == requeued
        with pytest.raises(ValueError, match="waiting"):
            storage.requeue_trial(trial.trial_id, "again")  # already waiting
        storage.claim_trial(trial.trial_id, "w2")
        storage.pause_trial(trial.trial_id)
        again = storage.requeue_trial(trial.trial_id, "worker lost")  # from PAUSED too
        assert again.system_attrs == {"bracket": 1, "requeued": 2, "requeue_reason": "worker lost"}
        assert again.intermediate == {1: 0.1, 2: 0.2}
        claimed = storage.claim_waiting_trial(study.study_id, "w3")
        assert claimed is not None and claimed.trial_id == trial.trial_id and claimed.worker == "w3"
        assert claimed.system_attrs["requeued"] == 2

    # --- artifacts -----------------------------------------------------------------------------------------
    def test_add_replace_and_remove_artifacts(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        created = datetime(2026, 1, 2, 3, 4, 5, 678901)
        first = _artifact("checkpoint-1", 1, created=created)
        storage.add_artifact(trial.trial_id, first)
        storage.add_artifact(trial.trial_id, _artifact("plot", None, kind="artifact", format="file", size=2**40))
        stored = storage.get_trial(trial.trial_id)
        assert sorted(stored.artifacts) == ["checkpoint-1", "plot"]
        assert stored.artifacts["checkpoint-1"] == first  # every field, creation time included
        plot = stored.artifacts["plot"]
        assert (plot.kind, plot.step, plot.size, plot.format) == ("artifact", None, 2**40, "file")
        assert plot.created is not None and not plot.is_checkpoint
        replaced = _artifact("checkpoint-1", 1, key="0-study/7/checkpoint-1.v2", checksum="sha256:cd", size=7)
        storage.add_artifact(trial.trial_id, replaced)  # same name: replaces
        got = storage.get_trial(trial.trial_id).artifacts["checkpoint-1"]
        assert (got.key, got.checksum, got.size) == (replaced.key, "sha256:cd", 7)
        assert len(storage.get_trial(trial.trial_id).artifacts) == 2
        storage.remove_artifacts(trial.trial_id, ["checkpoint-1", "never-saved"])  # unknown names are ignored
        assert list(storage.get_trial(trial.trial_id).artifacts) == ["plot"]
        storage.remove_artifacts(trial.trial_id, [])
        storage.remove_artifacts(trial.trial_id, ["plot"])
        assert storage.get_trial(trial.trial_id).artifacts == {}

    def test_artifacts_in_any_state(self, storage: BaseStorage, study: StudyRecord) -> None:
        waiting = storage.create_trial(study.study_id, {"x": 1}, TrialState.WAITING)
        storage.add_artifact(waiting.trial_id, _artifact("warm-start", 0))
        done = storage.create_trial(study.study_id, {"x": 2})
        storage.add_artifact(done.trial_id, _artifact("checkpoint-1", 1))
        finished = storage.finish_trial(done.trial_id, TrialState.COMPLETE, value=1.0)
        assert list(finished.artifacts) == ["checkpoint-1"] and finished.checkpoint is not None
        storage.add_artifact(done.trial_id, _artifact("model", None, kind="artifact"))  # after it finished
        storage.remove_artifacts(done.trial_id, ["checkpoint-1"])  # e.g. keep only the best trials' files
        assert list(storage.get_trial(done.trial_id).artifacts) == ["model"]
        assert list(storage.get_trial(waiting.trial_id).artifacts) == ["warm-start"]
        trials = {t.number: t for t in storage.get_trials(study.study_id)[0]}
        assert list(trials[done.number].artifacts) == ["model"] and list(trials[0].artifacts) == ["warm-start"]

    def test_artifact_checks(self, storage: BaseStorage, study: StudyRecord) -> None:
        trial = storage.create_trial(study.study_id, {"x": 1})
        with pytest.raises(TypeError, match="Artifact"):
            storage.add_artifact(trial.trial_id, {"name": "checkpoint-1"})  # type: ignore[arg-type]
        for name in ("", "n" * 256):
            with pytest.raises(ValueError, match="name"):
                storage.add_artifact(trial.trial_id, _artifact(name, 1))
        for field_name, longest in (("kind", 32), ("format", 32), ("checksum", 255)):
            with pytest.raises(ValueError, match=field_name):
                storage.add_artifact(trial.trial_id, _artifact("a", 1, **{field_name: "x" * (longest + 1)}))
        assert storage.get_trial(trial.trial_id).artifacts == {}
        longest = _artifact("n" * 255, 1, kind="k" * 32, format="f" * 32, checksum="c" * 255)
        storage.add_artifact(trial.trial_id, longest)
        got = storage.get_trial(trial.trial_id).artifacts
        assert list(got) == [longest.name]
        assert (got[longest.name].kind, got[longest.name].format, got[longest.name].checksum) == (
            "k" * 32, "f" * 32, "c" * 255
        )

    # --- the trial life cycle in incremental reads ----------------------------------------------------------
    def test_lifecycle_writes_show_in_incremental_reads(self, storage: BaseStorage, study: StudyRecord) -> None:
        sid = study.study_id
        trial = storage.create_trial(sid, {"x": 1})
        bystander = storage.create_trial(sid, {"x": 2})
        cursor = storage.get_trials(sid)[1]

        def changed() -> list[Trial]:
            nonlocal cursor
            trials, new_cursor = storage.get_trials(sid, since=cursor)
            assert new_cursor > cursor
            cursor = new_cursor
            return trials

        storage.add_artifact(trial.trial_id, _artifact("checkpoint-1", 1))
        assert [(t.number, list(t.artifacts)) for t in changed()] == [(trial.number, ["checkpoint-1"])]
        storage.pause_trial(trial.trial_id)
        assert [(t.number, t.state) for t in changed()] == [(trial.number, TrialState.PAUSED)]
        storage.claim_trial(trial.trial_id, "w")
        assert [(t.number, t.state) for t in changed()] == [(trial.number, TrialState.RUNNING)]
        storage.add_artifact(trial.trial_id, _artifact("checkpoint-1", 1, size=9))  # replaced
        assert [t.artifacts["checkpoint-1"].size for t in changed()] == [9]
        storage.remove_artifacts(trial.trial_id, ["checkpoint-1"])
        assert [(t.number, t.artifacts) for t in changed()] == [(trial.number, {})]
        storage.requeue_trial(trial.trial_id, "interrupted")
        assert [(t.number, t.state) for t in changed()] == [(trial.number, TrialState.WAITING)]
        storage.claim_waiting_trial(sid, "w")
        time.sleep(0.5)
        storage.heartbeat([bystander.trial_id])
        assert [t.number for t in storage.requeue_stale_trials(sid, grace_seconds=0.25)] == [trial.number]
        assert [(t.number, t.state) for t in changed()] == [(trial.number, TrialState.WAITING)]
        assert storage.get_trials(sid, since=cursor) == ([], cursor)

    # --- incremental reads ---------------------------------------------------------------------------------
    def test_get_trials_since_cursor(self, storage: BaseStorage, study: StudyRecord) -> None:
        sid = study.study_id
        a, b, c = (storage.create_trial(sid, {"i": i}) for i in range(3))
        everything, cursor = storage.get_trials(sid)
        assert [t.number for t in _by_number(everything)] == [0, 1, 2]
        assert storage.get_trials(sid, since=cursor) == ([], cursor)
        cursors = [cursor]

        def changed_since_last() -> list[Trial]:
            trials, new_cursor = storage.get_trials(sid, since=cursors[-1])
            assert new_cursor > cursors[-1]
            cursors.append(new_cursor)
            return _by_number(trials)

        storage.report(b.trial_id, 1, 0.5)
        assert [(t.number, t.intermediate) for t in changed_since_last()] == [(1, {1: 0.5})]
        storage.set_trial_attr(c.trial_id, "note", "x")
        assert [(t.number, t.user_attrs) for t in changed_since_last()] == [(2, {"note": "x"})]
        storage.set_trial_attr(a.trial_id, "bracket", 1, system=True)
        assert [(t.number, t.system_attrs) for t in changed_since_last()] == [(0, {"bracket": 1})]
        storage.finish_trial(a.trial_id, TrialState.COMPLETE, value=3.0)
        storage.report(b.trial_id, 2, 0.25)
        changed = changed_since_last()
        assert [(t.number, t.state) for t in changed] == [(0, TrialState.COMPLETE), (1, TrialState.RUNNING)]
        assert changed[0].value == 3.0 and changed[1].intermediate == {1: 0.5, 2: 0.25}
        d = storage.create_trial(sid, {"i": 3}, TrialState.WAITING)
        assert [(t.number, t.state) for t in changed_since_last()] == [(3, TrialState.WAITING)]
        storage.claim_waiting_trial(sid, "w")
        assert [(t.number, t.state) for t in changed_since_last()] == [(d.number, TrialState.RUNNING)]
        # writes elsewhere neither show up here nor move this study's cursor
        other = storage.create_study(_name())
        storage.finish_trial(storage.create_trial(other.study_id, {}).trial_id, TrialState.COMPLETE, value=0.0)
        assert storage.get_trials(sid, since=cursors[-1]) == ([], cursors[-1])
        everything, cursor = storage.get_trials(sid, since=0)
        assert cursor == cursors[-1] and cursors == sorted(cursors)
        assert [(t.number, t.state) for t in _by_number(everything)] == [
            (0, TrialState.COMPLETE),
            (1, TrialState.RUNNING),
            (2, TrialState.RUNNING),
            (3, TrialState.RUNNING),
        ]
        assert _by_number(everything)[1].intermediate == {1: 0.5, 2: 0.25}

    def test_get_trials_of_an_empty_study(self, storage: BaseStorage, study: StudyRecord) -> None:
        trials, cursor = storage.get_trials(study.study_id)
        assert trials == []
        assert storage.get_trials(study.study_id, since=cursor) == ([], cursor)
        storage.create_trial(study.study_id, {})
        trials, later = storage.get_trials(study.study_id, since=cursor)
        assert [t.number for t in trials] == [0] and later > cursor

    def test_reads_match_returned_trials(self, storage: BaseStorage, study: StudyRecord) -> None:
        created = storage.create_trial(study.study_id, {"x": 1.5}, TrialState.WAITING, system_attrs={"k": 1})
        claimed = storage.claim_waiting_trial(study.study_id, "w")
        assert claimed is not None and claimed.trial_id == created.trial_id
        assert storage.get_trial(created.trial_id) == claimed
        assert storage.get_trials(study.study_id)[0] == [claimed]


# --- several processes on one study (backends with supports_multiple_writers) ----------------------------------
def check_concurrent_writers(storage: BaseStorage, n_processes: int = 4, n_trials: int = 100) -> None:
    """``n_processes`` processes each create, report and finish ``n_trials`` trials of one study at once:
    the numbers must be 0 .. N-1, each once, and every trial finished. ``storage`` must pickle.
    """
    study = storage.create_study(_name())
    results = _in_processes(_create_and_finish, storage, study.study_id, (n_trials,), n_processes)
    total = n_processes * n_trials
    assert sorted(n for numbers in results for n in numbers) == list(range(total))
    trials, _ = storage.get_trials(study.study_id)
    assert len(trials) == total and all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.config["pid"] for t in trials}) == n_processes
    assert all(t.intermediate == {1: t.value} for t in trials)


def check_concurrent_claims(storage: BaseStorage, n_processes: int = 4, n_waiting: int = 50) -> None:
    """``n_processes`` processes claim ``n_waiting`` WAITING trials of one study at once: each is claimed once."""
    study = storage.create_study(_name())
    for i in range(n_waiting):
        storage.create_trial(study.study_id, {"i": i}, TrialState.WAITING)
    results = _in_processes(_claim_until_empty, storage, study.study_id, (), n_processes)
    assert sorted(n for numbers in results for n in numbers) == list(range(n_waiting))
    trials, _ = storage.get_trials(study.study_id)
    assert all(t.state == TrialState.COMPLETE for t in trials)


def check_concurrent_trial_claims(storage: BaseStorage, n_processes: int = 4, n_trials: int = 20) -> None:
    """``n_processes`` processes race with `claim_trial` for each of ``n_trials`` PAUSED trials of one study:
    each trial goes to exactly one of them (which finishes it).
    """
    study = storage.create_study(_name())
    trial_ids = []
    for i in range(n_trials):
        trial = storage.create_trial(study.study_id, {"i": i})
        storage.report(trial.trial_id, 1, float(i))
        storage.pause_trial(trial.trial_id)
        trial_ids.append(trial.trial_id)
    results = _in_processes(_claim_each, storage, study.study_id, (trial_ids,), n_processes)
    won = sorted(n for numbers in results for n in numbers)
    assert won == list(range(n_trials)), won
    trials, _ = storage.get_trials(study.study_id)
    assert all(t.state == TrialState.COMPLETE for t in trials)


def check_concurrent_study_attrs(storage: BaseStorage, n_processes: int = 4, n_keys: int = 10) -> None:
    """``n_processes`` processes race to set ``n_keys`` study attributes (user and system) with
    ``only_if_absent``: exactly one process gets True for each.
    """
    study = storage.create_study(_name())
    results = _in_processes(_set_if_absent, storage, study.study_id, (n_keys,), n_processes)
    for system in (False, True):
        winners = [key for won in results for key, is_system in won if is_system == system]
        assert sorted(winners) == [f"hs:key-{k}" for k in range(n_keys)], winners
    record = storage.get_study(study.name)
    assert len(record.user_attrs) == len(record.system_attrs) == n_keys


def check_reads_while_writing(storage: BaseStorage, n_trials: int = 60) -> None:
    """This process follows `get_trials(since=cursor)` while another writes: it must miss no change."""
    study = storage.create_study(_name())
    run = _start(_create_and_finish, storage, study.study_id, (n_trials,), 1, reader=True)
    seen: dict[int, TrialState] = {}
    cursor = 0
    while True:
        writer_done = not run.processes[0].is_alive()  # read before the last pass, so that it sees everything
        trials, cursor = storage.get_trials(study.study_id, since=cursor)
        seen.update({t.number: t.state for t in trials})
        if writer_done:
            break
        time.sleep(0.005)
    _collect(run)
    assert seen == {n: TrialState.COMPLETE for n in range(n_trials)}


def _create_and_finish(storage: BaseStorage, study_id: int, n: int) -> list[int]:
    numbers = []
    for i in range(n):
        trial = storage.create_trial(study_id, {"i": i, "pid": os.getpid()}, worker=str(os.getpid()))
        storage.report(trial.trial_id, 1, float(i))
        storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=float(i))
        numbers.append(trial.number)
    return numbers


def _claim_until_empty(storage: BaseStorage, study_id: int) -> list[int]:
    claimed = []
    while (trial := storage.claim_waiting_trial(study_id, worker=str(os.getpid()))) is not None:
        claimed.append(trial.number)
        storage.finish_trial(trial.trial_id, TrialState.COMPLETE, value=0.0)
    return claimed


def _claim_each(storage: BaseStorage, study_id: int, trial_ids: list[int]) -> list[int]:
    won = []
    for trial_id in trial_ids:
        trial = storage.claim_trial(trial_id, worker=str(os.getpid()))
        if trial is not None:
            assert trial.worker == str(os.getpid()) and trial.state == TrialState.RUNNING
            storage.finish_trial(trial_id, TrialState.COMPLETE, value=0.0)
            won.append(trial.number)
    return won


def _set_if_absent(storage: BaseStorage, study_id: int, n_keys: int) -> list[tuple[str, bool]]:
    won = []
    for k in range(n_keys):
        for system in (False, True):
            if storage.set_study_attr(study_id, f"hs:key-{k}", os.getpid(), only_if_absent=True, system=system):
                won.append((f"hs:key-{k}", system))
    return won


class _Run(NamedTuple):
    processes: list[Any]
    results: Any  # multiprocessing Queue
    barrier: Any


def _process_main(
    task: Callable[..., Any], storage: BaseStorage, study_id: int, args: tuple, barrier: Any, results: Any
) -> None:
    try:
        barrier.wait(timeout=60)  # start together, so that the processes really overlap
        results.put(task(storage, study_id, *args))
    except BaseException as exc:  # send it back rather than die quietly
        results.put(exc)


def _start(
    task: Callable[..., Any], storage: BaseStorage, study_id: int, args: tuple, n: int, reader: bool = False
) -> _Run:
    """Spawn ``n`` processes running ``task``; with ``reader`` this process joins their start barrier."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(n + reader), ctx.Queue()
    processes = [
        ctx.Process(target=_process_main, args=(task, storage, study_id, args, barrier, results), daemon=True)
        for _ in range(n)
    ]
    for process in processes:
        process.start()
    if reader:
        barrier.wait(timeout=60)
    return _Run(processes, results, barrier)  # the barrier must outlive the processes' start


def _collect(run: _Run, timeout: float = 120.0) -> list[Any]:
    """Each process's result; raises what a process raised, or if one dies or the time runs out."""
    processes, results = run.processes, run.results
    collected: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(collected) < len(processes):
            try:
                collected.append(results.get(timeout=0.2))
            except queue.Empty:
                dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"a storage test process died (exit code {dead[0]})") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"storage test processes still running after {timeout} s") from None
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    for result in collected:
        if isinstance(result, BaseException):
            raise result
    return collected


def _in_processes(task: Callable[..., Any], storage: BaseStorage, study_id: int, args: tuple, n: int) -> list[Any]:
    return _collect(_start(task, storage, study_id, args, n))
