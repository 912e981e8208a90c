"""Hyperband (Li et al., JMLR 2018): a set of successive-halving brackets trading many cheap models for
few long ones. The plan is computable before running; trial mode deals each trial a bracket and runs the
brackets asynchronously (stopping) or synchronously (pausing and resuming each rung's survivors).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from hypersweep.history import TrialHistory, as_history
from hypersweep.schedulers._index import RungIndex
from hypersweep.schedulers.base import (
    BaseScheduler,
    Decision,
    Sign,
    Trials,
    _check_int,
    _check_reduction_factor,
    _curve,
    _signs,
)
from hypersweep.schedulers.successive_halving import Bracket, Info, SuccessiveHalving, _info, halving_bracket
from hypersweep.trial import Trial, TrialState

__all__ = ["Hyperband", "HyperbandPlan", "paper_plan"]


@dataclass(frozen=True)
class HyperbandPlan:
    """Hyperband's plan: ``brackets`` maps bracket s (s halvings; s_max is the most aggressive) to its
    `Bracket`, from s_max down to 0. ``n_models`` and ``partial_fit_calls`` are the totals over brackets.
    """

    brackets: Mapping[int, Bracket]

    @property
    def n_models(self) -> int:
        """Models started over all brackets."""
        return sum(b.n_models for b in self.brackets.values())

    @property
    def partial_fit_calls(self) -> int:
        """Steps (e.g. ``partial_fit`` calls) over all models of all brackets."""
        return sum(b.partial_fit_calls for b in self.brackets.values())

    @property
    def metadata(self) -> dict[str, Any]:
        """Plain data (dask-ml's ``metadata`` shape): totals, and per bracket ``bracket`` (s) plus the
        bracket's own `Bracket.metadata` (``n_models``, ``partial_fit_calls``, ``rungs``)."""
        return {
            "n_models": self.n_models,
            "partial_fit_calls": self.partial_fit_calls,
            "brackets": [{"bracket": s, **b.metadata} for s, b in self.brackets.items()],
        }


def paper_plan(max_resource: int, reduction_factor: int = 3) -> HyperbandPlan:
    """Hyperband's brackets as Algorithm 1 of the paper computes them in integers, as dask-ml does: bracket
    s = s_max..0 starts ``ceil((s_max + 1) * eta**s / (s + 1))`` models at ``max_resource // eta**s`` steps
    and halves them as `halving_bracket` says. When max_resource is a power of eta this is
    ``Hyperband(max_resource, eta).plan()`` (but for the float rounding below); otherwise a bracket's last
    rung may stop short of max_resource.

    ``s_max = floor(log(max_resource) / log(eta))`` is computed in floating point, exactly as dask-ml does, so
    that plans stay the same for its users: ``log(243) / log(3)`` is 4.999..., so ``paper_plan(243, 3)`` has
    brackets 4..0 (dask-ml's 143 models and 4,743 calls) where the exact ``Hyperband(243, 3)`` has 5..0.

    >>> plan = paper_plan(81, 3)
    >>> plan.n_models, plan.partial_fit_calls
    (143, 1581)
    >>> [(s, b.n_models, b.max_resource) for s, b in paper_plan(15, 3).brackets.items()]
    [(2, 9, 9), (1, 5, 15), (0, 3, 15)]
    >>> paper_plan(243, 3).n_models, paper_plan(243, 3).partial_fit_calls
    (143, 4743)
    """
    top = _check_int("max_resource", max_resource, 1)
    eta = _check_reduction_factor(reduction_factor)
    s_max = int(math.floor(math.log(top, eta)))
    return HyperbandPlan(
        {s: halving_bracket(-(-(s_max + 1) * eta**s // (s + 1)), top // eta**s, eta, top) for s in range(s_max, -1, -1)}
    )


class Hyperband(BaseScheduler):
    """Hyperband over steps 1..max_resource: brackets s = s_max..0, s_max = floor(log_eta(R / r_min)).

    Bracket s starts ``ceil((s_max + 1) * eta**s / (s + 1))`` models (dask-ml's / the paper's n) at
    ``min_resource * eta**(s_max - s)`` steps and is a `SuccessiveHalving` bracket from there to R.
    With R = r_min * eta**k this is exactly the paper's and dask-ml's arithmetic; otherwise the last rung
    of every bracket is raised to R.

    Driver mode: `plan`, `brackets`, `instructions`, `next_steps`. Trial mode: `on_trial_start` deals
    brackets in proportion to their model counts (each run of ``plan().n_models`` trial numbers fills every
    bracket once: one *iteration*), then

    - ``synchronous=False`` (default): `decide` applies the asynchronous rung rule among the trials of the
      trial's own bracket (``system_attrs["bracket"]``), stopping those outside the top 1/eta;
    - ``synchronous=True``: each bracket of each iteration is the paper's synchronous successive halving: a
      trial reaching its rung PAUSES until the whole rung has reported, then the best 1/eta are resumed
      from their checkpoints (`promotable`) and the others end as PRUNED (`stoppable`). Decisions are those
      of `Bracket.instructions` (driver mode) on the same observations. Once no new trial will start
      (``final``), an unfilled bracket is judged with the trials it has.

    >>> hb = Hyperband(max_resource=81, reduction_factor=3)
    >>> hb.plan().n_models, hb.plan().partial_fit_calls
    (143, 1581)
    >>> [(s, b.n_models, b.partial_fit_calls) for s, b in hb.brackets().items()]
    [(4, 81, 297), (3, 34, 276), (2, 15, 279), (1, 8, 324), (0, 5, 405)]
    """

    multi_objective = True  # several objectives: each rung ranked by Pareto front, then crowding distance

    def __init__(
        self, max_resource: int = 81, reduction_factor: int = 3, min_resource: int = 1, synchronous: bool = False
    ) -> None:
        self.max_resource = _check_int("max_resource", max_resource, 1)
        self.reduction_factor = eta = _check_reduction_factor(reduction_factor)
        self.min_resource = _check_int("min_resource", min_resource, 1)
        if self.max_resource < self.min_resource:
            raise ValueError(
                f"max_resource must be >= min_resource, got max_resource={self.max_resource}, "
                f"min_resource={self.min_resource}; raise max_resource or lower min_resource"
            )
        if not isinstance(synchronous, bool):
            from hypersweep._validation import invalid

            raise invalid("synchronous", synchronous, "True or False")
        self.synchronous = synchronous
        s_max = 0
        while self.min_resource * eta ** (s_max + 1) <= self.max_resource:
            s_max += 1
        self._s_max = s_max
        self._halving = {
            s: SuccessiveHalving(self.min_resource, self.max_resource, eta, min_early_stopping_rate=s_max - s)
            for s in range(s_max, -1, -1)
        }
        self._n_models = {s: -(-(s_max + 1) * eta**s // (s + 1)) for s in self._halving}
        self._deal = _interleave(self._n_models)

    @property
    def s_max(self) -> int:
        """The most aggressive bracket: the largest s with min_resource * eta**s <= max_resource."""
        return self._s_max

    def plan(self) -> HyperbandPlan:
        """The whole plan, before running anything."""
        return HyperbandPlan(self.brackets())

    @property
    def metadata(self) -> dict[str, Any]:
        """``plan().metadata``: planned totals and per-bracket models, steps and rungs."""
        return self.plan().metadata

    def brackets(self) -> dict[int, Bracket]:
        """bracket s -> its successive-halving `Bracket`, s_max first."""
        return {s: sh.bracket(self._n_models[s]) for s, sh in self._halving.items()}

    def instructions(self, info: Mapping[int, Info]) -> dict[int, dict[Hashable, int]]:
        """Driver mode: ``{bracket: {model_id: [(step, score), ...]}}`` -> ``{bracket: {model_id: n_more}}``.

        Each bracket answers independently (`Bracket.instructions`); finished brackets are left out, so
        {} means all are done. List every model of a bracket (``[]`` before its first step): a bracket
        missing from `info` has no models and so nothing to do.
        """
        out = {}
        for s, bracket in self.brackets().items():
            todo = bracket.instructions(info.get(s, {}))
            if todo:
                out[s] = todo
        return out

    def next_steps(self, trials: Trials, direction: str) -> dict[int, int]:
        """Driver mode over a study's trials: `instructions` with each trial in its ``system_attrs["bracket"]``
        (failed trials left out), flattened to ``{trial number: n_more}``.

        >>> from hypersweep.trial import Trial, TrialState
        >>> hb = Hyperband(max_resource=3)
        >>> trials = [Trial(i, {}, TrialState.RUNNING, system_attrs={"bracket": 1}) for i in range(3)]
        >>> hb.next_steps(trials, "minimize")  # bracket 1 starts its 3 models with 1 step each
        {0: 1, 1: 1, 2: 1}
        """
        sign = _signs(direction)
        groups: dict[int, list[Trial]] = {}
        for trial in as_history(trials):
            if trial.state is not TrialState.FAILED and "bracket" in trial.system_attrs:
                groups.setdefault(self._bracket_of_trial(trial), []).append(trial)
        out: dict[int, int] = {}
        for s, members in groups.items():
            out.update(self._halving[s].bracket(len(members)).instructions(_info(members, sign)))
        return out

    def bracket_of(self, number: int) -> int:
        """The bracket dealt to trial `number`: each run of ``plan().n_models`` numbers holds exactly
        ``n_models`` of bracket s for every s, interleaved (smooth weighted round-robin)."""
        return self._deal[_check_int("number", number, 0) % len(self._deal)]

    def on_trial_start(self, number: int, trials: Trials) -> dict[str, Any]:
        """``{"bracket": s}`` for trial `number` (see `bracket_of`), plus ``"iteration"`` when synchronous."""
        attrs: dict[str, Any] = {"bracket": self.bracket_of(number)}
        if self.synchronous:
            attrs["iteration"] = number // len(self._deal)
        return attrs

    # --- trial mode ------------------------------------------------------------------------------------
    def decide(self, trial: Trial, trials: Trials, direction: str) -> Decision:
        """Asynchronous: the rung rule of `trial`'s bracket, among that bracket's trials. Synchronous: what
        `Bracket.instructions` says for it: go on, wait at the rung (PAUSE) or STOP."""
        sign = _signs(direction)
        curve = _curve(trial, sign)
        if not curve:
            return Decision.CONTINUE
        history = as_history(trials, trial)
        bracket = self._bracket_of_trial(trial)
        if not self.synchronous:
            return self._halving[bracket]._judge(self._rung_index(history, sign), bracket, trial, sign)
        if max(curve) >= self.max_resource:
            return Decision.CONTINUE  # done with its bracket: let it finish
        final = self._members(history).final  # as the latest promotions were judged, so as not to undo them
        todo = self._instance_steps(history, self._instance_of(trial), sign, final=final)
        if not todo:
            return Decision.CONTINUE
        if trial.number not in todo:
            return Decision.PAUSE  # the rest of its rung is behind
        return Decision.CONTINUE if todo[trial.number] > 0 else Decision.STOP

    def promotable(self, trials: Trials, direction: str, *, final: bool = False) -> list[int]:
        """Synchronous: paused survivors of completed rungs (most aggressive bracket first, then number)."""
        return self._paused_with(trials, direction, final, resume=True)

    def stoppable(self, trials: Trials, direction: str, *, final: bool = False) -> list[int]:
        """Synchronous: paused trials outside the survivors of their completed rung."""
        return self._paused_with(trials, direction, final, resume=False)

    def _paused_with(self, trials: Trials, direction: str, final: bool, resume: bool) -> list[int]:
        if not self.synchronous:
            return []
        sign = _signs(direction)
        history = as_history(trials)
        members = self._members(history)
        for instance in members.stale(final):  # only brackets that changed since they were last judged
            todo = self._instance_steps(history, instance, sign, final)
            verdicts = {number: todo.get(number, None if todo else 0) for number in members.paused(instance)}
            members.judged(instance, {n: v for n, v in verdicts.items() if v is not None})
        return members.verdicts(resume)

    def _members(self, history: TrialHistory) -> _Members:
        return history.index(("hb-members", len(self._deal)), lambda: _Members(self._instance_of))

    def _instance_steps(
        self, history: TrialHistory, instance: tuple[int, int], sign: Sign, final: bool
    ) -> dict[Hashable, int]:
        """`Bracket.instructions` for one bracket of one iteration, as observed in ``history``.

        Until ``final``, trials of the bracket not started yet are behind at step 0; failed ones are left
        out and the bracket is sized for the trials that can still report.
        """
        trials = [history[n] for n in self._members(history).of(instance)]
        alive = [t for t in trials if t.state is not TrialState.FAILED]
        _, s = instance
        planned = len(alive) if final else self._n_models[s] - (len(trials) - len(alive))
        if planned < 1 or not alive:
            return {}
        info: dict[Hashable, list[tuple[int, Any]]] = dict(_info(alive, sign))
        for missing in range(max(0, planned - len(alive))):
            info[("not started", missing)] = []
        return self._halving[s].bracket(planned).instructions(info)

    def _instance_of(self, trial: Trial) -> tuple[int, int]:
        iteration = trial.system_attrs.get("iteration")
        if iteration is None:
            iteration = trial.number // len(self._deal)
        return int(iteration), self._bracket_of_trial(trial)

    def _rung_index(self, history: TrialHistory, sign: Sign) -> RungIndex:
        key = ("hb-rungs", self.min_resource, self.reduction_factor, self.max_resource, sign)
        return history.index(
            key,
            lambda: RungIndex(
                lambda bracket, step: self._halving[bracket].rungs(up_to=step), sign, self._bracket_of_trial
            ),
        )

    def _bracket_of_trial(self, trial: Trial) -> int:
        bracket = trial.system_attrs.get("bracket", None)
        if bracket is None:
            return self.bracket_of(trial.number)
        if bracket not in self._halving:
            raise ValueError(
                f"trial {trial.number} has system_attrs['bracket']={bracket!r}, but this Hyperband has "
                f"brackets 0..{self._s_max}; judge the study with the Hyperband arguments it was started with"
            )
        return bracket


class _Members:
    """Index: the trials of each (iteration, bracket), which of them are paused, and the last verdicts on
    the paused ones (a bracket is judged again only when one of its trials changed)."""

    def __init__(self, instance_of: Any) -> None:
        self._instance_of = instance_of
        self._members: dict[tuple[int, int], dict[int, None]] = {}
        self._paused: dict[tuple[int, int], dict[int, None]] = {}
        self._changed: set[tuple[int, int]] = set()
        self._verdicts: dict[tuple[int, int], dict[int, int]] = {}  # paused number -> steps to run (0: stop)
        self._final: bool | None = None

    @property
    def final(self) -> bool:
        """Whether the paused trials were last judged as if no new trial would start."""
        return bool(self._final)

    def update(self, old: Trial | None, new: Trial) -> None:
        instance = self._instance_of(new)
        self._members.setdefault(instance, {})[new.number] = None
        paused = self._paused.setdefault(instance, {})
        if new.state is TrialState.PAUSED:
            paused[new.number] = None
        else:
            paused.pop(new.number, None)
        self._changed.add(instance)

    def of(self, instance: tuple[int, int]) -> list[int]:
        return list(self._members.get(instance, {}))

    def paused(self, instance: tuple[int, int]) -> list[int]:
        return list(self._paused.get(instance, {}))

    def stale(self, final: bool) -> list[tuple[int, int]]:
        """Brackets with paused trials to judge again: those changed since, or all when ``final`` changed."""
        if final != self._final:
            self._final = final
            self._changed |= set(self._verdicts)
        stale = [i for i in self._changed if self._paused.get(i)]
        for instance in self._changed:
            self._verdicts.pop(instance, None)
        self._changed = set()
        return stale

    def judged(self, instance: tuple[int, int], verdicts: dict[int, int]) -> None:
        self._verdicts[instance] = verdicts  # kept even when empty: a change of `final` judges it again

    def verdicts(self, resume: bool) -> list[int]:
        """Paused trials to resume (or to stop), most aggressive bracket of the oldest iteration first."""
        return [
            number
            for instance in sorted(self._verdicts, key=lambda i: (i[0], -i[1]))
            for number, n in sorted(self._verdicts[instance].items())
            if (n > 0) == resume
        ]


def _interleave(weights: Mapping[int, int]) -> tuple[int, ...]:
    """A cycle holding each key `weight` times, spread evenly (smooth weighted round-robin; ties go to
    the key listed first)."""
    total = sum(weights.values())
    credit = dict.fromkeys(weights, 0)
    cycle = []
    for _ in range(total):
        for key, weight in weights.items():
            credit[key] += weight
        pick = max(credit, key=lambda k: credit[k])
        credit[pick] -= total
        cycle.append(pick)
    return tuple(cycle)
