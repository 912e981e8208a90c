"""ASHA, asynchronous successive halving with promotions (Li et al., MLSys 2020).

Trials wait at a rung instead of dying there, and nothing waits for stragglers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hypersweep.schedulers.base import Decision, _direction_sign, _top_k_threshold
from hypersweep.schedulers.successive_halving import _RungScheduler
from hypersweep.trial import Trial, TrialState

__all__ = ["ASHA"]


class ASHA(_RungScheduler):
    """Asynchronous successive halving, promotion flavour (Algorithm 2 of Li et al. 2020).

    Same rungs and rung rule as `SuccessiveHalving` (it shares that code), but a trial outside the top
    1/reduction_factor of its rung is PAUSEd, not stopped: as more trials reach the rung the top 1/eta
    grows, and `promotable` names the paused trials that now belong to it (highest rung first, as in the
    paper's ``get_job``) so a free worker can resume them. Nothing waits for the rest of a rung. A Study
    that cannot resume trials simply treats PAUSE as STOP, which is the "stopping" flavour of ASHA.

    >>> from hypersweep.trial import Trial, TrialState
    >>> asha = ASHA(max_resource=9, reduction_factor=3)
    >>> a = Trial(0, {}, TrialState.RUNNING, intermediate={1: 0.2})
    >>> b = Trial(1, {}, TrialState.RUNNING, intermediate={1: 0.9})
    >>> asha.decide(b, [a, b], "minimize")
    <Decision.PAUSE: 'pause'>
    >>> asha.promotable([a, b.evolve(state=TrialState.PRUNED)], "minimize")  # b is not in the top third
    []
    """

    _demote = Decision.PAUSE

    def __init__(
        self, min_resource: int = 1, max_resource: int | None = None, reduction_factor: int = 3
    ) -> None:
        super().__init__(min_resource, max_resource, reduction_factor, min_early_stopping_rate=0)

    def promotable(self, trials: Sequence[Trial], direction: str) -> list[int]:
        """Paused trials (state PRUNED, waiting at a rung) now in the top 1/eta of their rung.

        Ordered highest rung first, then best score first, then trial number. A paused trial waits at the
        largest rung <= its last step; trials at or beyond max_resource are never promoted.
        """
        sign = _direction_sign(direction)
        paused = [
            t
            for t in trials
            if t.state is TrialState.PRUNED
            and t.intermediate
            and (self.max_resource is None or t.last_step < self.max_resource)
        ]
        if not paused:
            return []
        ready: list[tuple[int, float, int]] = []
        for rung in self.rungs(up_to=max(t.last_step for t in paused)):
            waiting = [t.number for t in paused if rung <= t.last_step < rung * self.reduction_factor]
            if not waiting:
                continue
            scores = self._rung_scores(rung, trials, sign)
            threshold = _top_k_threshold(list(scores.values()), self.reduction_factor)
            ready += [
                (-rung, -scores[n], n) for n in waiting if scores[n] >= threshold and scores[n] > -math.inf
            ]
        return [number for _, _, number in sorted(ready)]
