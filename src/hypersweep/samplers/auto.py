"""``sampler="auto"``, the default: a sampler that picks another by what it sees.

- one objective: Bayesian optimization (``"bo"``, a GP with expected improvement) while fewer than
  ``model_until`` (500) trials have completed — it learns the most from few evaluations and, fitted warm on at
  most 200 of them (the best quarter and the most recent), costs under a tenth of a second per proposal
  however many there are; it still refines where TPE handed 200 trials on stalls (measured: at 300 and 500
  evaluations continuing BO was the better on 59 of the 70 seed-task pairs that differed) — then TPE (``"tpe"``),
  a few milliseconds per proposal at 5,000 trials, which goes on from every trial so far;
- several objectives: Bayesian optimization by hypervolume improvement (``"mobo"``) while fewer than
  ``evolve_after`` trials have completed — a model learns far more from few evaluations than generations of
  evolution do (at 100 evaluations it gives the best median hypervolume of every sampler measured, Optuna's GP
  included, on ZDT1, ZDT2 and the constrained BNH) but each proposal costs a GP fit per objective — then
  NSGA-II (``"nsga2"``; NSGA-III, ``"nsga3"``, for 4 objectives or more), which goes on from everything
  completed so far (its first elite is picked from the model's trials) at a millisecond per proposal.

The choice is logged when it changes, kept in `current`, and recorded on each trial it proposes (system
attribute ``"sampler"``), so a study says which sampler proposed what.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from hypersweep._validation import check_int
from hypersweep.samplers.base import BaseSampler
from hypersweep.space import Space
from hypersweep.trial import Trial, TrialState

__all__ = ["AutoSampler"]

logger = logging.getLogger("hypersweep")


class AutoSampler(BaseSampler):
    """Delegates to Bayesian optimization, then TPE (one objective) or NSGA-II (several); see the module doc.

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0.0, 1.0)}, seed=0)
    >>> study.optimize(lambda c: (c["x"] - 0.3) ** 2, n_trials=3, progress=False)
    >>> study.sampler.current
    'bo'
    >>> study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], seed=0)
    >>> study.optimize(lambda c: (c["x"], 1 - c["x"]), n_trials=3, progress=False)
    >>> study.sampler.current, study.trials[-1].system_attrs["sampler"]
    ('mobo', 'mobo')
    """

    multi_objective = True

    def __init__(self, seed: int | None = None, model_until: int = 500, evolve_after: int = 300) -> None:
        super().__init__(seed)
        check_int("model_until", model_until, minimum=0, fix="0 starts TPE at once")
        check_int("evolve_after", evolve_after, minimum=0, fix="0 starts NSGA-II at once")
        self.model_until = model_until
        self.evolve_after = evolve_after
        self.current: str | None = None
        self._samplers: dict[str, BaseSampler] = {}

    def choose(self, space: Space, trials: Sequence[Trial], direction: Any) -> str:
        """The name of the sampler for the next proposal."""
        done = sum(1 for t in trials if t.state is TrialState.COMPLETE)
        if isinstance(direction, str):
            return "bo" if done < self.model_until else "tpe"
        if done < self.evolve_after:
            return "mobo"
        return "nsga3" if len(direction) >= 4 else "nsga2"

    def ask(self, space: Space, trials: Sequence[Trial], pending: Sequence[dict[str, Any]], direction: Any):
        name = self.choose(space, trials, direction)
        if name != self.current:
            logger.info("sampler='auto': %s from now on (%d trials so far)", name, len(trials))
            self.current = name
        sampler = self._samplers.get(name)
        if sampler is None:
            from hypersweep.samplers import get_sampler

            seed = None if self.seed is None else int(self.seed) + len(self._samplers)
            sampler = self._samplers[name] = get_sampler(name, seed=seed)
        return sampler.ask(space, trials, pending, direction)

    def __repr__(self) -> str:
        return f"AutoSampler(seed={self.seed!r}, current={self.current!r})"
