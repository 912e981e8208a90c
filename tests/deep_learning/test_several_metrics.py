"""target_metric=[...] in the deep-learning searches: one objective per metric, a tuple reported every epoch,
the Pareto front in the summary, clear errors for what has no single answer, ASHA pruning by all metrics."""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # every front end here trains on torch (Keras on its torch backend)

import hypersweep as hs  # noqa: E402
from hypersweep import space  # noqa: E402
from hypersweep._model_search import best_trial, directions_of  # noqa: E402
from hypersweep.direction import Direction  # noqa: E402

MIN, MAX = Direction.MINIMIZE, Direction.MAXIMIZE
#: hypersweep.torch (the plain loop and Lightning) needs lightning
needs_lightning = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="lightning not installed")


def _dominates(a, b, directions):
    signs = [1 if d is MAX else -1 for d in directions]
    better = [s * x >= s * y for s, x, y in zip(signs, a, b, strict=True)]
    return all(better) and any(s * x > s * y for s, x, y in zip(signs, a, b, strict=True))


def _check_front(study):
    """The front is the set of complete trials that no complete trial dominates."""
    done = [t for t in study.trials if t.state.value == "complete"]
    front = study.best_trials
    assert front and {t.number for t in front} <= {t.number for t in done}
    expected = {t.number for t in done
                if not any(_dominates(o.values, t.values, study.directions) for o in done)}
    assert {t.number for t in front} == expected
    return front


def _check_tuples(study, epochs):
    """Every complete trial reported a 2-tuple each epoch and ended on its last one."""
    for t in study.trials:
        assert sorted(t.intermediate_values) == list(range(1, len(t.intermediate_values) + 1))
        assert all(len(v) == 2 for v in t.intermediate_values.values())
        if t.state.value == "complete":
            assert sorted(t.intermediate_values) == list(range(1, epochs + 1))
            assert t.values == pytest.approx(t.intermediate_values[epochs])
            assert t.value == pytest.approx(t.values[0])


# --- plain PyTorch ---------------------------------------------------------------------------------------------
@functools.cache
def _weight_class():
    @hs.torch.searchable()
    class Weight(torch.nn.Module):
        def __init__(self, init=0.0, lr=0.1):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(float(init)))
            self.lr = lr

    return Weight


def _metrics(model):
    """Two losses that conflict: fitting w to 3 and keeping it small."""
    w = model.w.item()
    return {"fit_loss": (w - 3.0) ** 2, "norm_loss": w ** 2}


def _train(model, trial):
    opt = torch.optim.SGD(model.parameters(), lr=model.lr)
    for _ in trial.epochs(opt):
        loss = (model.w - 3.0) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        trial.report(_metrics(model))  # a dict by name; the tuple in target_metric's order is stored


def _weight():
    return _weight_class()(init=space.Real(-2.0, 2.0), lr=space.Real(0.01, 0.3, log=True))


@needs_lightning
def test_plain_torch_search_of_two_metrics():
    result = hs.torch.search(_weight(), _train, max_epochs=3, n_trials=5, target_metric=["norm_loss", "fit_loss"],
                             seed=0, progress=False)
    study = result.study
    assert study.directions == [MIN, MIN]  # both implied by "loss"
    assert study.user_attrs["target_metric"] == ["norm_loss", "fit_loss"]
    assert all(t.state.value == "complete" for t in study.trials) and len(study.trials) == 5
    _check_tuples(study, 3)
    for t in _check_front(study):
        m = _metrics(result.model_of(t.number))  # a front trial's trained model, from its checkpoint
        assert t.values == pytest.approx((m["norm_loss"], m["fit_loss"]))
    with pytest.raises(ValueError, match=r"2 target metrics \(norm_loss, fit_loss\).*result\.study\.best_trials"
                                         r".*result\.model_of\(trial\.number\)"):
        _ = result.model
    with pytest.raises(ValueError, match="no single best trial or model"):
        best_trial(study)  # the front ends' error, not the engine's


@needs_lightning
def test_a_list_of_one_metric_is_one_metric():
    result = hs.torch.search(_weight(), _train, max_epochs=2, n_trials=2, target_metric=["fit_loss"], seed=0,
                             progress=False)
    study = result.study
    assert study.n_objectives == 1 and study.direction is MIN
    assert isinstance(study.best_trial.value, float) and len(study.best_trial.intermediate) == 2
    assert _metrics(result.model)["fit_loss"] == pytest.approx(study.best_value)


