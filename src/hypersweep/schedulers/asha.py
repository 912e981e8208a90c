"""ASHA, asynchronous successive halving (Li et al., MLSys 2020), stopping or promoting.

Nothing waits for stragglers; with ``promote=True`` trials wait at a rung and resume when they earn it.
"""

from __future__ import annotations

from hypersweep.history import as_history
from hypersweep.schedulers.base import Decision, Trials, _curve, _signs
from hypersweep.schedulers.successive_halving import _RungScheduler

__all__ = ["ASHA"]


class ASHA(_RungScheduler):
    """Asynchronous successive halving: the rung rule of `SuccessiveHalving`, in two flavours.

    ``promote=False`` (the default, the paper's "stopping" variant, Optuna's SuccessiveHalvingPruner): a
    trial outside the top 1/reduction_factor of a rung when it reaches it is STOPPED.
    ``promote=True`` (Algorithm 2 of Li et al. 2020): that trial is PAUSED instead, keeping its steps and
    checkpoint; as more trials reach the rung its top 1/eta grows, and `promotable` names the paused trials
    that now belong to it (highest rung first, then best first, as the paper's ``get_job``), which the
    Study resumes on the next free worker before starting new trials. Objectives resume a promoted trial
    from ``trial.checkpoint`` (without a checkpoint it runs again from its first step). Give ``max_resource``
    (the steps a trial runs in full): without it the ladder of rungs has no top, and a trial whose last step
    falls on a rung waits there for a promotion before it completes.

    >>> from hypersweep.trial import Trial, TrialState
    >>> asha = ASHA(max_resource=9, reduction_factor=3, promote=True)
    >>> a = Trial(0, {}, TrialState.RUNNING, intermediate={1: 0.2})
    >>> b = Trial(1, {}, TrialState.RUNNING, intermediate={1: 0.9})
    >>> asha.decide(b, [a, b], "minimize")
    <Decision.PAUSE: 'pause'>
    >>> asha.promotable([a, b.evolve(state=TrialState.PAUSED)], "minimize")  # b is not in the top third
    []
    >>> ASHA(max_resource=9).decide(b, [a, b], "minimize")  # the stopping variant
    <Decision.STOP: 'stop'>
    """

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: int | None = None,
        reduction_factor: int = 3,
        promote: bool = False,
    ) -> None:
        super().__init__(min_resource, max_resource, reduction_factor, min_early_stopping_rate=0)
        if not isinstance(promote, bool):
            from hypersweep._validation import invalid

            raise invalid("promote", promote, "True or False", "promote=True pauses trials so they can be promoted")
        self.promote = promote
        self._demote = Decision.PAUSE if promote else Decision.STOP
        # promotions follow the paper: a rung promotes floor(n / eta) trials, none before eta have reached it
        self._at_least = 0 if promote else 1

    def promotable(self, trials: Trials, direction: str, *, final: bool = False) -> list[int]:
        """Paused trials now in the top 1/eta of the rung they wait at, to be resumed in this order.

        Ordered highest rung first, then best score first, then trial number. A paused trial waits at the
        largest rung <= its last step; trials at or beyond max_resource are never promoted.
        """
        if not self.promote:
            return []
        sign = _signs(direction)
        history = as_history(trials)
        index = self._index(history, sign)
        ready = []
        at_least = 1 if final else self._at_least  # no trial will come: a thin rung still promotes its best
        for group, rung in index.waiting_rungs():
            for score, number in index.waiting(group, rung):
                if not index.in_top(group, rung, number, score, self.reduction_factor, at_least):
                    break  # best first: the rest of this rung is not in the top either
                step = max(_curve(history[number], sign), default=0)
                if self.max_resource is None or step < self.max_resource:
                    ready.append(number)
        return ready
