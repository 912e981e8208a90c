"""`Brackets`: driver mode over successive-halving brackets planned by the caller (e.g. dask-ml's Hyperband
arithmetic, `paper_plan`), for drivers that start each bracket's models themselves."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from hypersweep.history import as_history
from hypersweep.schedulers.base import BaseScheduler, Decision, Trials, _curve, _signs
from hypersweep.schedulers.hyperband import HyperbandPlan
from hypersweep.schedulers.successive_halving import Bracket, _info
from hypersweep.trial import Trial, TrialState

__all__ = ["Brackets"]

_LIVE = (TrialState.RUNNING, TrialState.PAUSED, TrialState.WAITING, TrialState.COMPLETE)


class Brackets(BaseScheduler):
    """Synchronous brackets, each run by `Bracket.instructions` over its *live* trials.

    A trial belongs to the bracket named by its ``system_attrs["bracket"]`` (start it with
    ``study.start_trial(system_attrs={"bracket": key})``); the driver starts every model of a bracket.
    Trials running, paused or waiting are trained as the bracket says. A COMPLETE trial stays in its bracket
    as converged: its last value stands at every later rung, so it competes for the survivors' places without
    being trained further (a driver completes a model early when its score has plateaued). PRUNED and FAILED
    trials leave the bracket, which goes on with the others, its rung sizes unchanged. A trial has finished
    its bracket once it holds ``bracket.max_resource`` steps.

    Trial mode is not a policy of its own: `decide` always continues (the driver follows `next_steps`).

    >>> from hypersweep.schedulers import SuccessiveHalving
    >>> sched = Brackets({0: SuccessiveHalving(max_resource=9).bracket(3)})
    >>> trials = [Trial(i, {}, TrialState.RUNNING, intermediate={1: float(i)}, system_attrs={"bracket": 0})
    ...           for i in range(3)]
    >>> sched.next_steps(trials, "maximize")  # the best third (trial 2) goes on to 3 steps
    {0: 0, 1: 0, 2: 2}
    """

    def __init__(self, brackets: Mapping[Hashable, Bracket] | HyperbandPlan) -> None:
        plan = brackets.brackets if isinstance(brackets, HyperbandPlan) else brackets
        if not isinstance(plan, Mapping) or not plan:
            raise TypeError(
                f"brackets must be a non-empty mapping of bracket key -> Bracket (or a HyperbandPlan), got {brackets!r}"
            )
        for key, bracket in plan.items():
            if not isinstance(bracket, Bracket):
                raise TypeError(f"brackets[{key!r}] must be a Bracket, got {type(bracket).__name__} {bracket!r}")
        self.brackets: dict[Hashable, Bracket] = dict(plan)

    @property
    def plan(self) -> HyperbandPlan:
        """The brackets as a `HyperbandPlan` (totals and ``metadata``)."""
        return HyperbandPlan(self.brackets)

    multi_objective = True  # tuples of scores rank by Pareto front (see `Bracket.instructions`)

    def decide(self, trial: Trial, trials: Trials, direction: str) -> Decision:
        _signs(direction)
        return Decision.CONTINUE

    def next_steps(self, trials: Trials, direction: str) -> dict[int, int]:
        """``{trial number: steps to run next}`` over every bracket's live trials (0: prune it); a live trial
        left out waits for the rest of its rung, or has finished its bracket (complete it)."""
        sign = _signs(direction)
        groups: dict[Hashable, list[Trial]] = {}
        for trial in as_history(trials):
            if trial.state in _LIVE:
                groups.setdefault(self._bracket_key(trial), []).append(trial)
        out: dict[int, int] = {}
        for key, members in groups.items():
            bracket = self.brackets[key]
            info = _info(members, sign)
            for trial in members:
                observed = info[trial.number]
                if trial.state is TrialState.COMPLETE and observed and observed[-1][0] < bracket.max_resource:
                    info[trial.number] = [*observed, (bracket.max_resource, observed[-1][1])]  # converged
            done = {t.number for t in members if t.state is TrialState.COMPLETE}
            todo = bracket.instructions(info)
            if not todo:  # the bracket is over: whoever did not reach its end lost
                todo = {t.number: 0 for t in members if max(_curve(t, sign), default=0) < bracket.max_resource}
            out.update({n: k for n, k in todo.items() if n not in done})
        return out

    def _bracket_key(self, trial: Trial) -> Any:
        key = trial.system_attrs.get("bracket")
        if key not in self.brackets:
            raise ValueError(
                f"trial {trial.number} has system_attrs['bracket']={key!r}, not one of the planned brackets "
                f"{sorted(self.brackets, key=repr)}; start trials with start_trial(system_attrs={{'bracket': key}})"
            )
        return key
