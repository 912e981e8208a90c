"""Hyperband (Li et al., JMLR 2018): a set of successive-halving brackets trading many cheap models for
few long ones. The plan is computable before running; trial mode assigns each trial a bracket.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypersweep.schedulers.base import BaseScheduler, Decision, _check_int, _check_reduction_factor
from hypersweep.schedulers.successive_halving import Bracket, Info, SuccessiveHalving
from hypersweep.trial import Trial

__all__ = ["Hyperband", "HyperbandPlan"]


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


class Hyperband(BaseScheduler):
    """Hyperband over steps 1..max_resource: brackets s = s_max..0, s_max = floor(log_eta(R / r_min)).

    Bracket s starts ``ceil((s_max + 1) * eta**s / (s + 1))`` models (dask-ml's / the paper's n) at
    ``min_resource * eta**(s_max - s)`` steps and is a `SuccessiveHalving` bracket from there to R.
    With R = r_min * eta**k this is exactly the paper's and dask-ml's arithmetic; otherwise the last rung
    of every bracket is raised to R. Driver mode: `plan`, `brackets`, `instructions`. Trial mode:
    `on_trial_start` deals brackets in proportion to their model counts, and `decide` applies the
    asynchronous rung rule among the trials of the trial's own bracket (``system_attrs["bracket"]``).

    >>> hb = Hyperband(max_resource=81, reduction_factor=3)
    >>> hb.plan().n_models, hb.plan().partial_fit_calls
    (143, 1581)
    >>> [(s, b.n_models, b.partial_fit_calls) for s, b in hb.brackets().items()]
    [(4, 81, 297), (3, 34, 276), (2, 15, 279), (1, 8, 324), (0, 5, 405)]
    """

    def __init__(self, max_resource: int = 81, reduction_factor: int = 3, min_resource: int = 1) -> None:
        self.max_resource = _check_int("max_resource", max_resource, 1)
        self.reduction_factor = eta = _check_reduction_factor(reduction_factor)
        self.min_resource = _check_int("min_resource", min_resource, 1)
        if self.max_resource < self.min_resource:
            raise ValueError(
                f"max_resource must be >= min_resource, got max_resource={self.max_resource}, "
                f"min_resource={self.min_resource}; raise max_resource or lower min_resource"
            )
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

    def bracket_of(self, number: int) -> int:
        """The bracket dealt to trial `number`: each run of ``plan().n_models`` numbers holds exactly
        ``n_models`` of bracket s for every s, interleaved (smooth weighted round-robin)."""
        return self._deal[_check_int("number", number, 0) % len(self._deal)]

    def on_trial_start(self, number: int, trials: Sequence[Trial]) -> dict[str, Any]:
        """``{"bracket": s}`` for trial `number` (see `bracket_of`)."""
        return {"bracket": self.bracket_of(number)}

    def decide(self, trial: Trial, trials: Sequence[Trial], direction: str) -> Decision:
        """The asynchronous rung rule of `trial`'s bracket, among the trials of that bracket only."""
        bracket = self._bracket_of_trial(trial)
        peers = [t for t in trials if self._bracket_of_trial(t) == bracket]
        return self._halving[bracket].decide(trial, peers, direction)

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
