"""scikit-learn on Dask: multi-fidelity searches over ``partial_fit``, distributed grid and random search, and
the `Incremental` / `ParallelPostFit` wrappers for data larger than memory, all on hypersweep's engine.

>>> from hypersweep.sklearn import HyperbandSearchCV
>>> from sklearn.linear_model import SGDClassifier
>>> HyperbandSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, max_iter=27).metadata["n_models"]
49

Names are imported on first use, so ``import hypersweep.sklearn`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module that holds it
_HOMES = {
    "HyperbandSearchCV": "incremental",
    "SuccessiveHalvingSearchCV": "incremental",
    "IncrementalSearchCV": "incremental",
    "InverseDecaySearchCV": "incremental",
    "GridSearchCV": "grid_search",
    "RandomizedSearchCV": "grid_search",
    "Incremental": "wrappers",
    "ParallelPostFit": "wrappers",
    "train_test_split": "model_selection",
    "make_classification": "datasets",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'hypersweep.sklearn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hypersweep.sklearn.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
