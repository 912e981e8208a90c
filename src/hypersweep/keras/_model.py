"""`SearchableKerasModel`: a Keras model whose definition, optimizer or batch size hold search spaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from hypersweep._model_search import (
    MODEL_SEED_ATTR,
    best_trial,
    check_budget,
    front_models,
    metric_names,
    metric_value,
    no_single_best,
    open_study,
    run_trials,
    threads_per_trial,
    trial_seed,
)
from hypersweep._validation import check_int
from hypersweep.deferred import Deferred, build, collect_space, holds_space
from hypersweep.keras._parts import label_layers

__all__ = ["Model", "SearchableKerasModel", "Sequential", "searchable"]


class SearchableKerasModel:
    """What `Sequential`, `Model` and `searchable` classes return: a model to ``compile``, ``search``,
    ``search_summary`` and then ``fit`` / ``evaluate`` / ``predict`` like any Keras model.

    Before a search it stands for the definition; after it, for the best trial's trained model (``search``
    also returns that model), so ``fit`` trains the best configuration on from its trained weights. After a
    search of several target metrics there is no single best: pick a trial of the Pareto front
    (``search_summary().best_trials``) and use its model, ``model_of(trial.number)``.
    """

    _FRONT, _LOAD = "model.search_summary().best_trials", "model.model_of(trial.number)"

    def __init__(self, definition: Deferred) -> None:
        self._definition = definition
        self._compile: dict[str, Any] = {}
        self._study: Any = None
        self._model: Any = None  # the best trained model after a search, or the model of a plain definition
        self._root: list[Any] = [definition, {}, {}]
        self._sample: Any = None
        label_layers(definition)

    def compile(self, **kwargs: Any) -> None:
        """Keras ``compile`` arguments for every trial; ``optimizer=optimizers.Adam(learning_rate=space...)``."""
        self._compile = kwargs
        label_layers(kwargs)

    # --- the search ----------------------------------------------------------------------------------------
    def search(
        self,
        n_trials: int | None = None,
        target_metric: str | Sequence[str] = "val_loss",
        direction: str | Sequence[str | None] | None = None,
        *,
        x: Any = None,
        y: Any = None,
        epochs: int = 1,
        batch_size: Any = None,
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
        **fit_kwargs: Any,
    ) -> Any:
        """Search the spaces of the definition, the compile arguments and ``batch_size``; return the best
        trial's trained Keras model (weights as trained, no retraining).

        Each trial is ``fit(x, y, epochs=epochs, batch_size=..., **fit_kwargs)`` (``validation_split`` or
        ``validation_data`` among them) and reports ``target_metric`` (a key of Keras's epoch logs, such as
        "val_accuracy") after every epoch, so a ``scheduler`` ("asha", "hyperband", "median") stops bad trials
        early. ``direction`` is implied by the metric's name when it says (loss -> minimize, accuracy ->
        maximize). The other arguments are those of ``hypersweep.torch.Trainer.search``: storage, resume,
        ``n_parallels`` worker processes on PostgreSQL / MySQL, and ``seed`` (each trial's own is recorded).

        Several objectives: ``target_metric=["val_loss", "val_accuracy"]`` (``direction`` None, each implied by
        its name, or one per metric); every epoch reports both, and ``search`` returns the trained models of the
        Pareto front (a list, in the order of ``search_summary().best_trials``); `model_of` loads any trial's.
        """
        if not self._compile:
            raise RuntimeError("search() needs compile(...) first: the loss and optimizer of every trial")
        check_budget(n_trials, timeout)
        epochs = check_int("epochs", epochs, minimum=1, fix="each trial trains for at least one epoch")
        metrics = metric_names(target_metric)
        self._root = [self._definition, self._compile, {"batch_size": batch_size}]
        self._sample = _sample_of(x)
        study = open_study(
            collect_space(self._root), target_metric=metrics, direction=direction, max_epochs=epochs,
            sampler=sampler, scheduler=scheduler, storage=storage, study_name=study_name, resume=resume, seed=seed,
            n_parallels=n_parallels, artifacts=artifacts,
        )
        self._study, self._model = study, None
        objective = _TrialRun(self._root, x, y, epochs, metrics, seed, self._sample, fit_kwargs,
                              threads_per_trial(n_parallels))
        run_trials(study, objective, n_trials=n_trials, timeout=timeout, n_parallels=n_parallels,
                   progress=progress)
        front = front_models(study, self.model_of)
        if front is not None:
            return front
        self._model = self.model_of(best_trial(study, self._FRONT, self._LOAD).number)
        return self._model

    def search_summary(self) -> Any:
        """The study of the last `search`: ``trials_dataframe()``, ``best_trial``, ``best_config``, ...; with
        several target metrics, ``directions`` and ``best_trials`` (the Pareto front), each trial's ``values`` in
        the order of ``target_metric`` (the study's user attribute "target_metric")."""
        if self._study is None:
            raise RuntimeError("search_summary() needs a search first: call model.search(...)")
        return self._study

    def model_of(self, trial_number: int) -> Any:
        """The trained Keras model of trial ``trial_number`` of the last search (its latest checkpoint)."""
        if self._study is None:
            raise RuntimeError("model_of() needs a search first: call model.search(...)")
        trial = self._study.trial(trial_number)
        if trial.checkpoint is None:
            raise LookupError(f"trial {trial_number} has no checkpoint (state {trial.state.value})")
        model, compile_kwargs, _ = build(self._root, trial.config)
        model.compile(**compile_kwargs)
        _restore(model, trial.load_checkpoint())
        return model

    # --- a Keras model after the search ------------------------------------------------------------------------
    def _current(self) -> Any:
        if self._model is None and self._study is not None and self._study.n_objectives > 1:
            raise no_single_best(self._study, self._FRONT, self._LOAD)
        if self._model is None:
            if holds_space([self._definition, self._compile]):
                raise RuntimeError(
                    "this model's definition holds search spaces: call search(...) first, then fit / evaluate / "
                    "predict use the best configuration"
                )
            self._model = build(self._definition, {})
            if self._compile:
                self._model.compile(**build(self._compile, {}))
        return self._model

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Keras ``fit`` on the best trial's model (trained on from its weights), or on a plain definition."""
        return self._current().fit(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # evaluate, predict, summary, save, layers, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._current(), name)

    def __repr__(self) -> str:
        state = "searched" if self._study is not None else "not searched yet"
        return f"SearchableKerasModel({self._definition.name}, {state})"


class _TrialRun:
    """The objective of a Keras search: build and compile the trial's model, fit it, report every epoch."""

    def __init__(self, root: list[Any], x: Any, y: Any, epochs: int, metrics: list[str], seed: int | None,
                 sample: Any, fit_kwargs: dict[str, Any], threads: int | None) -> None:
        self.root, self.x, self.y, self.epochs = root, x, y, epochs
        self.metrics, self.seed, self.sample, self.threads = metrics, seed, sample, threads
        self.fit_kwargs = fit_kwargs

    def __call__(self, config: dict[str, Any], trial: Any) -> float | tuple[float, ...] | None:
        seed = trial_seed(self.seed, trial.number)
        trial.set_user_attr(MODEL_SEED_ATTR, seed)
        if self.threads is not None:
            import torch

            torch.set_num_threads(self.threads)
        keras.utils.set_random_seed(seed)
        model, compile_kwargs, fit_extra = build(self.root, config)
        model.compile(**compile_kwargs)
        initial_epoch, state = 0, None
        if trial.resumed:
            state = trial.load_checkpoint()
            _restore(model, state)
            initial_epoch = int(state["epoch"])
        reporter = _Reporter(trial, self.metrics, self.sample)
        kwargs = {"verbose": 0, **self.fit_kwargs}
        kwargs["callbacks"] = [*list(kwargs.get("callbacks") or []), reporter]
        try:
            model.fit(self.x, self.y, epochs=self.epochs, initial_epoch=initial_epoch,
                      batch_size=fit_extra["batch_size"], **kwargs)
        finally:
            del model
            keras.backend.clear_session()  # the trial's graph, layers and optimizer go with it
        if reporter.value is None:
            if state is not None and state.get("value") is not None:  # it had finished every epoch before
                return state["value"]
            if trial.resumed and trial.last_value is not None:
                return trial.last_value
            missing = [m for m in self.metrics if m not in reporter.logged] or self.metrics
            name = repr(missing[0]) if len(self.metrics) == 1 else f"{missing[0]!r} (of {self.metrics!r})"
            raise KeyError(
                f"target_metric={name} is not in Keras's epoch logs {sorted(reporter.logged)}: "
                "pass one of those (validation metrics need validation_split= or validation_data=)"
            )
        return reporter.value


class _Reporter(keras.callbacks.Callback):
    """After each epoch: report the target metric (a tuple of them, in their order, for several), checkpoint,
    and stop the fit when the scheduler says so."""

    def __init__(self, trial: Any, metrics: list[str], sample: Any) -> None:
        super().__init__()
        self.trial, self.metrics, self.sample = trial, metrics, sample
        self.value: float | tuple[float, ...] | None = None
        self.logged: list[str] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        self.logged = list(logs)
        value = metric_value(logs, self.metrics)
        if value is None:
            return
        self.value = value
        self.trial.report(self.value, step=epoch + 1)
        self.trial.save_checkpoint(_state(self.model, epoch + 1, self.sample, self.value), step=epoch + 1)
        if self.trial.should_stop():
            self.model.stop_training = True


def _state(model: Any, epoch: int, sample: Any, value: Any = None) -> dict[str, Any]:
    """Weights, optimizer variables and epoch of a model, as NumPy arrays (a joblib checkpoint), and the value
    the trial reported at that epoch."""
    to_numpy = keras.ops.convert_to_numpy
    optimizer = getattr(model, "optimizer", None)
    return {
        "weights": [np.asarray(w) for w in model.get_weights()],
        "optimizer": [] if optimizer is None else [to_numpy(v.value) for v in optimizer.variables],
        "epoch": epoch,
        "sample": sample,
        "value": value,
    }


def _restore(model: Any, state: dict[str, Any]) -> None:
    """Load a `_state` into a compiled model of the same configuration."""
    if not model.built:
        if state.get("sample") is None:
            raise RuntimeError(
                "cannot rebuild this model's weights: its input shape is unknown (the search's x was not an array); "
                "give the model a keras Input or an input_shape"
            )
        model(state["sample"])
    model.set_weights(state["weights"])
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and state["optimizer"]:
        optimizer.build(model.trainable_variables)
        for variable, value in zip(optimizer.variables, state["optimizer"], strict=True):
            variable.assign(value)


def _sample_of(x: Any) -> Any:
    """Two rows of ``x`` (arrays, or a dict / list of arrays), to build a model's weights before loading them."""
    if isinstance(x, dict):
        return {k: _sample_of(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_sample_of(v) for v in x]
    if hasattr(x, "shape") and hasattr(x, "__getitem__"):
        return np.asarray(x[:2])
    return None


def _sequential(layers: list[Any], **kwargs: Any) -> Any:
    """keras.Sequential of fresh layers: a plain Keras layer in the list is copied from its config, so that no
    two trials share its weights."""
    fresh = [type(one).from_config(one.get_config()) if isinstance(one, keras.layers.Layer) else one
             for one in layers]
    return keras.Sequential(fresh, **kwargs)


def Sequential(layers: list[Any] | None = None, **kwargs: Any) -> SearchableKerasModel:  # noqa: N802
    """``keras.Sequential`` whose layers (from ``hypersweep.keras.layers``) may hold search spaces.

    >>> from hypersweep import space
    >>> from hypersweep.keras import Sequential, layers
    >>> m = Sequential([layers.Dense(units=space.Int(8, 64)), layers.Dense(units=space.Int(8, 64)), layers.Dense(3)])
    >>> sorted(m._definition.space())
    ['dense:units', 'dense_1:units']
    """
    return SearchableKerasModel(Deferred(_sequential, (list(layers or []),), kwargs, name="Sequential",
                                         transparent=True))


def Model(*args: Any, **kwargs: Any) -> SearchableKerasModel:  # noqa: N802
    """``keras.Model(inputs, outputs)`` of a functional graph written with ``hypersweep.keras`` ``Input``
    and ``layers``."""
    return SearchableKerasModel(Deferred(keras.Model, args, kwargs, name="Model", transparent=True))


def searchable(cls: type | None = None) -> Any:
    """Decorate a subclassed ``keras.Model`` so that it takes search spaces as ``__init__`` keyword arguments
    (inside it, build layers with ``keras.layers`` from the values it receives); the class then returns a
    `SearchableKerasModel` to ``compile`` and ``search``."""
    from hypersweep.deferred import make_searchable

    if cls is None:
        return searchable
    return make_searchable(cls, SearchableKerasModel, always=True)
