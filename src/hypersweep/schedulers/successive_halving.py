"""Successive halving: rung arithmetic, the asynchronous rung rule (trial mode), `Bracket` (driver mode).

This is the one home of rung arithmetic; `ASHA` and `Hyperband` are built from what is here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypersweep.history import TrialHistory, as_history
from hypersweep.multi_objective import pareto_positions
from hypersweep.schedulers._index import RungIndex
from hypersweep.schedulers.base import (
    BaseScheduler,
    Decision,
    Sign,
    Trials,
    _check_int,
    _check_reduction_factor,
    _curve,
    _is_nan,
    _score,
    _signs,
    _value_at,
)
from hypersweep.trial import Trial, TrialState

__all__ = ["Bracket", "Rung", "SuccessiveHalving", "halving_bracket", "rung_levels"]

#: Driver-mode observations: model id -> [(step, score), ...] seen so far, higher scores better.
Info = Mapping[Hashable, Sequence[tuple[int, float]]]


def rung_levels(
    min_resource: int, reduction_factor: int, max_resource: int | None = None, *, up_to: int | None = None
) -> list[int]:
    """Steps at which trials are judged: ``min_resource * reduction_factor**k`` for k = 0, 1, ...

    A level r is a rung only while ``r * reduction_factor <= max_resource`` (there is room above it for the
    survivors to get eta times more); a bracket's final rung is ``max_resource`` itself. When max_resource
    is None the ladder is unbounded and `up_to` must cap it (levels <= up_to).

    >>> rung_levels(1, 3, 81)
    [1, 3, 9, 27]
    >>> rung_levels(1, 3, 100)
    [1, 3, 9, 27]
    >>> rung_levels(2, 3, up_to=20)
    [2, 6, 18]
    """
    if max_resource is None and up_to is None:
        raise ValueError("rung_levels needs max_resource or up_to: with neither the ladder has no end")
    levels = []
    level = min_resource
    while (max_resource is None or level * reduction_factor <= max_resource) and (
        up_to is None or level <= up_to
    ):
        levels.append(level)
        level *= reduction_factor
    return levels


@dataclass(frozen=True)
class Rung:
    """One rung of a bracket: `n_models` models are trained until they have `resource` steps in total."""

    resource: int
    n_models: int


@dataclass(frozen=True)
class Bracket:
    """A synchronous successive-halving bracket: planned before running, then driven by `instructions`.

    Follows dask-ml's convention: ``rungs[0].n_models`` models start with ``rungs[0].resource`` steps; after
    each rung the best ``rungs[i + 1].n_models`` of them (by score at that rung) go on to
    ``rungs[i + 1].resource`` steps in total, i.e. ``rungs[i + 1].resource - current`` additional steps.

    >>> b = SuccessiveHalving(max_resource=9, reduction_factor=3).bracket(n_models=9)
    >>> [(r.resource, r.n_models) for r in b.rungs], b.partial_fit_calls
    ([(1, 9), (3, 3), (9, 1)], 21)
    >>> b.instructions({m: [] for m in "abc"})
    {'a': 1, 'b': 1, 'c': 1}
    """

    rungs: tuple[Rung, ...]
    reduction_factor: int

    def __post_init__(self) -> None:
        resources = [r.resource for r in self.rungs]
        counts = [r.n_models for r in self.rungs]
        if not self.rungs or resources != sorted(set(resources)) or resources[0] < 1:
            raise ValueError(f"rungs need strictly increasing resources >= 1, got {resources}")
        if counts != sorted(counts, reverse=True) or counts[-1] < 1:
            raise ValueError(f"rungs need non-increasing model counts >= 1, got {counts}")

    @property
    def n_models(self) -> int:
        """Models started in this bracket."""
        return self.rungs[0].n_models

    @property
    def max_resource(self) -> int:
        """Steps the survivors of the last rung end with."""
        return self.rungs[-1].resource

    @property
    def partial_fit_calls(self) -> int:
        """Steps planned over all models: sum over rungs of n_models * (resource - previous resource)."""
        previous = [0] + [r.resource for r in self.rungs[:-1]]
        return sum(r.n_models * (r.resource - p) for r, p in zip(self.rungs, previous, strict=True))

    @property
    def metadata(self) -> dict[str, Any]:
        """The plan as plain data: ``n_models``, ``partial_fit_calls`` and ``rungs`` (resource, n_models)."""
        return {
            "n_models": self.n_models,
            "partial_fit_calls": self.partial_fit_calls,
            "rungs": [{"resource": r.resource, "n_models": r.n_models} for r in self.rungs],
        }

    def instructions(self, info: Info) -> dict[Hashable, int]:
        """What to do next, from what was observed: ``{model_id: n_more_steps}``; 0 = stop; {} = done.

        `info` maps every model of the bracket to its ``[(step, score), ...]`` so far (scores: higher is
        better; the step of a model is its largest reported step). Pure and stateless: the same `info`
        always gives the same answer. Models waiting at a rung for stragglers are left out; ties go to
        the model listed first in `info`.
        """
        histories = {model: dict(observed) for model, observed in info.items()}
        steps = {model: max(history, default=0) for model, history in histories.items()}
        alive, stopped = list(histories), []
        for i, rung in enumerate(self.rungs):
            behind = {m: rung.resource - steps[m] for m in alive if steps[m] < rung.resource}
            if behind:
                return {**dict.fromkeys(stopped, 0), **behind}
            if i + 1 == len(self.rungs):
                break
            keep = set(_best(alive, histories, rung.resource, self.rungs[i + 1].n_models))
            stopped += [m for m in alive if m not in keep]
            alive = [m for m in alive if m in keep]
        return {}


def halving_bracket(
    n_models: int, first_resource: int, reduction_factor: int = 3, max_resource: int | None = None
) -> Bracket:
    """Successive halving as dask-ml (and the Hyperband paper, in integers) plans it: rung k has
    ``floor(n_models / eta**k)`` models at ``round(first_resource * eta**k)`` steps (capped at
    `max_resource`), and the last rung is the first with one model left or with max_resource steps.

    >>> b = halving_bracket(10, 1, 3)
    >>> [(r.resource, r.n_models) for r in b.rungs], b.partial_fit_calls
    ([(1, 10), (3, 3), (9, 1)], 22)
    >>> [(r.resource, r.n_models) for r in halving_bracket(5, 5, 3, max_resource=15).rungs]
    [(5, 5), (15, 1)]
    >>> [(r.resource, r.n_models) for r in halving_bracket(2, 1, 3).rungs]  # too few to halve
    [(1, 2)]
    """
    n = _check_int("n_models", n_models, 1)
    r = _check_int("first_resource", first_resource, 1)
    eta = _check_reduction_factor(reduction_factor)
    top = None if max_resource is None else _check_int("max_resource", max_resource, r)
    rungs = []
    for k in range(64):
        count, resource = n // eta**k, int(round(r * eta**k))
        if top is not None:
            resource = min(resource, top)
        if count == 0:  # fewer than eta models left: those of the last rung are the survivors
            break
        rungs.append(Rung(resource, count))
        if count <= 1 or (top is not None and resource >= top):
            break
    return Bracket(rungs=tuple(rungs), reduction_factor=eta)


class _RungScheduler(BaseScheduler):
    """Validated rung arguments plus the asynchronous rung rule, shared by SuccessiveHalving and ASHA."""

    multi_objective = True  # several objectives: a rung is ranked by Pareto front, then crowding distance
    _demote = Decision.STOP  # what a trial outside the top 1/eta of its rung gets
    _at_least = 1  # the top of a rung holds max(_at_least, n // eta) trials: the first arrival goes on

    def __init__(
        self, min_resource: int, max_resource: int | None, reduction_factor: int, min_early_stopping_rate: int
    ) -> None:
        self.min_resource = _check_int("min_resource", min_resource, 1)
        self.max_resource = None if max_resource is None else _check_int("max_resource", max_resource, 1)
        self.reduction_factor = _check_reduction_factor(reduction_factor)
        self.min_early_stopping_rate = _check_int("min_early_stopping_rate", min_early_stopping_rate, 0)
        first = self.min_resource * self.reduction_factor**self.min_early_stopping_rate
        if self.max_resource is not None and first > self.max_resource:
            if self.min_early_stopping_rate == 0:
                raise ValueError(
                    f"max_resource must be >= min_resource, got max_resource={self.max_resource}, "
                    f"min_resource={self.min_resource}; raise max_resource or lower min_resource"
                )
            raise ValueError(
                f"the first rung min_resource * reduction_factor**min_early_stopping_rate = {first} exceeds "
                f"max_resource={self.max_resource}; lower min_early_stopping_rate or raise max_resource"
            )
        self._first_rung = first

    def rungs(self, up_to: int | None = None) -> list[int]:
        """Steps at which trials are judged (all of them, or those <= up_to); see `rung_levels`."""
        return rung_levels(self._first_rung, self.reduction_factor, self.max_resource, up_to=up_to)

    def decide(self, trial: Trial, trials: Trials, direction: str) -> Decision:
        """CONTINUE unless the report crossed a rung at which `trial` is outside the top 1/eta.

        A report at step t crosses every rung in (previous step, t]; each is judged with the value at the
        largest step <= rung. Competitors are all trials that reached the rung (last step >= rung), the
        trial itself included; the top ``max(1, n // eta)`` go on, so the first arrival at a rung goes on
        if it is the best so far (as Optuna's SuccessiveHalvingPruner). A NaN value never goes on.

        With several objectives (``direction`` a list) trials are compared by their ``intermediate_values``:
        the top of a rung is its first trials in Pareto-front order, ties within a front broken by crowding
        distance (multi-objective ASHA, Schmucker et al. 2021).
        """
        sign = _signs(direction)
        if not _curve(trial, sign):
            return Decision.CONTINUE
        index = self._index(as_history(trials, trial), sign)
        return self._judge(index, None, trial, sign)

    def _index(self, history: TrialHistory, sign: Sign) -> RungIndex:
        key = ("rungs", self._first_rung, self.reduction_factor, self.max_resource, sign)
        return history.index(key, lambda: RungIndex(lambda group, step: self.rungs(up_to=step), sign))

    def _judge(self, index: RungIndex, group: Hashable, trial: Trial, sign: Sign) -> Decision:
        history = _curve(trial, sign)
        step = max(history)
        previous = step - 1 if step - 1 in history else max((s for s in history if s < step), default=0)
        for rung in self.rungs(up_to=step):
            if rung <= previous:
                continue
            value = _value_at(history, rung)
            score = _score(value, sign)
            if _is_nan(value) or not index.in_top(group, rung, trial.number, score, self.reduction_factor,
                                                  self._at_least):
                return self._demote
        return Decision.CONTINUE


class SuccessiveHalving(_RungScheduler):
    """Successive halving, asynchronous in trial mode and synchronous (`bracket`) in driver mode.

    Rungs at ``min_resource * reduction_factor**(k + min_early_stopping_rate)`` (only those with room for
    one more rung below `max_resource`). Trial mode: a trial reaching a rung goes on only if it is in the
    top 1/reduction_factor of the values recorded there so far, else STOP; trials below the first rung and
    steps >= max_resource are never judged. Driver mode: ``bracket(n_models)``.

    >>> sh = SuccessiveHalving(min_resource=1, max_resource=81, reduction_factor=3)
    >>> sh.rungs()
    [1, 3, 9, 27]
    >>> b = sh.bracket(n_models=81)
    >>> [(r.resource, r.n_models) for r in b.rungs], b.partial_fit_calls
    ([(1, 81), (3, 27), (9, 9), (27, 3), (81, 1)], 297)
    """

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: int | None = None,
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
    ) -> None:
        super().__init__(min_resource, max_resource, reduction_factor, min_early_stopping_rate)

    def bracket(self, n_models: int) -> Bracket:
        """The synchronous bracket for `n_models` models: they start at the first rung, the best
        ``max(1, n_models // eta**i)`` reach rung i, and the last rung is max_resource.

        >>> b = SuccessiveHalving(max_resource=27, min_early_stopping_rate=1).bracket(n_models=10)
        >>> [(r.resource, r.n_models) for r in b.rungs], b.partial_fit_calls
        ([(3, 10), (9, 3), (27, 1)], 66)
        """
        n_models = _check_int("n_models", n_models, 1)
        if self.max_resource is None:
            raise ValueError(
                "bracket() needs a finite max_resource, got max_resource=None; "
                "pass SuccessiveHalving(max_resource=...)"
            )
        resources = [*self.rungs(), self.max_resource]
        eta = self.reduction_factor
        rungs = tuple(Rung(r, max(1, n_models // eta**i)) for i, r in enumerate(resources))
        return Bracket(rungs=rungs, reduction_factor=eta)

    def next_steps(self, trials: Trials, direction: str) -> dict[int, int]:
        """Driver mode: one synchronous `bracket` of every trial started so far (failed ones left out).

        >>> from hypersweep.trial import Trial, TrialState
        >>> sh = SuccessiveHalving(max_resource=9)
        >>> trials = [Trial(i, {}, TrialState.RUNNING, intermediate={1: float(i)}) for i in range(3)]
        >>> sh.next_steps(trials, "maximize")  # the best third (trial 2) goes on to 3 steps
        {0: 0, 1: 0, 2: 2}
        """
        sign = _signs(direction)
        members = [t for t in as_history(trials) if t.state is not TrialState.FAILED]
        if not members:
            return {}
        return self.bracket(len(members)).instructions(_info(members, sign))


def _info(trials: Sequence[Trial], sign: Sign) -> dict[Hashable, list[tuple[int, Any]]]:
    """Driver-mode observations of ``trials``: number -> [(step, score), ...], scores higher-is-better (tuples
    of them, one per objective, when ``sign`` is a tuple)."""
    return {t.number: [(step, _score(v, sign)) for step, v in sorted(_curve(t, sign).items())] for t in trials}


def _best(
    models: Sequence[Hashable], histories: Mapping[Hashable, Mapping[int, Any]], resource: int, k: int
) -> list[Hashable]:
    """The k models with the highest score at `resource` (NaN last; ties to the earlier model). Tuples of
    scores (several objectives) rank by Pareto front, then crowding distance (`pareto_positions`)."""
    scores = [_value_at(histories[m], resource) for m in models]
    if scores and isinstance(scores[0], tuple):
        losses = [[math.inf if math.isnan(x) else -x for x in score] for score in scores]
        positions = pareto_positions(losses)
        order = sorted(range(len(models)), key=lambda i: positions[i])
    else:
        order = sorted(range(len(models)), key=lambda i: -_score(scores[i], 1))
    return [models[i] for i in order[:k]]
