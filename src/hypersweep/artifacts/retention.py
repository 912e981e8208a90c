"""Which checkpoints a study keeps: the `Retention` policy and the `RetentionTracker` that applies it.

The tracker is bookkeeping only (no I/O): it says which artifacts to delete; the study deletes them.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hypersweep._validation import check_int, invalid
from hypersweep.direction import Direction
from hypersweep.trial import Artifact, Trial, TrialState

__all__ = ["Retention", "RetentionTracker"]


@dataclass(frozen=True)
class Retention:
    """How many checkpoints a study keeps.

    - ``keep_last``: checkpoints kept per trial, its newest steps; older ones are deleted as new ones
      arrive. None keeps them all.
    - ``keep_best``: when set, a finished trial keeps its checkpoints only while it is among the
      ``keep_best`` best COMPLETE trials (by value, in the study's direction; ties go to the earlier trial)
      that hold checkpoints, so every other finished trial (a worse complete one, a pruned or failed one)
      loses them. A complete trial that drops out of the best when a better one completes loses them then.
      With several objectives, a complete trial keeps them while fewer than ``keep_best`` such trials
      dominate it (``keep_best=1`` keeps the Pareto front).
    - ``delete_pruned``: PRUNED and FAILED trials lose their checkpoints when they finish.

    Never deleted: the checkpoints of WAITING, RUNNING and PAUSED trials beyond ``keep_last`` (they may
    resume from them), and artifacts of kind "artifact" (the user's own files, `trial.save_artifact`).

    >>> Retention(keep_last=2, keep_best=3)
    Retention(keep_last=2, keep_best=3, delete_pruned=False)
    >>> Retention(keep_last=0)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    hypersweep._validation.InvalidParameterError: keep_last must be an int >= 1 or None, got keep_last=0; ...
    """

    keep_last: int | None = 1
    keep_best: int | None = None
    delete_pruned: bool = False

    def __post_init__(self) -> None:
        keep_last = check_int(
            "keep_last", self.keep_last, minimum=1, allow_none=True,
            fix="a trial keeps at least its latest checkpoint to resume from; keep_last=None keeps them all",
        )
        keep_best = check_int(
            "keep_best", self.keep_best, minimum=1, allow_none=True,
            fix="keep_best=None keeps the checkpoints of every complete trial",
        )
        if not isinstance(self.delete_pruned, bool):
            raise invalid("delete_pruned", self.delete_pruned, "True or False")
        object.__setattr__(self, "keep_last", keep_last)
        object.__setattr__(self, "keep_best", keep_best)


@dataclass
class _Book:
    """What the tracker knows of one trial: its live checkpoints (oldest first) and those it deleted that
    the trial's latest version still lists (storage has not applied the deletion yet)."""

    alive: list[Artifact] = field(default_factory=list)
    deleted: set[Artifact] = field(default_factory=set)


def _age(artifact: Artifact) -> tuple[int, str]:
    """Order of checkpoints, oldest first: by step, then name (as `Trial.checkpoint` picks the latest)."""
    return (artifact.step if artifact.step is not None else -1, artifact.name)


class RetentionTracker:
    """Applies a `Retention` policy to a study's trials, incrementally.

    Call `update` with the latest version of a trial each time it changes (any trial, in any order, the same
    version again is fine); it returns what to delete now, as (trial number, artifact names), possibly for
    another trial (one that just dropped out of the best). It never returns the same artifact twice, as long
    as no older version of a trial follows a newer one. Each call costs O(log keep_best) plus the trial's
    own artifacts, whatever the number of trials: the best complete trials holding checkpoints are a heap.

    >>> from hypersweep.trial import Artifact, Trial, TrialState
    >>> def checkpoint(number, step):
    ...     name = f"checkpoint-{step}"
    ...     return Artifact(name, f"{number}/{name}", "checkpoint", step, 1, "sha256:0", "torch")
    >>> tracker = RetentionTracker(Retention(keep_last=2, keep_best=1), "minimize")
    >>> t0 = Trial(0, {}, TrialState.RUNNING, artifacts={f"checkpoint-{s}": checkpoint(0, s) for s in (1, 2, 3)})
    >>> tracker.update(t0)
    [(0, ['checkpoint-1'])]
    >>> tracker.update(t0.evolve(state=TrialState.COMPLETE, value=0.5))  # the best so far: keeps 2 and 3
    []
    >>> t1 = Trial(1, {}, TrialState.COMPLETE, value=0.2, artifacts={"checkpoint-1": checkpoint(1, 1)})
    >>> tracker.update(t1)  # better: trial 0 drops out of the best
    [(0, ['checkpoint-2', 'checkpoint-3'])]
    """

    def __init__(self, policy: Retention, direction: Any = Direction.MINIMIZE) -> None:
        if not isinstance(policy, Retention):
            raise invalid("policy", policy, "a Retention", "e.g. Retention(keep_last=1, keep_best=3)")
        self.policy = policy
        several = list(direction) if isinstance(direction, (list, tuple)) else [direction]
        self.directions = [Direction.of(d) for d in several]
        self.direction = self.directions[0]
        #: several objectives: trial number -> (losses, violation) of the complete trials with checkpoints, and
        #: for those kept, how many of them dominate it
        self._points: dict[int, tuple[np.ndarray, float]] = {}
        self._dominated_by: dict[int, int] = {}
        self._books: dict[int, _Book] = {}
        #: trial number -> rank (score, -number), higher is better, for the trials in the keep_best group
        self._kept: dict[int, tuple[float, int]] = {}
        #: min-heap of ranks (the worst kept trial first); entries no longer in _kept are skipped lazily
        self._heap: list[tuple[float, int]] = []

    @property
    def best(self) -> list[int]:
        """Numbers of the complete trials whose checkpoints ``keep_best`` keeps, best first ([] without it;
        with several objectives, by how few trials dominate them, then number).

        >>> RetentionTracker(Retention(keep_best=2)).best
        []
        """
        if len(self.directions) > 1:
            return sorted(self._dominated_by, key=lambda n: (self._dominated_by[n], n))
        return [-rank[1] for rank in sorted(self._kept.values(), reverse=True)]

    def update(self, trial: Trial) -> list[tuple[int, list[str]]]:
        """The deletions that ``trial``'s latest version calls for: [(trial number, artifact names)],
        oldest checkpoint first; [] when nothing is to be deleted."""
        if not trial.artifacts and trial.number not in self._books:
            return []  # the common case: a trial that saved nothing, and never had anything to delete
        policy = self.policy
        book = self._books.setdefault(trial.number, _Book())
        current = [a for a in trial.artifacts.values() if a.is_checkpoint]
        book.deleted.intersection_update(current)  # deletions storage applied already need no memory
        alive = sorted((a for a in current if a not in book.deleted), key=_age)
        doomed: list[Artifact] = []
        if policy.keep_last is not None and len(alive) > policy.keep_last:
            doomed, alive = alive[: -policy.keep_last], alive[-policy.keep_last :]
        state = trial.state
        if state.is_finished and state is not TrialState.COMPLETE and (
            policy.delete_pruned or policy.keep_best is not None
        ):
            doomed, alive = doomed + alive, []
        book.alive = alive
        deletions = {trial.number: self._delete(book, doomed)} if doomed else {}
        if policy.keep_best is not None and len(self.directions) > 1:
            if state is TrialState.COMPLETE and alive and trial.number not in self._points:
                for loser in self._enter_several(trial):
                    lost = self._books[loser]
                    deletions.setdefault(loser, []).extend(self._delete(lost, lost.alive))
                    lost.alive = []
        elif policy.keep_best is not None:
            rank = self._rank(trial) if state is TrialState.COMPLETE and alive else None
            if trial.number in self._kept and self._kept[trial.number] != rank:
                del self._kept[trial.number]  # lost its checkpoints (or its value changed: it enters again)
            if rank is not None and trial.number not in self._kept:
                loser = self._enter(trial.number, rank)
                if loser is not None:
                    lost = self._books[loser]
                    deletions.setdefault(loser, []).extend(self._delete(lost, lost.alive))
                    lost.alive = []
        if trial.is_finished and not book.alive and not book.deleted and trial.number not in self._kept \
                and trial.number not in self._dominated_by:
            del self._books[trial.number]  # nothing left to track: forget it (memory stays bounded)
        return [(number, names) for number, names in deletions.items() if names]

    def _rank(self, trial: Trial) -> tuple[float, int]:
        value = trial.value
        score = -math.inf if value is None else self.direction.score(value)
        return (score, -trial.number)

    def _enter_several(self, trial: Trial) -> list[int]:
        """Several objectives: a complete trial keeps its checkpoints while fewer than ``keep_best`` complete
        trials with checkpoints dominate it (feasible before infeasible, then Pareto dominance), which only
        ever grows, so a checkpoint deleted is never wanted back. The trials that lose theirs now."""
        values = trial.values or ()
        losses = -np.array([d.score(v) for d, v in zip(self.directions, values, strict=False)], dtype=float)
        point = (losses, trial.violation)
        limit = self.policy.keep_best
        beaten, losers = 0, []
        for number, other in self._points.items():
            if _dominates(other, point):
                beaten += 1
            elif number in self._dominated_by and _dominates(point, other):
                self._dominated_by[number] += 1
                if self._dominated_by[number] >= limit:  # type: ignore[operator]
                    del self._dominated_by[number]
                    losers.append(number)
        self._points[trial.number] = point
        if beaten >= limit:  # type: ignore[operator]
            losers.append(trial.number)
        else:
            self._dominated_by[trial.number] = beaten
        return losers

    @staticmethod
    def _delete(book: _Book, artifacts: list[Artifact]) -> list[str]:
        book.deleted.update(artifacts)
        return [a.name for a in artifacts]

    def _enter(self, number: int, rank: tuple[float, int]) -> int | None:
        """Add a complete trial with checkpoints to the keep_best group; the number of the trial that loses
        its place (the worst kept one, or this one), or None while the group is not full."""
        kept, heap = self._kept, self._heap
        if len(kept) < self.policy.keep_best:  # type: ignore[operator]
            kept[number] = rank
            self._push(rank)
            return None
        while kept.get(-heap[0][1]) != heap[0]:  # drop entries of trials that left the group
            heapq.heappop(heap)
        worst = heap[0]
        if rank < worst:
            return number
        heapq.heapreplace(heap, rank)
        del kept[-worst[1]]
        kept[number] = rank
        return -worst[1]

    def _push(self, rank: tuple[float, int]) -> None:
        heapq.heappush(self._heap, rank)
        if len(self._heap) > 2 * len(self._kept) + 16:  # many stale entries: rebuild from the group
            self._heap = list(self._kept.values())
            heapq.heapify(self._heap)


def _dominates(a: tuple[np.ndarray, float], b: tuple[np.ndarray, float]) -> bool:
    """Constrained domination of (losses, violation) pairs: feasible beats infeasible, less violation beats
    more, and between feasible ones Pareto dominance."""
    (la, va), (lb, vb) = a, b
    if va > 0 or vb > 0:
        return va < vb
    return bool(np.all(la <= lb) and np.any(la < lb))
