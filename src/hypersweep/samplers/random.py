"""Random search: independent uniform draws over the space (on each parameter's own scale)."""

from __future__ import annotations

from hypersweep.samplers.base import BaseSampler

__all__ = ["RandomSampler"]


class RandomSampler(BaseSampler):
    """Each config drawn independently; seeded draws are reproducible.

    >>> from hypersweep.space import Space
    >>> RandomSampler(seed=0).ask(Space({"x": (0, 9)}), [], [], "minimize")
    {'x': 6}
    """

    multi_objective = True  # its proposals ignore the values

    adaptive = False

    def ask(self, space, trials, pending, direction):
        return space.sample(self.rng)
