"""`search` for plain PyTorch: the user's own training loop, with one `EpochTrial.report` call per epoch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch

from hypersweep._model_search import (
    MODEL_SEED_ATTR,
    best_trial,
    check_budget,
    check_completed,
    metric_names,
    no_single_best,
    open_study,
    run_trials,
    threads_per_trial,
    trial_seed,
)
from hypersweep._validation import check_int, invalid
from hypersweep.deferred import Deferred

__all__ = ["EpochTrial", "SearchResult", "search"]


class EpochTrial:
    """What a plain-PyTorch ``train(model, trial)`` function gets: the configuration, the epochs to run
    and ``report``.

    ``for epoch in trial.epochs(optimizer):`` yields the epochs left (after a resumed trial's checkpoint,
    whose model and optimizer state it loads first) and ends early when the scheduler stops the trial;
    ``trial.report(value)`` records the epoch's metric and checkpoints the model (and optimizer). A search of
    several ``metrics`` reports one value per metric: ``trial.report((loss, acc))`` in their order, or
    ``trial.report({"val_loss": loss, "val_acc": acc})``.
    """

    def __init__(self, handle: Any, model: torch.nn.Module, max_epochs: int, seed: int,
                 metrics: Sequence[str] = ("val_loss",)) -> None:
        self._handle = handle
        self.model = model
        self.max_epochs = max_epochs
        self.seed = seed
        self.metrics = list(metrics)
        self.epoch = 0
        self.value: float | tuple[float, ...] | None = None
        self._optimizer: Any = None

    @property
    def config(self) -> dict[str, Any]:
        return self._handle.config

    @property
    def number(self) -> int:
        return self._handle.number

    def epochs(self, optimizer: Any = None) -> Iterator[int]:
        """Epoch numbers 1..max_epochs still to run; restores a resumed trial's model and ``optimizer``."""
        self._optimizer = optimizer
        start = 0
        if self._handle.resumed:
            state = self._handle.load_checkpoint()
            self.model.load_state_dict(state["model"])
            if optimizer is not None and state.get("optimizer") is not None:
                optimizer.load_state_dict(state["optimizer"])
            start, self.value = int(state["epoch"]), state.get("value", self._handle.last_value)
        for epoch in range(start + 1, self.max_epochs + 1):
            self.epoch = epoch
            yield epoch
            if self._handle.should_stop():
                return

    def report(self, value: float | Sequence[float] | Mapping[str, float]) -> None:
        """Record ``value`` (the target metric; with several, a tuple in their order or a dict by name) for the
        current epoch and checkpoint the model."""
        if self.epoch == 0:
            raise RuntimeError("trial.report(value) belongs inside `for epoch in trial.epochs(optimizer):`")
        self.value = self._values(value)
        self._handle.report(self.value, step=self.epoch)
        optimizer = None if self._optimizer is None else self._optimizer.state_dict()
        self._handle.save_checkpoint({"model": self.model.state_dict(), "optimizer": optimizer,
                                      "epoch": self.epoch, "value": self.value}, step=self.epoch)

    def _values(self, value: Any) -> float | tuple[float, ...]:
        """A report as the study takes it: one float, or a tuple with one per metric, in their order."""
        if isinstance(value, Mapping):
            missing = [m for m in self.metrics if m not in value]
            if missing:
                raise KeyError(
                    f"trial.report: target_metric {missing[0]!r} is not among the reported {sorted(value)}; report "
                    f"one value per metric of target_metric={self.metrics!r}"
                )
            value = [value[m] for m in self.metrics]
        elif getattr(value, "ndim", 0) == 1:  # a 1-d array or tensor
            value = list(value)
        if len(self.metrics) == 1:
            if isinstance(value, (list, tuple)) and len(value) == 1:
                value = value[0]
            return float(value)
        if not isinstance(value, (list, tuple)) or len(value) != len(self.metrics):
            raise ValueError(
                f"trial.report: the search has {len(self.metrics)} target metrics {self.metrics!r}: report one "
                f"value per metric, e.g. trial.report((loss, accuracy)) or a dict by name, got {value!r:.80}"
            )
        return tuple(float(v) for v in value)

    def should_stop(self) -> bool:
        """True once the scheduler stopped (or paused) this trial."""
        return self._handle.should_stop()


