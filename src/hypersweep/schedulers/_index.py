"""Incremental indexes the schedulers keep in a `TrialHistory`: scores per rung, values per step.

Each is updated one changed trial at a time, so a decision costs O(log n) in the number of trials, not O(n).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from hypersweep.multi_objective import pareto_positions
from hypersweep.schedulers.base import Sign, _curve, _score, _value_at
from hypersweep.trial import Trial, TrialState

__all__ = ["ParetoScores", "RungIndex", "SortedScores", "StepIndex"]


class SortedScores:
    """A sorted multiset of floats.

    >>> s = SortedScores()
    >>> for x in (3.0, 1.0, 2.0, 2.0):
    ...     s.add(x)
    >>> len(s), s.count_above(1.5), s.median(), s.median(excluding=3.0)
    (4, 3, 2.0, 2.0)
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[float] = []

    def add(self, x: float) -> None:
        bisect.insort(self._items, x)

    def remove(self, x: float) -> None:
        i = bisect.bisect_left(self._items, x)
        if i < len(self._items) and self._items[i] == x:
            del self._items[i]

    def count_above(self, x: float) -> int:
        """How many items are strictly greater than ``x``."""
        return len(self._items) - bisect.bisect_right(self._items, x)

    def median(self, excluding: float | None = None) -> float:
        """The median of the items, one copy of ``excluding`` left out when given (it must be present)."""
        items = self._items
        n = len(items) - (excluding is not None)
        if n <= 0:
            raise ValueError("median of no values")
        skip = bisect.bisect_left(items, excluding) if excluding is not None else len(items)

        def at(i: int) -> float:  # the i-th item of the multiset without the skipped one
            return items[i + (i >= skip)]

        mid = n // 2
        return at(mid) if n % 2 else (at(mid - 1) + at(mid)) / 2

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[float]:
        return iter(self._items)


class ParetoScores:
    """Score vectors (higher is better in each objective) by trial number, ranked as multi-objective
    successive halving ranks a rung: Pareto front first, then crowding distance (`pareto_positions`).

    >>> s = ParetoScores()
    >>> for number, x in enumerate([(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]):
    ...     s.add(number, x)
    >>> s.ahead(2, (0.0, 0.0)), s.ahead(2, (2.0, 2.0))  # dominated by both; then dominating both
    (2, 0)
    """

    __slots__ = ("_items", "_positions")

    def __init__(self) -> None:
        self._items: dict[int, tuple[float, ...]] = {}
        self._positions: dict[int, int] | None = None

    def add(self, number: int, x: tuple[float, ...]) -> None:
        self._items[number] = x
        self._positions = None

    def remove(self, number: int) -> None:
        if self._items.pop(number, None) is not None:
            self._positions = None

    def positions(self) -> dict[int, int]:
        """number -> how many trials come strictly before it (computed once per change of the set)."""
        if self._positions is None:
            self._positions = _ranked(self._items)
        return self._positions

    def ahead(self, number: int, x: tuple[float, ...]) -> int:
        """How many other trials come strictly before trial ``number`` once its score is ``x``."""
        if self._items.get(number) == x:
            return self.positions()[number]
        return _ranked({**self._items, number: x})[number]

    def __contains__(self, number: object) -> bool:
        return number in self._items

    def __len__(self) -> int:
        return len(self._items)


def _ranked(items: Mapping[int, tuple[float, ...]]) -> dict[int, int]:
    numbers = list(items)
    losses = [[-x for x in items[n]] for n in numbers]
    return dict(zip(numbers, pareto_positions(losses).tolist(), strict=True))


