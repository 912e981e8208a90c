"""Early-stopping and multi-fidelity policies: successive halving, Hyperband, ASHA, median stopping.

Pure policies (no I/O, no clocks), driven per trial by the Study or per model by a `partial_fit` driver.
"""

from __future__ import annotations

from typing import Any

from hypersweep.schedulers.asha import ASHA
from hypersweep.schedulers.base import BaseScheduler, Decision, NoScheduler
from hypersweep.schedulers.brackets import Brackets
from hypersweep.schedulers.hyperband import Hyperband, HyperbandPlan, paper_plan
from hypersweep.schedulers.median import MedianStopping
from hypersweep.schedulers.successive_halving import Bracket, Rung, SuccessiveHalving, halving_bracket, rung_levels

__all__ = [
    "ASHA",
    "BaseScheduler",
    "Bracket",
    "Brackets",
    "Decision",
    "Hyperband",
    "HyperbandPlan",
    "MedianStopping",
    "NoScheduler",
    "Rung",
    "SuccessiveHalving",
    "get_scheduler",
    "halving_bracket",
    "paper_plan",
    "rung_levels",
]

_REGISTRY: dict[str, type[BaseScheduler]] = {
    "none": NoScheduler,
    "sh": SuccessiveHalving,
    "successive_halving": SuccessiveHalving,
    "hyperband": Hyperband,
    "asha": ASHA,
    "median": MedianStopping,
}


def get_scheduler(name_or_obj: str | BaseScheduler | None, **kwargs: Any) -> BaseScheduler:
    """A scheduler from its registry name (with constructor `kwargs`), or the given instance unchanged.

    Names: "none" (or None), "sh" / "successive_halving", "hyperband", "asha", "median".

    >>> get_scheduler("sh", max_resource=27)
    SuccessiveHalving(min_resource=1, max_resource=27, reduction_factor=3, min_early_stopping_rate=0)
    >>> get_scheduler(None)
    NoScheduler()
    """
    if isinstance(name_or_obj, BaseScheduler):
        if kwargs:
            raise TypeError(
                f"keyword arguments {sorted(kwargs)} are only for a scheduler given by name; "
                f"set them on the {type(name_or_obj).__name__} instance instead"
            )
        return name_or_obj
    if name_or_obj is None:
        name_or_obj = "none"
    if not isinstance(name_or_obj, str):
        raise TypeError(
            f"scheduler must be a name, a BaseScheduler or None, got {name_or_obj!r} "
            f"({type(name_or_obj).__name__})"
        )
    key = name_or_obj.strip().lower()
    if key not in _REGISTRY:
        raise ValueError(f"unknown scheduler {name_or_obj!r}; valid names: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key](**kwargs)
