"""What the deep-learning front ends (`hypersweep.torch`, `hypersweep.keras`) share: opening the study of a
model search, checking ``n_parallels`` against the storage, per-trial seeds, and running the trials.

The front ends only build and train a model for a configuration; the study samples, schedules and stores.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from hypersweep._validation import check_int, invalid
from hypersweep.space import Space

__all__ = [
    "DEFAULT_ARTIFACTS",
    "MODEL_SEED_ATTR",
    "best_trial",
    "check_budget",
    "direction_of",
    "open_study",
    "require",
    "run_trials",
    "scheduler_for",
    "threads_per_trial",
    "trial_seed",
]

#: schedulers that need to know how many epochs a full trial runs
_LADDERS = ("asha", "sh", "successive_halving", "hyperband")
_MINIMIZE_WORDS = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity")
_MAXIMIZE_WORDS = ("acc", "accuracy", "f1", "auc", "precision", "recall", "r2", "score", "iou", "map")

#: where trials on a database server keep their checkpoints when the search names no artifact store
DEFAULT_ARTIFACTS = "hypersweep-artifacts"
#: user attribute holding the seed a trial was trained with (reproduce it with this seed)
MODEL_SEED_ATTR = "seed"


def require(module: str, extra: str) -> Any:
    """Import ``module``, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"this part of hypersweep needs {module!r}, which is not installed ({exc}); install it with "
            f"pip install 'hypersweep[{extra}]'"
        ) from exc


def open_study(
    space: Space,
    *,
    target_metric: str,
    direction: str | None,
    max_epochs: int,
    sampler: Any,
    scheduler: Any,
    storage: Any,
    study_name: str | None,
    resume: bool,
    seed: int | None,
    n_parallels: int,
    artifacts: Any = None,
) -> Any:
    """The study of a model search: a new one, or the one named ``study_name`` continued (``resume=True``).

    ``direction`` None is implied by ``target_metric`` (`direction_of`); a scheduler named by a string gets
    ``max_epochs`` as the full budget of a trial (`scheduler_for`).

    Trials keep their checkpoints in ``artifacts``; on a database server without one, in the folder
    "hypersweep-artifacts" of the current directory (every worker process of this machine reaches it; pass
    a shared folder or an fsspec URL for workers on several machines).
    """
    import hypersweep as hs
    from hypersweep.storage import get_storage

    check_int("n_parallels", n_parallels, minimum=1, fix="n_parallels=1 trains one trial at a time")
    if len(space) == 0:
        raise ValueError(
            "the model holds no search space: pass space.Int / space.Real / space.Categorical as keyword "
            "arguments of the model (or of its layers, optimizer, or search(batch_size=...))"
        )
    backend = get_storage(storage)
    if n_parallels > 1 and not backend.supports_multiple_writers:
        raise invalid(
            "n_parallels", n_parallels, "1 with this storage",
            "several worker processes write one study at once, which SQLite and in-memory storage cannot "
            "share; pass storage='postgresql://user@host/db' or 'mysql+pymysql://user@host/db' (a database "
            "server), or n_parallels=1",
        )
    if artifacts is None and backend.supports_multiple_writers and not _recorded_artifacts(backend, study_name):
        artifacts = os.path.abspath(DEFAULT_ARTIFACTS)
    return hs.create_study(space, direction=direction_of(target_metric, direction), sampler=sampler,
                           scheduler=scheduler_for(scheduler, max_epochs), storage=backend, name=study_name,
                           resume=resume, seed=seed, artifacts=artifacts)


def _recorded_artifacts(backend: Any, study_name: str | None) -> bool:
    """True when the study ``study_name`` exists and has an artifact store of its own (recorded at creation)."""
    import hypersweep as hs
    from hypersweep.storage import StudyNotFound

    if study_name is None:
        return False
    try:
        return hs.load_study(study_name, backend).artifacts is not None
    except StudyNotFound:
        return False


def direction_of(target_metric: str, direction: str | None) -> str:
    """``direction``, or the one the metric's name implies ("val_loss" -> minimize, "val_acc" -> maximize)."""
    if direction is not None:
        return direction
    words = target_metric.lower().replace("-", "_").replace("/", "_").split("_")
    if any(w in _MINIMIZE_WORDS for w in words):
        return "minimize"
    if any(w in _MAXIMIZE_WORDS for w in words):
        return "maximize"
    raise invalid(
        "direction", direction, '"minimize" or "maximize"',
        f"the name target_metric={target_metric!r} does not say whether higher is better; pass direction=",
    )


def scheduler_for(scheduler: Any, max_epochs: int) -> Any:
    """A scheduler given by name gets ``max_epochs`` as its full budget (a trial's epochs are its steps)."""
    from hypersweep.schedulers import get_scheduler

    if isinstance(scheduler, str) and scheduler.strip().lower() in _LADDERS:
        return get_scheduler(scheduler, max_resource=max_epochs)
    return get_scheduler(scheduler)


def check_budget(n_trials: int | None, timeout: float | None) -> None:
    """A search needs ``n_trials`` or a ``timeout``."""
    if n_trials is None and timeout is None:
        raise invalid("n_trials", n_trials, "an int >= 0 when there is no timeout",
                      "say how many trials to run (n_trials=30) or for how long (timeout=600 seconds)")


def threads_per_trial(n_parallels: int) -> int | None:
    """Threads for each of ``n_parallels`` trial processes sharing this machine (None: the framework's own)."""
    if n_parallels == 1:
        return None
    return max(1, (os.cpu_count() or 1) // n_parallels)


def trial_seed(seed: int | None, number: int) -> int:
    """The seed trial ``number`` trains with: distinct per trial, fixed by the search's ``seed``."""
    return (0 if seed is None else int(seed)) * 100_003 + int(number)


def run_trials(study: Any, objective: Callable[..., Any], *, n_trials: int | None, timeout: float | None,
               n_parallels: int, progress: bool) -> None:
    """Run ``objective(config, trial)`` on ``n_trials`` new trials, ``n_parallels`` worker processes at once."""
    if n_trials == 0:
        return
    executor = "serial" if n_parallels == 1 else "process"
    study.optimize(objective, n_trials=n_trials, timeout=timeout, n_workers=n_parallels,
                   executor=executor, progress=progress)


def best_trial(study: Any) -> Any:
    """The study's best complete trial, or an error that says why there is none."""
    if any(t.state.value == "complete" for t in study.trials):
        return study.best_trial
    failed = [t for t in study.trials if t.state.value == "failed"]
    why = f"; the first failure: {failed[0].fail_reason.strip()}" if failed else ""
    raise RuntimeError(
        f"no trial of study {study.name!r} completed ({len(study.trials)} trials, {len(failed)} failed){why}"
    )