class RungIndex:
    """For each (group, rung): the scores of the trials that reached the rung, and the PAUSED trials waiting
    there. Groups separate Hyperband's brackets (one group, None, for successive halving and ASHA);
    ``rungs_up_to(group, step)`` lists the rungs of a group up to a step.

    A trial's score at a rung is its value at the largest reported step <= rung, signed so that higher is
    better (NaN: -inf); it counts once its last step is >= the rung. A paused trial waits at the largest
    rung <= its last step. With a tuple of signs (several objectives) scores are vectors, read from the
    trials' ``intermediate_values`` and ranked by `ParetoScores`.
    """

    def __init__(
        self,
        rungs_up_to: Callable[[Hashable, int], list[int]],
        sign: Sign,
        group_of: Callable[[Trial], Hashable] = lambda trial: None,
    ) -> None:
        self._rungs_up_to = rungs_up_to
        self._sign = sign
        self._several = isinstance(sign, tuple)
        self._group_of = group_of
        self._entries: dict[int, tuple[Hashable, dict[int, Any]]] = {}  # number -> (group, rung -> score)
        self._scores: dict[tuple[Hashable, int], Any] = {}  # SortedScores, or ParetoScores for several
        self._waiting: dict[int, tuple[Hashable, int, float]] = {}  # paused number -> (group, rung, score)
        self._paused: dict[tuple[Hashable, int], list[tuple[float, int]]] = {}  # sorted (-score, number)

    def scores_at(self, trial: Trial, group: Hashable) -> dict[int, float]:
        """rung -> score of ``trial``, for every rung of ``group`` it reached."""
        history = _curve(trial, self._sign)
        if not history:
            return {}
        rungs = self._rungs_up_to(group, max(history))
        return {rung: _score(_value_at(history, rung), self._sign) for rung in rungs}

    def update(self, old: Trial | None, new: Trial) -> None:
        group = self._group_of(new)
        entries = self.scores_at(new, group)
        previous = self._entries.get(new.number)
        if previous is None or previous != (group, entries):
            if previous is not None:
                old_group, old_entries = previous
                for rung, score in old_entries.items():
                    scores = self._scores[(old_group, rung)]
                    scores.remove(new.number) if self._several else scores.remove(score)
            for rung, score in entries.items():
                if self._several:
                    self._scores.setdefault((group, rung), ParetoScores()).add(new.number, score)
                else:
                    self._scores.setdefault((group, rung), SortedScores()).add(score)
            self._entries[new.number] = (group, entries)
        self._update_waiting(new, group, entries)

    def _update_waiting(self, trial: Trial, group: Hashable, entries: Mapping[int, float]) -> None:
        waiting = None
        if trial.state is TrialState.PAUSED and entries:
            rung = max(entries)
            waiting = (group, rung, entries[rung])
        before = self._waiting.get(trial.number)
        if before == waiting:
            return
        if before is not None:
            queue = self._paused[before[:2]]
            entry = (self._queue_key(before[2]), trial.number)
            i = bisect.bisect_left(queue, entry)
            if i < len(queue) and queue[i] == entry:
                del queue[i]
            del self._waiting[trial.number]
        if waiting is not None:
            bisect.insort(self._paused.setdefault(waiting[:2], []), (self._queue_key(waiting[2]), trial.number))
            self._waiting[trial.number] = waiting

    def _queue_key(self, score: Any) -> float:
        """Where a paused trial sorts in its rung's queue: best score first; by number only for several
        objectives (`waiting` orders those by the rung's ranking)."""
        return 0.0 if self._several else -score

    def in_top(
        self, group: Hashable, rung: int, number: int, score: float, reduction_factor: int, at_least: int = 1
    ) -> bool:
        """Whether ``score`` (trial ``number``'s score at ``rung``, replacing any it has there) is in the top
        ``max(at_least, n // reduction_factor)`` of the n trials at that rung; ties are in."""
        scores = self._scores.get((group, rung))
        if self._several:
            size = (len(scores) if scores is not None else 0) + (scores is None or number not in scores)
            ahead = scores.ahead(number, score) if scores is not None else 0
            return ahead < max(at_least, size // reduction_factor)
        own = self._entries.get(number)
        own_score = own[1].get(rung) if own is not None and own[0] == group else None
        size = (len(scores) if scores is not None else 0) + (own_score is None)
        above = scores.count_above(score) if scores is not None else 0
        if own_score is not None and own_score > score:
            above -= 1
        return above < max(at_least, size // reduction_factor)

    def waiting(self, group: Hashable, rung: int) -> Iterator[tuple[float, int]]:
        """(score, number) of the paused trials waiting at ``rung`` of ``group``, best first (lazily: stop
        when you have enough)."""
        queue = self._paused.get((group, rung), ())
        if self._several and queue:
            positions = self._scores[(group, rung)].positions()
            for _, number in sorted(queue, key=lambda entry: (positions[entry[1]], entry[1])):
                yield self._waiting[number][2], number
            return
        for negative, number in queue:
            yield -negative, number

    def waiting_rungs(self) -> list[tuple[Hashable, int]]:
        """(group, rung) pairs where paused trials wait, highest rung first."""
        return sorted((key for key, queue in self._paused.items() if queue), key=lambda k: -k[1])


class StepIndex:
    """For each step: the scores (signed values, higher is better; NaN left out) reported there."""

    def __init__(self, sign: int) -> None:
        self._sign = sign
        self._entries: dict[int, dict[int, float]] = {}  # number -> step -> score
        self._scores: dict[int, SortedScores] = {}

    def update(self, old: Trial | None, new: Trial) -> None:
        entries = {
            step: self._sign * value for step, value in new.intermediate.items() if not math.isnan(value)
        }
        previous = self._entries.get(new.number, {})
        if previous == entries:
            return
        for step, score in previous.items():
            if entries.get(step) != score:
                self._scores[step].remove(score)
        for step, score in entries.items():
            if previous.get(step) != score:
                self._scores.setdefault(step, SortedScores()).add(score)
        self._entries[new.number] = entries

    def others(self, step: int, number: int) -> tuple[int, float | None]:
        """How many other trials reported at ``step``, and the median of their scores (None if none)."""
        scores = self._scores.get(step)
        if scores is None:
            return 0, None
        own = self._entries.get(number, {}).get(step)
        count = len(scores) - (own is not None)
        return count, (scores.median(excluding=own) if count > 0 else None)
