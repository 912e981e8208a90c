"""The median stopping rule: stop a trial whose best value so far is worse than the median of the other
trials' values at the same step (Optuna's MedianPruner semantics, counting every other trial).
"""

from __future__ import annotations

from hypersweep.history import as_history
from hypersweep.schedulers._index import StepIndex
from hypersweep.schedulers.base import BaseScheduler, Decision, Trials, _check_int, _direction_sign, _score
from hypersweep.trial import Trial

__all__ = ["MedianStopping"]


class MedianStopping(BaseScheduler):
    """Median stopping rule.

    At step t (the trial's last step), once t > warmup_steps and at least `min_trials` other trials have
    reported a value at exactly step t, STOP if the trial's **best value over steps <= t** is strictly
    worse than the **median of those other trials' values at step t**; else CONTINUE. This is Optuna's
    MedianPruner comparison (best-so-far vs. per-step median), not Golovin et al.'s running averages.
    Unlike Optuna, "other trials" means every other trial that reported at step t (running, paused,
    pruned or complete), so it can judge before `min_trials` trials have finished. NaN values are
    ignored; a trial with only NaN values so far is stopped once the rule applies.

    >>> from hypersweep.trial import Trial, TrialState
    >>> others = [Trial(i, {}, TrialState.COMPLETE, intermediate={1: float(i)}) for i in range(5)]
    >>> bad = Trial(9, {}, TrialState.RUNNING, intermediate={1: 3.5})
    >>> MedianStopping(min_trials=5).decide(bad, others + [bad], "minimize")
    <Decision.STOP: 'stop'>
    """

    def __init__(self, warmup_steps: int = 0, min_trials: int = 5) -> None:
        self.warmup_steps = _check_int("warmup_steps", warmup_steps, 0)
        self.min_trials = _check_int(
            "min_trials", min_trials, 1, "a median needs at least one other trial to compare with"
        )

    def decide(self, trial: Trial, trials: Trials, direction: str) -> Decision:
        """STOP if `trial`'s best value so far is worse than the median of the others at its last step."""
        sign = _direction_sign(direction)
        step = trial.last_step
        if step is None or step <= self.warmup_steps:
            return Decision.CONTINUE
        history = as_history(trials, trial)
        index = history.index(("steps", sign), lambda: StepIndex(sign))
        count, median = index.others(step, trial.number)
        if count < self.min_trials or median is None:
            return Decision.CONTINUE
        best = max(_score(v, sign) for s, v in trial.intermediate.items() if s <= step)
        return Decision.STOP if best < median else Decision.CONTINUE
