"""hypersweep: hyperparameter search that scales from a laptop to a cluster.

>>> import hypersweep as hs
>>> study = hs.create_study({"x": (-3.0, 3.0)}, sampler="random", seed=0)
>>> study.optimize(lambda config: config["x"] ** 2, n_trials=10, progress=False)
>>> len(study.trials)
10
"""

from hypersweep import artifacts, schedulers
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

__version__ = "0.2.0"

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
    "get_sampler",
    "get_scheduler",
    "get_storage",
    "load_study",
    "schedulers",
]