@needs_lightning
def test_wrong_directions_and_reports_get_clear_errors(tmp_path):
    two = ["fit_loss", "val_acc"]
    assert directions_of(two, None) == ["minimize", "maximize"]
    assert directions_of(["fit_loss", "quality"], [None, "max"]) == ["minimize", "maximize"]
    run = dict(max_epochs=1, n_trials=1, progress=False)
    with pytest.raises(ValueError, match=r"direction must be a list of 2 direction\(s\), one per metric of "
                                         r"target_metric=\['fit_loss', 'val_acc'\].*direction=\['minimize', "
                                         r"'maximize'\]"):
        hs.torch.search(_weight(), _train, target_metric=two, direction=["minimize"], **run)
    with pytest.raises(ValueError, match=r"direction must be a list of 2 directions.*or None, got "
                                         r"direction='minimize'"):
        hs.torch.search(_weight(), _train, target_metric=two, direction="minimize", **run)
    with pytest.raises(ValueError, match=r"target_metric\[1\]='quality' does not say whether higher is better"):
        hs.torch.search(_weight(), _train, target_metric=["fit_loss", "quality"], **run)
    with pytest.raises(ValueError, match=r"direction\[1\] must be 'minimize' or 'maximize'"):
        hs.torch.search(_weight(), _train, target_metric=two, direction=["minimize", "up"], **run)
    with pytest.raises(ValueError, match="target_metric must be a list of distinct metric names"):
        hs.torch.search(_weight(), _train, target_metric=["fit_loss", "fit_loss"], **run)
    with pytest.raises(ValueError, match="target_metric must be the name of a metric"):
        hs.torch.search(_weight(), _train, target_metric=[], **run)
    # MedianStopping judges one objective: the engine's error reaches the user
    with pytest.raises(ValueError, match="MedianStopping judges one objective"):
        hs.torch.search(_weight(), _train, target_metric=two, scheduler="median", **run)

    def one_value(model, trial):
        for _ in trial.epochs():
            trial.report(1.0)

    with pytest.raises(RuntimeError, match=r"no trial .* completed.*the search has 2 target metrics"):
        hs.torch.search(_weight(), one_value, target_metric=["fit_loss", "norm_loss"], **run)

    def missing(model, trial):
        for _ in trial.epochs():
            trial.report({"fit_loss": 1.0, "loss": 2.0})

    with pytest.raises(RuntimeError, match=r"'norm_loss' is not among the reported \['fit_loss', 'loss'\]"):
        hs.torch.search(_weight(), missing, target_metric=["fit_loss", "norm_loss"], **run)

    # a resumed study of several metrics needs them in the same order (values are stored by position)
    options = dict(storage=f"sqlite:///{tmp_path / 'm.db'}", study_name="m", **run)
    hs.torch.search(_weight(), _train, target_metric=["fit_loss", "norm_loss"], **options)
    with pytest.raises(ValueError, match=r"the metrics study 'm' was searched with, \['fit_loss', 'norm_loss'\]"):
        hs.torch.search(_weight(), _train, target_metric=["norm_loss", "fit_loss"], resume=True, **options)


@needs_lightning
def test_asha_prunes_by_both_metrics():
    result = hs.torch.search(_weight(), _train, max_epochs=9, n_trials=10, target_metric=["fit_loss", "norm_loss"],
                             scheduler="asha", sampler="random", seed=3, progress=False)
    study = result.study
    states = [t.state.value for t in study.trials]
    assert "pruned" in states and "complete" in states
    for t in study.trials:
        if t.state.value == "pruned":  # stopped at a rung, after 1 or 3 epochs
            assert len(t.intermediate_values) in (1, 3)
    _check_tuples(study, 9)
    _check_front(study)


def _crash_after_last_epoch(study, config, checkpoint, epochs):
    """A trial that saved its checkpoint of its last epoch and whose process died before it finished: still
    RUNNING in SQLite, so the next resume re-queues it and it resumes with no epoch left."""
    handle = study.start_trial(config)
    study.save_checkpoint(handle, checkpoint, step=epochs)
    return handle.number


