"""The progress bar of `Study.optimize` and the CLI (tqdm), showing trials done and the best value."""

from __future__ import annotations

from typing import Any

from hypersweep.direction import Direction
from hypersweep.trial import Trial, TrialState

__all__ = ["ProgressBar"]


class ProgressBar:
    """Counts finished trials; off when ``enabled`` is False (then it costs nothing)."""

    def __init__(self, total: int | None, enabled: bool = True, direction: str = "minimize") -> None:
        self._bar: Any = None
        self._best: float | None = None
        self._direction = Direction.of(direction)
        self._failed = 0
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, unit="trial", dynamic_ncols=True)

    def update(self, trial: Trial) -> None:
        if self._bar is None:
            return
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            if self._best is None or self._direction.better(trial.value, self._best):
                self._best = trial.value
        self._failed += trial.state == TrialState.FAILED
        postfix = {"best": f"{self._best:.6g}" if self._best is not None else "-"}
        if self._failed:
            postfix["failed"] = str(self._failed)
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
