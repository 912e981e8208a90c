"""Space-filling random search: the points of a scrambled Sobol sequence, so that even a handful of configs
spreads over every parameter's range instead of clumping as independent draws do."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

from hypersweep.samplers.base import BaseSampler

__all__ = ["SobolSampler"]


class SobolSampler(BaseSampler):
    """The n-th config is point n of a scrambled Sobol sequence over the unit cube (n = trials so far, running
    ones included), so a study resumed later continues the same sequence. Seeded: reproducible.

    Each parameter's values are covered evenly: with 4 configs and 4 choices, every choice appears once.

    >>> from hypersweep.space import Space
    >>> s = SobolSampler(seed=0)
    >>> sorted(s.ask(Space({"c": ["a", "b", "c", "d"]}), [None] * i, [], "minimize")["c"] for i in range(4))
    ['a', 'b', 'c', 'd']
    """

    multi_objective = True  # its proposals ignore the values

    adaptive = False

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed)
        self._scramble = seed if seed is not None else int(self.rng.integers(2**63))

    def ask(self, space, trials, pending, direction):
        dims = space.dims
        if not dims:
            return space.sample(self.rng)
        index = len(trials) + len(pending)
        engine = qmc.Sobol(d=len(dims), scramble=True, seed=np.random.default_rng(self._scramble))
        if index:
            engine.fast_forward(index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "balance properties need n = 2**m": we take the points one by one
            return space.decode(engine.random(1)[0])
