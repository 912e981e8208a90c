"""The retention policy and its tracker: unit cases, then property tests against a brute-force model.

The model recomputes everything from scratch after each update; the tracker must delete exactly what it does.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep._validation import InvalidParameterError
from hypersweep.artifacts import Retention, RetentionTracker
from hypersweep.direction import Direction
from hypersweep.trial import Artifact, Trial, TrialState

W, R, P = TrialState.WAITING, TrialState.RUNNING, TrialState.PAUSED
C, X, F = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED
_serial = itertools.count()


def ckpt(step: int | None, name: str | None = None, kind: str = "checkpoint") -> Artifact:
    name = name or f"checkpoint-{step}"
    return Artifact(name, f"k/{name}/{next(_serial)}", kind, step, 1, "sha256:0", "torch")


def trial(number: int, state: TrialState, *artifacts: Artifact, value: float | None = None) -> Trial:
    return Trial(number, {}, state, value=value, artifacts={a.name: a for a in artifacts})


def with_(t: Trial, *artifacts: Artifact, **changes: object) -> Trial:
    return t.evolve(artifacts={**t.artifacts, **{a.name: a for a in artifacts}}, **changes)


# --- the policy -----------------------------------------------------------------------------------------------


def test_defaults_keep_the_latest_checkpoint_of_each_trial() -> None:
    assert Retention() == Retention(keep_last=1, keep_best=None, delete_pruned=False)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"keep_last": 0}, "keep_last"), ({"keep_last": -1}, "keep_last"), ({"keep_last": 1.5}, "keep_last"),
        ({"keep_last": True}, "keep_last"), ({"keep_best": 0}, "keep_best"), ({"keep_best": "3"}, "keep_best"),
        ({"delete_pruned": "yes"}, "delete_pruned"), ({"delete_pruned": 1}, "delete_pruned"),
    ],
)
def test_bad_policies_are_refused_naming_the_parameter(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidParameterError, match=rf"^{name} must be .*, got {name}="):
        Retention(**kwargs)  # type: ignore[arg-type]


def test_numpy_ints_are_accepted_as_ints() -> None:
    policy = Retention(keep_last=np.int64(2), keep_best=np.int32(3))  # type: ignore[arg-type]
    assert type(policy.keep_last) is int and type(policy.keep_best) is int and policy.keep_best == 3


def test_the_tracker_checks_its_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="policy must be a Retention"):
        RetentionTracker({"keep_last": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="direction must be"):
        RetentionTracker(Retention(), "upwards")


# --- keep_last ------------------------------------------------------------------------------------------------


def test_keep_last_deletes_older_checkpoints_as_new_ones_arrive() -> None:
    tracker = RetentionTracker(Retention(keep_last=2))
    t = trial(0, R, ckpt(1))
    assert tracker.update(t) == []
    t = with_(t, ckpt(2))
    assert tracker.update(t) == []
    t = with_(t, ckpt(3))
    assert tracker.update(t) == [(0, ["checkpoint-1"])]
    assert tracker.update(t) == []  # the same version again: nothing new to delete
    t = with_(t, ckpt(5), ckpt(4))
    assert tracker.update(t) == [(0, ["checkpoint-2", "checkpoint-3"])]  # oldest first
    applied = t.evolve(artifacts={n: a for n, a in t.artifacts.items() if n in ("checkpoint-4", "checkpoint-5")})
    assert tracker.update(applied) == []


def test_checkpoints_are_ordered_by_step_then_name_as_trial_checkpoint_is() -> None:
    tracker = RetentionTracker(Retention(keep_last=1))
    t = trial(0, R, ckpt(None, "a"), ckpt(0, "b"), ckpt(0, "c"))
    assert tracker.update(t) == [(0, ["a", "b"])]
    assert t.checkpoint.name == "c"  # type: ignore[union-attr]


def test_keep_last_none_keeps_everything_and_user_artifacts_are_never_deleted() -> None:
    tracker = RetentionTracker(Retention(keep_last=None))
    t = trial(0, R, *(ckpt(s) for s in range(10)))
    assert tracker.update(t) == []
    tracker = RetentionTracker(Retention(keep_last=1, keep_best=1, delete_pruned=True))
    files = [ckpt(s, f"plot-{s}", kind="artifact") for s in range(3)]
    t = trial(0, R, *files, ckpt(1), ckpt(2))
    assert tracker.update(t) == [(0, ["checkpoint-1"])]
    assert tracker.update(with_(t, state=X)) == [(0, ["checkpoint-2"])]
    assert tracker.update(trial(1, C, *files, value=1.0)) == []


def test_unfinished_trials_keep_keep_last_checkpoints_whatever_the_rest_of_the_policy() -> None:
    tracker = RetentionTracker(Retention(keep_last=2, keep_best=1, delete_pruned=True))
    assert tracker.update(trial(9, C, ckpt(1), value=0.0)) == []  # the best there can be
    for number, state in enumerate((W, R, P)):
        t = trial(number, state, ckpt(1), ckpt(2), ckpt(3))
        assert tracker.update(t) == [(number, ["checkpoint-1"])]
        assert tracker.update(t) == []


# --- delete_pruned --------------------------------------------------------------------------------------------


def test_delete_pruned_deletes_pruned_and_failed_trials_checkpoints_when_they_finish() -> None:
    tracker = RetentionTracker(Retention(keep_last=None, delete_pruned=True))
    for number, state in enumerate((X, F)):
        t = trial(number, R, ckpt(1), ckpt(2))
        assert tracker.update(t) == []
        assert tracker.update(with_(t, state=P)) == []
        assert tracker.update(with_(t, state=state)) == [(number, ["checkpoint-1", "checkpoint-2"])]
        assert tracker.update(with_(t, ckpt(3), state=state)) == [(number, ["checkpoint-3"])]  # late arrivals too
    assert tracker.update(trial(5, C, ckpt(1), ckpt(2), value=3.0)) == []


def test_without_delete_pruned_pruned_trials_keep_their_latest() -> None:
    tracker = RetentionTracker(Retention(keep_last=1))
    assert tracker.update(trial(0, X, ckpt(1), ckpt(2))) == [(0, ["checkpoint-1"])]


# --- keep_best ------------------------------------------------------------------------------------------------


def test_keep_best_keeps_the_k_best_complete_trials() -> None:
    tracker = RetentionTracker(Retention(keep_last=1, keep_best=2), "minimize")
    first = trial(0, C, ckpt(1), value=5.0)
    assert tracker.update(first) == []
    assert tracker.update(trial(1, C, ckpt(1), value=3.0)) == []
    assert tracker.best == [1, 0]
    assert tracker.update(trial(2, C, ckpt(1), value=4.0)) == [(0, ["checkpoint-1"])]  # 0 drops out
    assert tracker.update(trial(3, C, ckpt(1), value=9.0)) == [(3, ["checkpoint-1"])]  # never gets in
    assert tracker.update(trial(4, X, ckpt(1), value=0.0)) == [(4, ["checkpoint-1"])]  # pruned: out
    assert tracker.update(trial(5, F, ckpt(1))) == [(5, ["checkpoint-1"])]
    assert tracker.best == [1, 2]
    assert tracker.update(first) == []  # its version again (storage has not deleted yet): nothing more


def _several(number: int, values: tuple[float, ...], violation: float = 0.0) -> Trial:
    metadata = {"constraints": [violation]} if violation else {}
    return Trial(number, {}, C, values=values, metadata=metadata, artifacts={"checkpoint-1": ckpt(1)})


def test_keep_best_with_several_objectives_keeps_what_few_trials_dominate() -> None:
    front = RetentionTracker(Retention(keep_best=1), ["minimize", "maximize"])
    assert front.update(_several(0, (1.0, 1.0))) == []
    assert front.update(_several(1, (2.0, 2.0))) == []  # a trade-off with 0: both on the front
    assert front.update(_several(2, (3.0, 1.5))) == [(2, ["checkpoint-1"])]  # dominated by 1: never kept
    assert front.update(_several(3, (0.5, 3.0))) == [(0, ["checkpoint-1"]), (1, ["checkpoint-1"])]
    assert front.best == [3]
    assert front.update(_several(4, (0.0, 9.0), violation=1.0)) == [(4, ["checkpoint-1"])]  # infeasible
    two = RetentionTracker(Retention(keep_best=2), ["minimize", "minimize"])
    assert [two.update(_several(i, v)) for i, v in enumerate([(3.0, 3.0), (2.0, 2.0), (1.0, 1.0)])] == [
        [], [], [(0, ["checkpoint-1"])]]  # 0 is dominated twice: out; 1 once: kept
    assert two.best == [2, 1]


def test_a_study_of_several_objectives_keeps_the_front_checkpoints(tmp_path) -> None:
    import hypersweep as hs

    study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], sampler="random", seed=0,
                            storage=f"sqlite:///{tmp_path}/s.db", artifacts=str(tmp_path / "art"),
                            retention=Retention(keep_best=1))

    def objective(config, trial):
        trial.report((config["x"], 1.0), 1)
        trial.save_checkpoint({"x": config["x"]}, step=1)
        return config["x"], (config["x"] - 0.5) ** 2

    study.optimize(objective, n_trials=12, progress=False)
    kept = {t.number for t in study.trials if t.checkpoint is not None}
    assert kept == {t.number for t in study.best_trials} and len(kept) < 12
    assert all(study.trial(n).load_checkpoint()["x"] == study.trial(n).config["x"] for n in kept)


def test_keep_best_maximizes_and_breaks_ties_by_trial_number() -> None:
    tracker = RetentionTracker(Retention(keep_best=1), "maximize")
    assert tracker.update(trial(3, C, ckpt(1), value=0.9)) == []
    assert tracker.update(trial(1, C, ckpt(1), value=0.9)) == [(3, ["checkpoint-1"])]  # earlier wins the tie
    assert tracker.update(trial(2, C, ckpt(1), value=0.9)) == [(2, ["checkpoint-1"])]
    assert tracker.update(trial(4, C, ckpt(1), value=0.5)) == [(4, ["checkpoint-1"])]
    assert tracker.best == [1]


def test_trials_without_value_rank_last() -> None:
    tracker = RetentionTracker(Retention(keep_best=1), Direction.MINIMIZE)
    assert tracker.update(trial(0, C, ckpt(1), value=math.nan)) == []
    assert tracker.update(trial(1, C, ckpt(1), value=None)) == [(1, ["checkpoint-1"])]  # tie at worst: 0 wins
    assert tracker.update(trial(2, C, ckpt(1), value=math.inf)) == [(2, ["checkpoint-1"])]  # as bad as NaN
    assert tracker.update(trial(3, C, ckpt(1), value=1e300)) == [(0, ["checkpoint-1"])]


def test_trials_without_checkpoints_take_no_place_among_the_best() -> None:
    tracker = RetentionTracker(Retention(keep_best=1))
    assert tracker.update(trial(0, C, value=0.0)) == []  # best value, nothing saved
    assert tracker.update(trial(1, C, ckpt(1), value=1.0)) == []  # the best trial that holds checkpoints
    assert tracker.best == [1]


def test_a_checkpoint_saved_after_finishing_follows_the_trials_place() -> None:
    tracker = RetentionTracker(Retention(keep_last=1, keep_best=1))
    best = trial(0, C, ckpt(1), value=0.0)
    worse = trial(1, C, ckpt(1), value=1.0)
    assert tracker.update(best) == []
    assert tracker.update(worse) == [(1, ["checkpoint-1"])]
    assert tracker.update(with_(worse, ckpt(2))) == [(1, ["checkpoint-2"])]
    assert tracker.update(with_(best, ckpt(2))) == [(0, ["checkpoint-1"])]  # keep_last still applies


def test_a_best_trial_whose_checkpoints_vanish_frees_its_place() -> None:
    tracker = RetentionTracker(Retention(keep_best=1))
    best = trial(0, C, ckpt(1), value=0.0)
    assert tracker.update(best) == []
    assert tracker.update(best.evolve(artifacts={})) == []  # removed by hand
    assert tracker.best == []
    assert tracker.update(trial(1, C, ckpt(1), value=1.0)) == []
    assert tracker.best == [1]


def test_a_place_freed_by_the_worst_best_trial_is_skipped_when_the_group_is_full_again() -> None:
    tracker = RetentionTracker(Retention(keep_best=2))
    a, b = trial(0, C, ckpt(1), value=1.0), trial(1, C, ckpt(1), value=2.0)
    assert tracker.update(a) == [] and tracker.update(b) == []
    assert tracker.update(b.evolve(artifacts={})) == []  # the worst of the two leaves: a stale heap entry
    assert tracker.update(trial(2, C, ckpt(1), value=0.5)) == []
    assert tracker.update(trial(3, C, ckpt(1), value=0.1)) == [(0, ["checkpoint-1"])]
    assert tracker.best == [3, 2]


def test_each_update_costs_the_same_at_any_study_size() -> None:
    tracker = RetentionTracker(Retention(keep_last=2, keep_best=10))

    def run(numbers: range) -> float:
        start = time.perf_counter()
        for number in numbers:
            t = trial(number, R)
            for step in range(4):
                t = with_(t, ckpt(step))
                tracker.update(t)
            tracker.update(with_(t, state=C, value=(number * 7919) % 1000 / 1000))
        return (time.perf_counter() - start) / len(numbers)

    small = run(range(1_000))
    large = run(range(1_000, 11_000))  # a 10,000-trial study: 50,000 calls
    assert large < 3 * small + 1e-5
    assert len(tracker.best) == 10 and len(tracker._heap) <= 2 * 10 + 16 and len(tracker._books) == 11_000


# --- properties -------------------------------------------------------------------------------------------------


@dataclass
class Model:
    """The policy, recomputed from scratch over every trial after each update (O(trials) per call)."""

    policy: Retention
    direction: Direction
    trials: dict[int, Trial] = field(default_factory=dict)
    gone: set[tuple[int, Artifact]] = field(default_factory=set)

    def alive(self, t: Trial) -> list[Artifact]:
        return sorted(
            (a for a in t.artifacts.values() if a.kind == "checkpoint" and (t.number, a) not in self.gone),
            key=lambda a: (-1 if a.step is None else a.step, a.name),
        )

    def update(self, t: Trial) -> None:
        self.trials[t.number] = t
        keep_last, keep_best = self.policy.keep_last, self.policy.keep_best
        for u in self.trials.values():
            alive = self.alive(u)
            if keep_last is not None:
                self.gone.update((u.number, a) for a in alive[: max(0, len(alive) - keep_last)])
            if u.state in (X, F) and (self.policy.delete_pruned or keep_best is not None):
                self.gone.update((u.number, a) for a in alive)
        if keep_best is not None:
            holders = [u for u in self.trials.values() if u.state is C and self.alive(u)]

            def score(u: Trial) -> float:
                return -math.inf if u.value is None or math.isnan(u.value) else self.direction.sign * u.value

            holders.sort(key=lambda u: (-score(u), u.number))
            for u in holders[keep_best:]:
                self.gone.update((u.number, a) for a in self.alive(u))


VALUES = st.sampled_from([0.0, 1.0, 1.0, 2.0, -3.5, None, math.nan, math.inf])
STEPS = st.one_of(st.none(), st.integers(0, 6))
NUMBERS = st.integers(0, 4)
CHECKPOINT = st.tuples(st.just("checkpoint"), NUMBERS, STEPS)
STATE = st.tuples(st.just("state"), NUMBERS, st.sampled_from([W, R, P, C, C, C, X, F]), VALUES)
OPERATION = st.one_of(
    CHECKPOINT, CHECKPOINT, CHECKPOINT, STATE, STATE,
    st.tuples(st.just("file"), NUMBERS),
    st.tuples(st.just("repeat"), NUMBERS),
    st.tuples(st.just("apply"), NUMBERS),  # storage removes what was deleted
    st.tuples(st.just("drop"), NUMBERS, st.integers(0, 10)),  # a checkpoint removed by hand
)
POLICIES = st.builds(
    Retention,
    keep_last=st.sampled_from([None, 1, 2, 3]),
    keep_best=st.sampled_from([None, 1, 2, 3]),
    delete_pruned=st.booleans(),
)


class Harness:
    """Feeds the same trial versions to the tracker and to the model; checks every deletion on the way."""

    def __init__(self, policy: Retention, direction: Direction) -> None:
        self.tracker = RetentionTracker(policy, direction)
        self.model = Model(policy, direction)
        self.trials: dict[int, Trial] = {}
        self.deleted: set[tuple[int, Artifact]] = set()
        self.policy = policy

    def send(self, t: Trial) -> None:
        self.trials[t.number] = t
        for number, names in self.tracker.update(t):
            latest = self.trials[number]
            assert names and len(set(names)) == len(names)
            for name in names:
                artifact = latest.artifacts[name]
                assert artifact.kind == "checkpoint", "user artifacts are never deleted"
                assert (number, artifact) not in self.deleted, "deleted twice"
                self.deleted.add((number, artifact))
        self.model.update(t)

    def remaining(self, t: Trial) -> set[str]:
        return {n for n, a in t.artifacts.items() if a.kind == "checkpoint" and (t.number, a) not in self.deleted}

    def check(self) -> None:
        for t in self.trials.values():
            expected = {a.name for a in self.model.alive(t)}
            assert self.remaining(t) == expected, (t.number, t.state)
            if self.policy.keep_last is not None:
                assert len(expected) <= self.policy.keep_last
        if self.policy.keep_best is not None:
            holders = [t for t in self.trials.values() if t.state is C and self.remaining(t)]
            assert len(holders) <= self.policy.keep_best

    def run(self, operation: tuple) -> None:
        kind, number = operation[0], operation[1]
        t = self.trials.get(number, trial(number, R))
        if kind == "checkpoint":
            t = with_(t, ckpt(operation[2]))
        elif kind == "file":
            t = with_(t, ckpt(None, f"file-{next(_serial)}", kind="artifact"))
        elif kind == "state":
            if t.state.is_finished:  # finished is final
                return
            _, _, state, value = operation
            t = t.evolve(state=state, value=value if state is C else None)
        elif kind == "apply":
            t = t.evolve(artifacts={n: a for n, a in t.artifacts.items() if (number, a) not in self.deleted})
        elif kind == "drop":
            checkpoints = sorted(n for n, a in t.artifacts.items() if a.kind == "checkpoint")
            if checkpoints:
                dropped = checkpoints[operation[2] % len(checkpoints)]
                t = t.evolve(artifacts={n: a for n, a in t.artifacts.items() if n != dropped})
        self.send(t)
        self.check()


@settings(max_examples=400, deadline=None)
@given(POLICIES, st.sampled_from(list(Direction)), st.lists(OPERATION, min_size=20, max_size=100))
def test_the_tracker_deletes_exactly_what_the_brute_force_model_does(
    policy: Retention, direction: Direction, operations: list[tuple]
) -> None:
    harness = Harness(policy, direction)
    for operation in operations:
        harness.run(operation)


@settings(max_examples=300, deadline=None)
@given(
    POLICIES, st.sampled_from(list(Direction)),
    st.lists(
        st.tuples(
            NUMBERS, st.sampled_from(["checkpoint"] * 3 + ["finish", "repeat", "apply"]), st.sampled_from([C, C, X, F]),
            VALUES,
        ),
        min_size=20, max_size=100,
    ),
)
def test_what_remains_is_what_the_policy_says(
    policy: Retention, direction: Direction, operations: list[tuple]
) -> None:
    """Checkpoints arrive in step order and nothing is removed by hand: the end state has a closed form."""
    harness = Harness(policy, direction)
    saved: dict[int, list[str]] = {}  # every checkpoint each trial saved, oldest first
    for number, kind, state, value in operations:
        t = harness.trials.get(number, trial(number, R))
        if kind == "checkpoint":
            saved.setdefault(number, []).append(f"checkpoint-{len(saved.get(number, []))}")
            harness.run(("checkpoint", number, len(saved[number]) - 1))
        elif kind == "finish" and not t.state.is_finished:
            harness.run(("state", number, state, value))
        elif kind in ("repeat", "apply"):
            harness.run((kind, number))

    def newest(number: int) -> set[str]:
        names = saved.get(number, [])
        return set(names if policy.keep_last is None else names[-policy.keep_last :])

    def rank(t: Trial) -> tuple[float, int]:
        bad = t.value is None or math.isnan(t.value)
        return (math.inf if bad else -direction.sign * t.value, t.number)  # type: ignore[operator]

    complete = sorted((t for t in harness.trials.values() if t.state is C and saved.get(t.number)), key=rank)
    best = {t.number for t in complete[: policy.keep_best]} if policy.keep_best is not None else None
    for t in harness.trials.values():
        if t.state in (X, F) and (policy.delete_pruned or policy.keep_best is not None):
            expected: set[str] = set()
        elif t.state is C and best is not None and t.number not in best:
            expected = set()
        else:
            expected = newest(t.number)
        assert harness.remaining(t) == expected, (t.number, t.state, t.value)
