"""`Trainer`: a Lightning Trainer that also searches (`search`, `search_summary`, `model_of`)."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import lightning as L
import torch

from hypersweep._model_search import (
    MODEL_SEED_ATTR,
    best_trial,
    check_budget,
    front_models,
    metric_names,
    metric_value,
    open_study,
    run_trials,
    threads_per_trial,
    trial_seed,
)
from hypersweep._validation import check_int, invalid
from hypersweep.deferred import Deferred

__all__ = ["Trainer"]

#: Lightning's chatter at every Trainer made ("GPU available: ...", tips), quiet while trials run
_NOISY_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning.pytorch.utilities.rank_zero",
                  "lightning.fabric.utilities.rank_zero")
#: Trainer arguments the search sets for its trials (progress shows one bar for the whole search)
_TRIAL_DEFAULTS = {"enable_progress_bar": False, "enable_model_summary": False, "enable_checkpointing": False}


class Trainer(L.Trainer):
    """A `lightning.Trainer` with a hyperparameter search: ``search`` trains one fresh Trainer per trial
    (made with this Trainer's arguments), ``search_summary`` is the study, ``fit(best)`` trains on as usual.

    Each trial reports ``target_metric`` (what the model logs with ``self.log``) after every epoch, so the
    ``scheduler`` ("asha", "hyperband", "median", ...) can stop bad trials early, and saves a checkpoint
    (model, optimizer, loops) every epoch: a trial cut off by a crash resumes at its last epoch, and the
    best trial's weights are there when the search ends, with no retraining.

    >>> import hypersweep as hs
    >>> trainer = hs.torch.Trainer(max_epochs=3)
    >>> trainer.max_epochs
    3
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._trial_args = args
        # Lightning adds its own callbacks to the list it is given: the trials' Trainers get the user's own
        self._trial_kwargs = {k: list(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        self._study: Any = None
        self._model: Deferred | None = None
        super().__init__(*args, **kwargs)

    # --- the search ----------------------------------------------------------------------------------------
    def search(
        self,
        model: Any,
        train_dataloaders: Any = None,
        val_dataloaders: Any = None,
        datamodule: Any = None,
        *,
        target_metric: str | Sequence[str],
        direction: str | Sequence[str | None] | None = None,
        n_trials: int | None = None,
        timeout: float | None = None,
        max_epochs: int | None = None,
        sampler: Any = "auto",
        scheduler: Any = None,
        storage: Any = None,
        study_name: str | None = None,
        resume: bool = False,
        n_parallels: int = 1,
        artifacts: Any = None,
        seed: int | None = None,
        progress: bool = True,
    ) -> L.LightningModule | list[L.LightningModule]:
        """Search the spaces in ``model`` and return the best trial's trained model (weights loaded).

        ``model`` is a `searchable` LightningModule called with spaces. ``target_metric`` is a metric the
        model logs (``self.log("val_loss", ...)``); ``direction`` is implied by its name when it says
        (loss, error -> "minimize"; acc, f1, auc -> "maximize"). Each trial trains for ``max_epochs`` (the
        search's budget; default this Trainer's own). ``n_trials`` new trials run (0 with ``resume=True``
        reads the earlier search's best), or as many as ``timeout`` seconds allow. ``storage`` (a URL such as
        "sqlite:///hpo.db") + ``study_name`` keep the study; ``resume=True`` continues it, every earlier
        trial informing the sampler and an interrupted one resuming at its last epoch. ``n_parallels=N``
        trains N trials at once in worker processes, on a PostgreSQL or MySQL study. Checkpoints go to
        ``artifacts`` (a folder or fsspec URL; by default beside a SQLite file, a temporary folder in memory,
        "./hypersweep-artifacts" for a database server). ``seed`` fixes each
        trial's seed (recorded as the trial's user attribute "seed"). ``sampler`` is any of the engine's
        (default "auto", as in `hypersweep.create_study`: Bayesian optimization while trials are few, then TPE);
        ``scheduler`` ("asha", "hyperband", "median" or a scheduler object) prunes by the epochs' reports.

        Several objectives: ``target_metric=["val_loss", "val_acc"]`` (``direction`` None, each implied by its
        name, or a list such as ``["minimize", "maximize"]``); every epoch reports both, the schedulers prune by
        Pareto front, and ``search`` returns the trained models of the front (a list, in the order of
        ``search_summary().best_trials``); `model_of` loads any trial's.
        """
        if not isinstance(model, Deferred):
            raise invalid(
                "model", model, "a searchable model called with search spaces",
                "decorate the class with @hypersweep.torch.searchable() and pass space.Int / space.Real / "
                "space.Categorical as keyword arguments, e.g. MLP(hidden=space.Categorical(16, 32))",
            )
        metrics = metric_names(target_metric)
        check_budget(n_trials, timeout)
        epochs = check_int("max_epochs", self.max_epochs if max_epochs is None else max_epochs, minimum=1,
                           fix="each trial trains for at least one epoch; set max_epochs= here or on the Trainer")
        study = open_study(
            model.space(), target_metric=metrics, direction=direction, max_epochs=epochs, sampler=sampler,
            scheduler=scheduler, storage=storage, study_name=study_name, resume=resume, seed=seed,
            n_parallels=n_parallels, artifacts=artifacts,
        )
        self._study, self._model = study, model
        objective = _TrialRun(
            model, self._trial_args, {**self._trial_kwargs, "max_epochs": epochs}, metrics, seed,
            (train_dataloaders, val_dataloaders, datamodule), threads=threads_per_trial(n_parallels),
        )
        with _quiet():
            run_trials(study, objective, n_trials=n_trials, timeout=timeout, n_parallels=n_parallels,
                       progress=progress)
        front = front_models(study, self.model_of)
        return front if front is not None else self.model_of(best_trial(study).number)

    def search_summary(self) -> Any:
        """The study of the last `search`: ``trials_dataframe()``, ``best_trial``, ``best_config``, ...; with
        several target metrics, ``directions`` and ``best_trials`` (the Pareto front), each trial's ``values`` in
        the order of ``target_metric`` (the study's user attribute "target_metric")."""
        if self._study is None:
            raise RuntimeError("search_summary() needs a search first: call trainer.search(model, ...)")
        return self._study

    def model_of(self, trial_number: int) -> L.LightningModule:
        """The trained model of trial ``trial_number`` of the last search, from its latest checkpoint."""
        if self._study is None or self._model is None:
            raise RuntimeError("model_of() needs a search first: call trainer.search(model, ...)")
        trial = self._study.trial(trial_number)
        if trial.checkpoint is None:
            raise LookupError(
                f"trial {trial_number} has no checkpoint (state {trial.state.value}): it ended before its first "
                "epoch, or its checkpoints were deleted by the study's retention policy"
            )
        model = self._model.build(trial.config)
        state = torch.load(trial.load_checkpoint(), map_location="cpu", weights_only=False)
        model.load_state_dict(state["state_dict"])
        return model


class _TrialRun:
    """The objective of a Lightning search: build the trial's model, train it, report every epoch."""

    def __init__(self, model: Deferred, args: tuple, kwargs: dict[str, Any], metrics: list[str],
                 seed: int | None, data: tuple[Any, Any, Any], threads: int | None) -> None:
        self.model, self.args, self.kwargs = model, args, kwargs
        self.metrics, self.seed, self.data, self.threads = metrics, seed, data, threads

    def __call__(self, config: dict[str, Any], trial: Any) -> float | tuple[float, ...] | None:
        seed = trial_seed(self.seed, trial.number)
        trial.set_user_attr(MODEL_SEED_ATTR, seed)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        L.seed_everything(seed, workers=True, verbose=False)
        model = self.model.build(config)
        reporter = _Reporter(trial, self.metrics)
        kwargs = {**_TRIAL_DEFAULTS, **self.kwargs}
        kwargs["callbacks"] = [*copy.deepcopy(_as_list(kwargs.get("callbacks"))), reporter]
        kwargs["logger"] = _trial_loggers(kwargs.get("logger", False), trial.number)
        train, val, datamodule = self.data
        with _quiet(), tempfile.TemporaryDirectory(prefix="hypersweep-ckpt-") as scratch:
            reporter.scratch = scratch
            trainer = L.Trainer(*self.args, **kwargs)
            resume_from = trial.load_checkpoint() if trial.resumed else None
            if datamodule is not None:
                trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from)
            else:
                trainer.fit(model, train_dataloaders=train, val_dataloaders=val, ckpt_path=resume_from)
        if reporter.value is None:
            if trial.resumed and trial.last_value is not None:  # it had finished every epoch before the crash
                return trial.last_value
            logged = sorted(trainer.callback_metrics)
            missing = [m for m in self.metrics if m not in logged] or self.metrics
            name = repr(missing[0]) if len(self.metrics) == 1 else f"{missing[0]!r} (of {self.metrics!r})"
            raise KeyError(
                f"target_metric={name} was never logged; the model logs {logged}: pass one of "
                "those, or log it with self.log(...) in training_step / validation_step"
            )
        return reporter.value


class _Reporter(L.Callback):
    """After each training epoch (validation included): report the target metric (a tuple of them, in their
    order, for several), checkpoint, and stop the fit when the scheduler says so.

    Its last value is part of the checkpoint, so a resumed trial with no epoch left returns it."""

    def __init__(self, trial: Any, metrics: list[str]) -> None:
        self.trial, self.metrics = trial, metrics
        self.value: float | tuple[float, ...] | None = None
        self.scratch = ""

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.value = state_dict.get("value")

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = metric_value(trainer.callback_metrics, self.metrics)
        if value is None:
            return
        self.value = value
        epoch = trainer.current_epoch + 1
        self.trial.report(self.value, step=epoch)
        path = os.path.join(self.scratch, f"epoch-{epoch}.ckpt")
        trainer.save_checkpoint(path)
        self.trial.save_checkpoint(path, step=epoch)
        os.remove(path)
        if self.trial.should_stop():
            trainer.should_stop = True


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _trial_loggers(logger: Any, number: int) -> Any:
    """The user's loggers again for one trial, each writing its own version ("trial_7")."""
    if isinstance(logger, bool) or logger is None:
        return False if logger is None else logger and _default_logger(number)
    loggers = []
    for one in _as_list(logger):
        one = copy.copy(one)
        if hasattr(one, "_version"):
            one._version = f"trial_{number}"
        if hasattr(one, "_experiment"):
            one._experiment = None
        loggers.append(one)
    return loggers


def _default_logger(number: int) -> Any:
    from lightning.pytorch.loggers import CSVLogger

    return CSVLogger(save_dir=".", name="lightning_logs", version=f"trial_{number}")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [one.level for one in loggers]
    for one in loggers:
        one.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for one, level in zip(loggers, levels, strict=True):
            one.setLevel(level)
