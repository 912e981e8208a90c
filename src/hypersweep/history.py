"""`TrialHistory`: a study's trials as one process knows them, updated one changed trial at a time.

Schedulers and samplers read it instead of a copied list: lookups are O(1), and a scheduler can keep derived
indexes in it (scores per rung, values per step) that are updated as trials change, so that judging a report
costs the same at trial 10 and at trial 100,000.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar

from hypersweep.trial import Trial, TrialState

__all__ = ["TrialHistory", "TrialIndex", "as_history"]


class TrialIndex(Protocol):
    """Something derived from a history's trials and kept up to date as they change."""

    def update(self, old: Trial | None, new: Trial) -> None:
        """``new`` replaces ``old`` (None when the trial is new to the history)."""


_I = TypeVar("_I", bound=TrialIndex)


class TrialHistory:
    """The trials of one study by number, with O(1) access to the running, paused and finished ones.

    Iterating gives every trial in the order this history first saw them. `put` replaces a trial by its
    newer version and updates every index registered with `index`.

    >>> from hypersweep.trial import Trial, TrialState
    >>> h = TrialHistory([Trial(0, {"x": 1}, TrialState.RUNNING)])
    >>> h.put(Trial(0, {"x": 1}, TrialState.COMPLETE, value=0.5))
    >>> len(h), h[0].state, [t.number for t in h.finished], h.running
    (1, <TrialState.COMPLETE: 'complete'>, [0], [])
    """

    def __init__(self, trials: Iterable[Trial] = ()) -> None:
        self._by_number: dict[int, Trial] = {}
        self._numbers: dict[int, int] = {}  # trial_id -> number
        self._finished: list[Trial] = []  # finished trials, in the order they finished here (terminal: no removal)
        self._finished_at: dict[int, int] = {}  # number -> position in _finished
        self._running: dict[int, None] = {}
        self._paused: dict[int, None] = {}
        self._indexes: dict[Hashable, TrialIndex] = {}
        for trial in trials:
            self.put(trial)

    # --- writing ---------------------------------------------------------------------------------------
    def put(self, trial: Trial) -> None:
        """Add ``trial``, or replace the older version of the trial with its number."""
        old = self._by_number.get(trial.number)
        if old is trial:
            return
        self._by_number[trial.number] = trial
        if trial.trial_id >= 0:
            self._numbers[trial.trial_id] = trial.number
        for state, members in ((TrialState.RUNNING, self._running), (TrialState.PAUSED, self._paused)):
            if trial.state is state:
                members.setdefault(trial.number, None)
            else:
                members.pop(trial.number, None)
        if trial.state.is_finished:
            at = self._finished_at.setdefault(trial.number, len(self._finished))
            if at == len(self._finished):
                self._finished.append(trial)
            else:
                self._finished[at] = trial
        for index in self._indexes.values():
            index.update(old, trial)

    def index(self, key: Hashable, factory: Callable[[], _I]) -> _I:
        """The index registered under ``key``, made with ``factory()`` and fed every trial on first use.

        Indexes are plain objects with ``update(old, new)``; use a key that names what the index holds and
        with which settings (e.g. ``("rungs", 1, 3, 81, "minimize")``).
        """
        found = self._indexes.get(key)
        if found is None:
            found = factory()
            for trial in self._by_number.values():
                found.update(None, trial)
            self._indexes[key] = found
        return found  # type: ignore[return-value]

    # --- reading ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_number)

    def __iter__(self) -> Iterator[Trial]:
        return iter(list(self._by_number.values()))

    def __contains__(self, number: object) -> bool:
        return number in self._by_number

    def __getitem__(self, number: int) -> Trial:
        """The trial with that number (KeyError if unknown)."""
        return self._by_number[number]

    def get(self, number: int) -> Trial | None:
        return self._by_number.get(number)

    def by_id(self, trial_id: int) -> Trial | None:
        """The trial with that storage id, or None."""
        number = self._numbers.get(trial_id)
        return None if number is None else self._by_number[number]

    @property
    def finished(self) -> list[Trial]:
        """COMPLETE, PRUNED and FAILED trials, in the order this history learnt they finished.

        The history's own list (no copy, so O(1)): read it, do not change it.
        """
        return self._finished

    @property
    def running(self) -> list[Trial]:
        return [self._by_number[n] for n in self._running]

    @property
    def paused(self) -> list[Trial]:
        return [self._by_number[n] for n in self._paused]

    def settled(self) -> Sequence[Trial]:
        """Finished trials, then paused ones: what a sampler learns from. A view: O(1) to make."""
        return _Settled(self._finished, self._paused, self._by_number)

    def sorted(self) -> list[Trial]:
        """Every trial, by number."""
        return [self._by_number[n] for n in sorted(self._by_number)]

    def __repr__(self) -> str:
        return f"TrialHistory({len(self)} trials, {len(self._running)} running, {len(self._finished)} finished)"


class _Settled(Sequence[Trial]):
    """Finished trials then paused ones, read through without copying (a view of the history)."""

    def __init__(self, finished: list[Trial], paused: dict[int, None], by_number: dict[int, Trial]) -> None:
        self._finished, self._paused, self._by_number = finished, paused, by_number

    def __len__(self) -> int:
        return len(self._finished) + len(self._paused)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return list(self)[i]
        n = len(self._finished)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < n:
            return self._finished[i]
        return self._by_number[list(self._paused)[i - n]]

    def __iter__(self) -> Iterator[Trial]:
        yield from self._finished
        for number in self._paused:
            yield self._by_number[number]


def as_history(trials: TrialHistory | Sequence[Trial] | Iterable[Trial], *extra: Trial) -> TrialHistory:
    """``trials`` as a `TrialHistory` (itself if it is one), with ``extra`` trials put last (they win).

    Passing a history is O(1); a plain list costs one pass over it, which is fine for tests and one-off
    calls but not for a loop over reports: keep a history and `put` changes into it instead.
    """
    history = trials if isinstance(trials, TrialHistory) else TrialHistory(trials)
    for trial in extra:
        if history.get(trial.number) is not trial:
            if history is trials:  # never change the caller's history behind its back
                history = TrialHistory(trials)
            history.put(trial)
    return history