@needs_lightning
def test_a_trial_resumed_after_its_last_epoch_returns_the_values_of_its_checkpoint(tmp_path):
    options = dict(max_epochs=2, target_metric=["fit_loss", "norm_loss"], storage=f"sqlite:///{tmp_path / 'r.db'}",
                   study_name="r", seed=0, progress=False)
    first = hs.torch.search(_weight(), _train, n_trials=1, **options)
    done = first.study.trials[0]
    state = dict(first.study.load_checkpoint(done), value=(0.25, 0.5))  # values only the checkpoint knows
    number = _crash_after_last_epoch(first.study, done.config, state, 2)
    again = hs.torch.search(_weight(), _train, n_trials=1, resume=True, **options)
    resumed = again.study.trial(number)
    assert resumed.state.value == "complete" and resumed.values == (0.25, 0.5)


# --- Lightning -------------------------------------------------------------------------------------------------
def _digits_mlp():
    from digits_models import DigitsMLP

    return DigitsMLP(hidden=space.Categorical(16, 32), lr=space.Real(1e-3, 3e-2, log=True))


@needs_lightning
def test_lightning_search_of_two_metrics(tmp_path):
    import lightning as L
    from digits_models import DigitsMLP, loaders

    train, val = loaders()
    trainer = hs.torch.Trainer(max_epochs=2, logger=False, default_root_dir=tmp_path)
    models = trainer.search(_digits_mlp(), train, val, target_metric=["val_loss", "val_acc"], n_trials=3, seed=0,
                            progress=False)
    study = trainer.search_summary()
    assert study.directions == [MIN, MAX]
    assert study.user_attrs["target_metric"] == ["val_loss", "val_acc"]
    assert all(t.state.value == "complete" for t in study.trials)
    _check_tuples(study, 2)
    front = _check_front(study)
    # search returns the front's trained models, in the order of best_trials
    assert isinstance(models, list) and len(models) == len(front)
    checker = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    for model, t in zip(models, front, strict=True):
        assert isinstance(model, DigitsMLP) and model.hparams.hidden == t.config["hidden"]
        scores = checker.validate(model, val, verbose=False)[0]
        assert (scores["val_loss"], scores["val_acc"]) == pytest.approx(t.values, abs=1e-5)
        again = trainer.model_of(t.number)
        assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), model.state_dict().values(),
                                                     strict=True))
    with pytest.raises(ValueError, match=r"no single best trial or model.*best_trials"):
        best_trial(study)
    # a metric the model never logs: the existing error names it and those logged
    with pytest.raises(RuntimeError, match=r"target_metric='val_f1' \(of \['val_loss', 'val_f1'\]\) was never "
                                           r"logged; the model logs \[.*'val_acc'"):
        trainer.search(_digits_mlp(), train, val, target_metric=["val_loss", "val_f1"], direction=[None, "maximize"],
                       n_trials=1, progress=False)
    with pytest.raises(ValueError, match=r"direction must be a list of 2 direction\(s\)"):
        trainer.search(_digits_mlp(), train, val, target_metric=["val_loss", "val_acc"],
                       direction=["minimize", "maximize", "minimize"], n_trials=1, progress=False)


@needs_lightning
def test_lightning_asha_with_two_metrics(tmp_path):
    from digits_models import loaders

    train, val = loaders(n_train=600)
    trainer = hs.torch.Trainer(max_epochs=3, logger=False, default_root_dir=tmp_path)
    models = trainer.search(_digits_mlp(), train, val, target_metric=["val_loss", "val_acc"], n_trials=5,
                            scheduler="asha", sampler="random", seed=1, progress=False)
    study = trainer.search_summary()
    assert {t.state.value for t in study.trials} <= {"complete", "pruned"}
    assert all(len(t.intermediate_values) in (1, 3) for t in study.trials)  # pruned at the rung of epoch 1
    _check_tuples(study, 3)
    assert len(models) == len(_check_front(study))


