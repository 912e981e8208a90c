"""Samplers propose configs: random, grid, TPE and Bayesian optimization ("bo").

A new sampler is one `BaseSampler` subclass plus one line in `_REGISTRY`.
"""

from __future__ import annotations

import importlib
from typing import Any

from hypersweep.samplers.base import BaseSampler, SearchExhausted, completed_xy
from hypersweep.samplers.grid import GridSampler
from hypersweep.samplers.random import RandomSampler

__all__ = [
    "BaseSampler",
    "GridSampler",
    "RandomSampler",
    "SearchExhausted",
    "available_samplers",
    "completed_xy",
    "get_sampler",
]

# name -> "module:Class" (imported on first use), plus default keyword arguments
_REGISTRY: dict[str, tuple[str, dict[str, Any]]] = {
    "random": ("hypersweep.samplers.random:RandomSampler", {}),
    "grid": ("hypersweep.samplers.grid:GridSampler", {}),
    "sobol": ("hypersweep.samplers.sobol:SobolSampler", {}),
    "tpe": ("hypersweep.samplers.tpe:TPESampler", {}),
    "bo": ("hypersweep.samplers.bo:BOSampler", {}),
    "bo-gp": ("hypersweep.samplers.bo:BOSampler", {"surrogate": "gp"}),
    "bo-rf": ("hypersweep.samplers.bo:BOSampler", {"surrogate": "rf"}),
    "bo-et": ("hypersweep.samplers.bo:BOSampler", {"surrogate": "et"}),
    "nsga2": ("hypersweep.samplers.nsga2:NSGAIISampler", {}),
    "nsga3": ("hypersweep.samplers.nsga3:NSGAIIISampler", {}),
    "mobo": ("hypersweep.samplers.mobo:MOBOSampler", {}),
    "auto": ("hypersweep.samplers.auto:AutoSampler", {}),
}


def available_samplers() -> list[str]:
    """Names `get_sampler` accepts.

    >>> "tpe" in available_samplers()
    True
    """
    return list(_REGISTRY)


def get_sampler(sampler: str | BaseSampler | None = None, seed: int | None = None, **kwargs: Any) -> BaseSampler:
    """Resolve ``sampler=``: a registered name ("random", "grid", "tpe", "bo", ...) or a sampler object.

    >>> get_sampler("random", seed=0)
    RandomSampler(seed=0)
    """
    if sampler is None:
        sampler = "auto"
    if isinstance(sampler, BaseSampler):
        return sampler
    if not isinstance(sampler, str) or sampler.lower() not in _REGISTRY:
        raise ValueError(f"sampler={sampler!r} is not known; use one of {sorted(_REGISTRY)} or a BaseSampler")
    path, defaults = _REGISTRY[sampler.lower()]
    module_name, class_name = path.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(seed=seed, **{**defaults, **kwargs})
