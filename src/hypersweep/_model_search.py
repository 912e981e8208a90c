"""What the deep-learning front ends (`hypersweep.torch`, `hypersweep.keras`) share: opening the study of a
model search, checking ``n_parallels`` against the storage, per-trial seeds, and running the trials.

The front ends only build and train a model for a configuration; the study samples, schedules and stores.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

from hypersweep._validation import check_int, invalid
from hypersweep.space import Space

__all__ = [
    "DEFAULT_ARTIFACTS",
    "METRICS_ATTR",
    "MODEL_SEED_ATTR",
    "best_trial",
    "check_budget",
    "check_completed",
    "direction_of",
    "directions_of",
    "front_models",
    "metric_names",
    "metric_value",
    "no_single_best",
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
#: study user attribute holding the target metrics of a search of several, in the order of its values
METRICS_ATTR = "target_metric"


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
    target_metric: str | Sequence[str],
    direction: str | Sequence[str | None] | None,
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
    ``max_epochs`` as the full budget of a trial (`scheduler_for`). A list of several metrics makes a study of
    several objectives, one per metric in that order (`directions_of`; the names are recorded as the study's
    user attribute "target_metric").

    Trials keep their checkpoints in ``artifacts``; on a database server without one, in the folder
    "hypersweep-artifacts" of the current directory (every worker process of this machine reaches it; pass
    a shared folder or an fsspec URL for workers on several machines).
    """
    import hypersweep as hs
    from hypersweep.storage import get_storage

    names = metric_names(target_metric)
    directions = directions_of(names, direction)
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
    goal = {"direction": directions[0]} if len(names) == 1 else {"directions": directions}
    study = hs.create_study(space, **goal, sampler=sampler, scheduler=scheduler_for(scheduler, max_epochs),
                            storage=backend, name=study_name, resume=resume, seed=seed, artifacts=artifacts)
    if len(names) > 1:
        _record_metrics(study, names)
    return study


def _record_metrics(study: Any, names: list[str]) -> None:
    """Record the metrics of a study of several objectives; a resumed one must name the same, in the same order
    (its values are stored by position)."""
    recorded = study.user_attrs.get(METRICS_ATTR)
    if recorded is None:
        study.set_user_attr(METRICS_ATTR, names)
    elif list(recorded) != names:
        raise invalid(
            "target_metric", names, f"the metrics study {study.name!r} was searched with, {list(recorded)!r}",
            "resume it with the same metrics in the same order, or start a new study under another study_name=",
        )


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


def metric_names(target_metric: Any) -> list[str]:
    """The metrics a search optimizes: ``[target_metric]`` for one name, the names of a list or tuple of several
    (one objective each, in that order; a list of one is one name).

    >>> metric_names("val_loss"), metric_names(["val_loss", "val_acc"])
    (['val_loss'], ['val_loss', 'val_acc'])
    """
    names = list(target_metric) if isinstance(target_metric, (list, tuple)) else [target_metric]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise invalid(
            "target_metric", target_metric, "the name of a metric the model logs, or a list of such names",
            'e.g. target_metric="val_loss", or target_metric=["val_loss", "val_acc"] for two objectives',
        )
    if len(set(names)) < len(names):
        raise invalid("target_metric", target_metric, "a list of distinct metric names", "name each metric once")
    return names


def metric_value(logged: Any, metrics: list[str]) -> float | tuple[float, ...] | None:
    """What a trial reports from the metrics a framework ``logged`` (a mapping of name -> number or tensor): the
    one metric as a float, several as a tuple in their order, or None while one of them is missing.

    >>> metric_value({"val_loss": 0.5, "val_acc": 0.8}, ["val_acc", "val_loss"]), metric_value({}, ["val_loss"])
    ((0.8, 0.5), None)
    """
    found = [logged.get(m) for m in metrics]
    if any(v is None for v in found):
        return None
    values = tuple(float(v) for v in found)
    return values[0] if len(values) == 1 else values


def front_models(study: Any, model_of: Callable[[int], Any]) -> list[Any] | None:
    """The trained models of the Pareto front of a search of several metrics (in the order of
    ``study.best_trials``; an error when no trial completed), or None for a search of one."""
    if study.n_objectives == 1:
        return None
    check_completed(study)
    return [model_of(t.number) for t in study.best_trials]


