"""The progress bar of `Study.optimize` and the CLI (tqdm): trials done and the best feasible value, or, with
several objectives, the size of the Pareto front so far."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypersweep.direction import Direction
from hypersweep.multi_objective import as_losses, dominates
from hypersweep.trial import Trial, TrialState

__all__ = ["ProgressBar"]


class ProgressBar:
    """Counts finished trials; draws nothing when ``enabled`` is False. Like `Study.best_trial`
    and `Study.best_trials`, it counts only feasible trials (every constraint <= 0).

    >>> from hypersweep.trial import Trial, TrialState
    >>> bar = ProgressBar(total=2, enabled=False, directions=["maximize", "minimize"])
    >>> for number, values in enumerate([(1.0, 1.0), (2.0, 0.5)]):
    ...     bar.update(Trial(number, {}, TrialState.COMPLETE, values=values))
    >>> bar.postfix()
    {'front': '1'}
    """

    def __init__(self, total: int | None, enabled: bool = True, direction: str = "minimize",
                 directions: Sequence[str | Direction] | None = None) -> None:
        self._bar: Any = None
        self._best: float | None = None
        self._direction = Direction.of(direction)
        self._directions = list(directions) if directions is not None and len(directions) > 1 else None
        self._front: list[Any] = []  # losses of the non-dominated feasible trials (several objectives)
        self._failed = 0
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, unit="trial", dynamic_ncols=True)

    def update(self, trial: Trial) -> None:
        if trial.state == TrialState.COMPLETE and trial.feasible:
            if self._directions is not None and trial.values is not None:
                self._add_to_front(as_losses([trial.values], self._directions)[0])
            elif self._directions is None and trial.value is not None:
                if self._best is None or self._direction.better(trial.value, self._best):
                    self._best = trial.value
        self._failed += trial.state == TrialState.FAILED
        if self._bar is not None:
            self._bar.set_postfix(self.postfix(), refresh=False)
            self._bar.update(1)

    def _add_to_front(self, loss: Any) -> None:
        if any(dominates(kept, loss) or (kept == loss).all() for kept in self._front):
            return
        self._front = [kept for kept in self._front if not dominates(loss, kept)] + [loss]

    def postfix(self) -> dict[str, str]:
        """What the bar shows after the count: ``best`` (one objective) or ``front``, and ``failed``."""
        if self._directions is not None:
            shown = {"front": str(len(self._front))}
        else:
            shown = {"best": f"{self._best:.6g}" if self._best is not None else "-"}
        if self._failed:
            shown["failed"] = str(self._failed)
        return shown

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
