"""hypersweep: hyperparameter search that scales from a laptop to a cluster.

>>> import hypersweep as hs
>>> study = hs.create_study({"x": (-3.0, 3.0)}, sampler="random", seed=0)
>>> study.optimize(lambda config: config["x"] ** 2, n_trials=10, progress=False)
>>> len(study.trials)
10

The names below are imported on first use, so that ``import hypersweep`` stays cheap: worker processes, which
only run `hypersweep.objective`, then start without loading numpy, scipy, pandas or SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name -> the module that defines it (a module itself when the name is a subpackage)
_EXPORTS = {
    "Artifact": "hypersweep.trial",
    "BaseSampler": "hypersweep.samplers",
    "BaseScheduler": "hypersweep.schedulers",
    "Categorical": "hypersweep.space",
    "Constant": "hypersweep.space",
    "Decision": "hypersweep.schedulers",
    "Direction": "hypersweep.direction",
    "Distribution": "hypersweep.space",
    "Float": "hypersweep.space",
    "Int": "hypersweep.space",
    "Param": "hypersweep.space",
    "Problem": "hypersweep.problem",
    "Retention": "hypersweep.artifacts",
    "SearchExhausted": "hypersweep.samplers",
    "Space": "hypersweep.space",
    "Study": "hypersweep.study",
    "Trial": "hypersweep.trial",
    "TrialHandle": "hypersweep.objective",
    "TrialHistory": "hypersweep.history",
    "TrialPruned": "hypersweep.trial",
    "TrialState": "hypersweep.trial",
    "create_study": "hypersweep.study",
    "get_sampler": "hypersweep.samplers",
    "get_scheduler": "hypersweep.schedulers",
    "get_storage": "hypersweep.storage",
    "importances": "hypersweep.viz.importance",
    "load_study": "hypersweep.study",
}
_SUBPACKAGES = (
    "artifacts", "execution", "keras", "samplers", "schedulers", "space", "storage", "testing", "torch", "viz",
)

__all__ = [
    "Artifact",
    "BaseSampler",
    "BaseScheduler",
    "Categorical",
    "Constant",
    "Decision",
    "Direction",
    "Distribution",
    "Float",
    "Int",
    "Param",
    "Problem",
    "Retention",
    "SearchExhausted",
    "Space",
    "Study",
    "Trial",
    "TrialHandle",
    "TrialHistory",
    "TrialPruned",
    "TrialState",
    "artifacts",
    "create_study",
    "execution",
    "get_sampler",
    "get_scheduler",
    "get_storage",
    "importances",
    "keras",
    "load_study",
    "schedulers",
    "space",
    "storage",
    "torch",
    "viz",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"hypersweep.{name}")
    else:
        raise AttributeError(f"module 'hypersweep' has no attribute {name!r}")
    globals()[name] = value  # next time, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBPACKAGES})


if TYPE_CHECKING:  # for type checkers and IDEs, the same names imported eagerly
    from hypersweep import artifacts, execution, schedulers, storage
    from hypersweep.artifacts import Retention
    from hypersweep.direction import Direction
    from hypersweep.history import TrialHistory
    from hypersweep.objective import TrialHandle
    from hypersweep.problem import Problem
    from hypersweep.samplers import BaseSampler, SearchExhausted, get_sampler
    from hypersweep.schedulers import BaseScheduler, Decision, get_scheduler
    from hypersweep.space import Categorical, Constant, Distribution, Float, Int, Param, Space
    from hypersweep.storage import get_storage
    from hypersweep.study import Study, create_study, load_study
    from hypersweep.trial import Artifact, Trial, TrialPruned, TrialState
    from hypersweep.viz.importance import importances