def _implied(target_metric: str) -> str | None:
    """The direction a metric's name implies, or None when it does not say."""
    words = target_metric.lower().replace("-", "_").replace("/", "_").split("_")
    if any(w in _MINIMIZE_WORDS for w in words):
        return "minimize"
    if any(w in _MAXIMIZE_WORDS for w in words):
        return "maximize"
    return None


def direction_of(target_metric: str, direction: str | None) -> str:
    """``direction``, or the one the metric's name implies ("val_loss" -> minimize, "val_acc" -> maximize)."""
    if direction is not None:
        return direction
    implied = _implied(target_metric)
    if implied is not None:
        return implied
    raise invalid(
        "direction", direction, '"minimize" or "maximize"',
        f"the name target_metric={target_metric!r} does not say whether higher is better; pass direction=",
    )


def directions_of(target_metric: Any, direction: Any) -> list[str]:
    """One direction per metric of ``target_metric`` (`metric_names`): ``direction`` is a list of as many
    ("minimize" / "maximize", or None for the one the name implies), or None (each implied by its name).

    >>> directions_of(["val_loss", "val_acc"], None), directions_of(["val_loss", "speed"], [None, "maximize"])
    (['minimize', 'maximize'], ['minimize', 'maximize'])
    >>> directions_of("val_acc", None)
    ['maximize']
    """
    from hypersweep.direction import Direction

    names = metric_names(target_metric)
    n = len(names)
    if not isinstance(direction, (list, tuple)):
        if n == 1:
            return [direction_of(names[0], direction)]
        if direction is not None:
            raise invalid(
                "direction", direction, f"a list of {n} directions, one per metric of target_metric={names!r}, or "
                "None", f"e.g. direction={_example(names)!r}, or direction=None to imply each from its metric's name",
            )
        direction = [None] * n
    elif len(direction) != n:
        raise invalid(
            "direction", direction, f"a list of {n} direction(s), one per metric of target_metric={names!r}",
            f"e.g. direction={_example(names)!r}, or direction=None to imply each from its metric's name",
        )
    out = []
    for i, (name, one) in enumerate(zip(names, direction, strict=True)):
        if one is not None:
            out.append(Direction.of(one, f"direction[{i}]").value)
        elif _implied(name) is not None:
            out.append(_implied(name))
        else:
            raise invalid(
                "direction", direction, '"minimize" or "maximize" for each metric',
                f"the name target_metric[{i}]={name!r} does not say whether higher is better; pass "
                f"direction={_example(names)!r} with the right one for it",
            )
    return out


def _example(names: list[str]) -> list[str]:
    """A ``direction=`` list for ``names`` to show in an error (the implied ones, "minimize" where none is)."""
    return [_implied(name) or "minimize" for name in names]


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


def check_completed(study: Any) -> None:
    """Nothing when some trial of the study completed; else an error that says why none did."""
    trials = study.trials
    if any(t.state.value == "complete" for t in trials):
        return
    failed = [t for t in trials if t.state.value == "failed"]
    why = f"; the first failure: {failed[0].fail_reason.strip()}" if failed else ""
    raise RuntimeError(f"no trial of study {study.name!r} completed ({len(trials)} trials, {len(failed)} failed){why}")


def best_trial(study: Any, front: str = "study.best_trials", load: str = "model_of(trial.number)") -> Any:
    """The study's best complete trial, or an error that says why there is none: no trial completed, or the
    study has several objectives (`no_single_best`, naming ``front`` and ``load`` as what to use instead)."""
    check_completed(study)
    if study.n_objectives > 1:
        raise no_single_best(study, front, load)
    return study.best_trial


def no_single_best(study: Any, front: str = "study.best_trials",
                   load: str = "model_of(trial.number)") -> ValueError:
    """The error for asking a search of several target metrics for its one best trial or model."""
    names = study.user_attrs.get(METRICS_ATTR) or [d.value for d in study.directions]
    return ValueError(
        f"the search of study {study.name!r} has {study.n_objectives} target metrics ({', '.join(names)}), so no "
        f"single best trial or model: its best trials are the Pareto front, {front} (those no other trial beats on "
        f"every metric; trial.values in the order of target_metric); pick one and load its trained model with {load}"
    )
