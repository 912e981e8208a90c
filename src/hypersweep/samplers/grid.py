"""Grid search: every point of the space's grid exactly once, also across parallel workers.

The points are enqueued in storage when the study starts, so workers claim each one atomically.
"""

from __future__ import annotations

from hypersweep._validation import check_int
from hypersweep.samplers.base import BaseSampler, SearchExhausted

__all__ = ["GridSampler"]


class GridSampler(BaseSampler):
    """All combinations of each parameter's grid values (``n_points`` per continuous range).

    ``shuffle=True`` visits them in a seeded random order (useful with ``n_trials`` < grid size).

    >>> from hypersweep.space import Space
    >>> len(GridSampler(n_points=3).plan(Space({"a": ["x", "y"], "b": (0.0, 1.0)})))
    6
    """

    multi_objective = True  # its proposals ignore the values

    adaptive = False

    def __init__(self, n_points: int = 10, shuffle: bool = False, seed: int | None = None) -> None:
        super().__init__(seed)
        self.n_points = check_int("n_points", n_points, minimum=1, fix="the grid takes n_points values per range")
        self.shuffle = shuffle

    def plan(self, space):
        points = space.grid(self.n_points)
        if self.shuffle:
            order = self.rng.permutation(len(points))
            points = [points[i] for i in order]
        return points

    def ask(self, space, trials, pending, direction):
        raise SearchExhausted("every grid point has been handed out")
