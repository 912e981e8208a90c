"""`Direction`: whether a study minimizes or maximizes, and what that means for comparing values."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any

__all__ = ["Direction"]

_ALIASES = {"minimize": "minimize", "min": "minimize", "maximize": "maximize", "max": "maximize"}


class Direction(str, Enum):
    """The direction of a study. A `str` enum: ``Direction.MAXIMIZE == "maximize"`` holds.

    >>> d = Direction.of("max")
    >>> d, d.sign, d.better(2.0, 1.0), d.worst
    (<Direction.MAXIMIZE: 'maximize'>, 1, True, -inf)
    """

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    @classmethod
    def of(cls, value: Any, name: str = "direction") -> Direction:
        """Parse "minimize" / "maximize" (or "min" / "max", or a `Direction`); a clear error otherwise."""
        if isinstance(value, Direction):
            return value
        if isinstance(value, str) and value.strip().lower() in _ALIASES:
            return cls(_ALIASES[value.strip().lower()])
        from hypersweep._validation import invalid

        raise invalid(name, value, "'minimize' or 'maximize'", f"e.g. {name}='maximize' for an accuracy")

    @property
    def sign(self) -> int:
        """+1 for MAXIMIZE, -1 for MINIMIZE: ``value * sign`` is a score where higher is better."""
        return 1 if self is Direction.MAXIMIZE else -1

    @property
    def worst(self) -> float:
        """The worst possible value: +inf when minimizing, -inf when maximizing."""
        return -math.inf if self is Direction.MAXIMIZE else math.inf

    def better(self, a: float, b: float) -> bool:
        """Whether value ``a`` is strictly better than ``b``."""
        return a > b if self is Direction.MAXIMIZE else a < b

    def score(self, value: float) -> float:
        """``value`` as a "higher is better" score; NaN (a diverged run) is the worst score, -inf."""
        return -math.inf if math.isnan(value) else self.sign * value

    def __str__(self) -> str:
        return self.value