class SearchResult:
    """What `search` returns: ``model`` (the best trial's trained model), ``study``, and `model_of`.

    A search of several target metrics has no single best model: ``study.best_trials`` is the Pareto front,
    and ``model_of(trial.number)`` the trained model of the one you pick (``model`` says so).
    """

    _FRONT, _LOAD = "result.study.best_trials", "result.model_of(trial.number)"

    def __init__(self, study: Any, model: Deferred) -> None:
        self.study = study
        self._model = model
        check_completed(study)
        several = study.n_objectives > 1
        self._best = None if several else self.model_of(best_trial(study, self._FRONT, self._LOAD).number)

    @property
    def model(self) -> torch.nn.Module:
        """The best trial's trained model (an error for a search of several target metrics: pick from the front)."""
        if self._best is None:
            raise no_single_best(self.study, self._FRONT, self._LOAD)
        return self._best

    def model_of(self, trial_number: int) -> torch.nn.Module:
        """The trained model of trial ``trial_number``, from its latest checkpoint."""
        trial = self.study.trial(trial_number)
        if trial.checkpoint is None:
            raise LookupError(f"trial {trial_number} has no checkpoint (state {trial.state.value})")
        model = self._model.build(trial.config)
        model.load_state_dict(trial.load_checkpoint()["model"])
        return model


def search(
    model: Deferred,
    train: Callable[[torch.nn.Module, EpochTrial], Any],
    *,
    max_epochs: int,
    target_metric: str | Sequence[str] = "val_loss",
    direction: str | Sequence[str | None] | None = None,
    n_trials: int | None = None,
    timeout: float | None = None,
    sampler: Any = "auto",
    scheduler: Any = None,
    storage: Any = None,
    study_name: str | None = None,
    resume: bool = False,
    n_parallels: int = 1,
    artifacts: Any = None,
    seed: int | None = None,
    progress: bool = True,
) -> SearchResult:
    """Search a `searchable` plain-PyTorch model with your own loop: ``train(model, trial)``.

    >>> import torch, hypersweep as hs
    >>> from hypersweep import space
    >>> @hs.torch.searchable()
    ... class Line(torch.nn.Module):
    ...     def __init__(self, init=0.0):
    ...         super().__init__()
    ...         self.w = torch.nn.Parameter(torch.tensor(float(init)))
    >>> def train(model, trial):
    ...     opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ...     for epoch in trial.epochs(opt):
    ...         loss = (model.w - 3.0) ** 2
    ...         opt.zero_grad(); loss.backward(); opt.step()
    ...         trial.report(loss.item())
    >>> result = hs.torch.search(Line(init=space.Real(-5.0, 5.0)), train, max_epochs=5, n_trials=4, seed=0,
    ...                          progress=False)
    >>> len(result.study.trials), result.model.w.item() == result.model_of(result.study.best_trial.number).w.item()
    (4, True)

    ``target_metric`` names what ``report`` records (its name implies ``direction``: loss -> minimize); the
    other arguments are those of `Trainer.search`. Several objectives: ``target_metric=["val_loss",
    "val_acc"]`` (``direction`` None or one per metric), ``trial.report((loss, acc))`` each epoch; then
    ``result.study.best_trials`` is the Pareto front and ``result.model_of(n)`` loads the model you pick.
    """
    if not isinstance(model, Deferred):
        raise invalid("model", model, "a searchable model called with search spaces",
                      "decorate the class with @hypersweep.torch.searchable() and pass spaces by keyword")
    if not callable(train):
        raise invalid("train", train, "a function train(model, trial)",
                      "loop `for epoch in trial.epochs(optimizer):` and call trial.report(value) each epoch")
    epochs = check_int("max_epochs", max_epochs, minimum=1, fix="each trial trains for at least one epoch")
    metrics = metric_names(target_metric)
    check_budget(n_trials, timeout)
    study = open_study(model.space(), target_metric=metrics, direction=direction, max_epochs=epochs,
                       sampler=sampler, scheduler=scheduler, storage=storage, study_name=study_name, resume=resume,
                       seed=seed, n_parallels=n_parallels, artifacts=artifacts)
    objective = _LoopRun(model, train, epochs, seed, threads_per_trial(n_parallels), metrics)
    run_trials(study, objective, n_trials=n_trials, timeout=timeout, n_parallels=n_parallels, progress=progress)
    return SearchResult(study, model)


class _LoopRun:
    def __init__(self, model: Deferred, train: Callable[..., Any], epochs: int, seed: int | None,
                 threads: int | None, metrics: list[str]) -> None:
        self.model, self.train, self.epochs, self.seed, self.threads = model, train, epochs, seed, threads
        self.metrics = metrics

    def __call__(self, config: dict[str, Any], handle: Any) -> float | tuple[float, ...] | None:
        seed = trial_seed(self.seed, handle.number)
        handle.set_user_attr(MODEL_SEED_ATTR, seed)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        torch.manual_seed(seed)
        trial = EpochTrial(handle, self.model.build(config), self.epochs, seed, self.metrics)
        result = self.train(trial.model, trial)
        return trial.value if result is None else result