@needs_lightning
def test_lightning_trial_resumed_after_its_last_epoch_returns_its_checkpointed_values(tmp_path):
    from digits_models import loaders

    train, val = loaders(n_train=300)
    trainer = hs.torch.Trainer(max_epochs=1, logger=False, default_root_dir=tmp_path)
    options = dict(target_metric=["val_loss", "val_acc"], storage=f"sqlite:///{tmp_path / 'l.db'}", study_name="l",
                   seed=0, progress=False)
    trainer.search(_digits_mlp(), train, val, n_trials=1, **options)
    study = trainer.search_summary()
    done = study.trials[0]
    state = torch.load(study.load_checkpoint(done), map_location="cpu", weights_only=False)
    (key,) = [k for k in state["callbacks"] if "_Reporter" in k]
    assert state["callbacks"][key]["value"] == pytest.approx(done.values)
    state["callbacks"][key]["value"] = (0.25, 0.5)  # values only the checkpoint knows
    path = tmp_path / "edited.ckpt"
    torch.save(state, path)
    number = _crash_after_last_epoch(study, done.config, str(path), 1)
    trainer.search(_digits_mlp(), train, val, n_trials=1, resume=True, **options)
    resumed = trainer.search_summary().trial(number)
    assert resumed.state.value == "complete" and resumed.values == (0.25, 0.5)
    assert not resumed.intermediate_values  # no epoch trained again


# --- Keras ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32")[:800], y[:800]


def _keras_model():
    keras_front = pytest.importorskip("hypersweep.keras", exc_type=ImportError)
    m = keras_front.Sequential([keras_front.layers.Dense(units=space.Int(8, 32), activation="relu"),
                                keras_front.layers.Dense(10, activation="softmax")])
    m.compile(optimizer=keras_front.optimizers.RMSprop(learning_rate=space.Real(1e-3, 1e-2, log=True)),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_keras_search_of_two_metrics(digits):
    X, y = digits
    m = _keras_model()
    models = m.search(n_trials=3, target_metric=["val_loss", "val_accuracy"], x=X, y=y, validation_split=0.25,
                      epochs=2, seed=0, progress=False)
    study = m.search_summary()
    assert study.directions == [MIN, MAX]
    assert all(t.state.value == "complete" for t in study.trials)
    _check_tuples(study, 2)
    front = _check_front(study)
    assert isinstance(models, list) and len(models) == len(front)
    n_train = int(len(X) * 0.75)  # Keras's validation_split takes the last rows
    for model, t in zip(models, front, strict=True):
        assert model.layers[0].units == t.config["dense:units"]
        scores = model.evaluate(X[n_train:], y[n_train:], verbose=0, return_dict=True)
        assert (scores["loss"], scores["accuracy"]) == pytest.approx(t.values, abs=1e-5)
        np.testing.assert_array_equal(m.model_of(t.number).get_weights()[0], model.get_weights()[0])
    # the searched model stands for the best one: with several metrics there is none to fit / evaluate
    with pytest.raises(ValueError, match=r"model\.search_summary\(\)\.best_trials.*model\.model_of\(trial\.number\)"):
        m.evaluate(X, y)
    with pytest.raises(RuntimeError, match=r"'val_accuracy' \(of \['loss', 'val_accuracy'\]\) is not in Keras's "
                                           r"epoch logs \['accuracy', 'loss'\]"):
        m.search(n_trials=1, target_metric=["loss", "val_accuracy"], x=X, y=y, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"direction must be a list of 2 directions"):
        m.search(n_trials=1, target_metric=["val_loss", "val_accuracy"], direction="maximize", x=X, y=y,
                 validation_split=0.25, progress=False)


def test_keras_asha_and_resume_after_the_last_epoch(digits, tmp_path):
    X, y = digits
    m = _keras_model()
    m.search(n_trials=5, target_metric=["val_loss", "val_accuracy"], x=X, y=y, validation_split=0.25, epochs=3,
             scheduler="asha", sampler="random", seed=2, progress=False)
    study = m.search_summary()
    assert all(len(t.intermediate_values) in (1, 3) for t in study.trials)
    _check_tuples(study, 3)

    options = dict(target_metric=["val_loss", "val_accuracy"], x=X, y=y, validation_split=0.25, epochs=1,
                   storage=f"sqlite:///{tmp_path / 'k.db'}", study_name="k", seed=0, progress=False)
    m.search(n_trials=1, **options)
    study = m.search_summary()
    done = study.trials[0]
    state = study.load_checkpoint(done)
    assert state["value"] == pytest.approx(done.values)
    number = _crash_after_last_epoch(study, done.config, {**state, "value": (0.25, 0.5)}, 1)
    m.search(n_trials=1, resume=True, **options)
    resumed = m.search_summary().trial(number)
    assert resumed.state.value == "complete" and resumed.values == (0.25, 0.5)
