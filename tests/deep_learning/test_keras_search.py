"""Keras 3 (torch backend) searches: Sequential, functional and subclassed models, nested choices, resume."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("hypersweep.keras", exc_type=ImportError)  # before keras itself: the torch backend

import hypersweep as hs  # noqa: E402
from hypersweep import space  # noqa: E402
from hypersweep.keras import Input, Model, Sequential, layers, optimizers  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y


def _compile(model, lr=None):
    model.compile(optimizer=optimizers.RMSprop(learning_rate=lr or space.Real(1e-3, 1e-2, log=True)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def test_sequential_search_names_its_spaces_and_returns_the_trained_best(digits):
    X, y = digits
    m = Sequential([layers.Dense(units=space.Int(8, 64, prefix="d1"), activation=space.Categorical("relu", "tanh")),
                    layers.Dropout(rate=space.Real(0.0, 0.5)), layers.Dense(10, activation="softmax")])
    _compile(m)
    best = m.search(n_trials=3, target_metric="val_accuracy", x=X, y=y, validation_split=0.2, epochs=2,
                    batch_size=space.Categorical(32, 64), seed=0, progress=False)
    study = m.search_summary()
    assert set(study.space) == {"d1:units", "d1:activation", "dropout:rate", "optimizer:learning_rate",
                                "batch_size"}
    assert study.direction.value == "maximize" and len(study.trials) == 3
    assert {t.system_attrs["sampler"] for t in study.trials} == {"bo"}  # the engine's default, sampler="auto"
    n_train = int(len(X) * 0.8)  # Keras's validation_split takes the last rows
    score = best.evaluate(X[n_train:], y[n_train:], verbose=0, return_dict=True)["accuracy"]
    assert score == pytest.approx(study.best_value, abs=1e-6)
    assert best.layers[0].units == study.best_config["d1:units"]
    before = best.get_weights()[0].copy()
    m.fit(X, y, epochs=1, verbose=0)  # the best configuration trains on from its trained weights
    assert not np.allclose(before, best.get_weights()[0])


def test_functional_model_and_a_choice_of_layers(digits):
    X, y = digits
    inputs = Input(shape=(64,))
    hidden = layers.Dense(units=space.Int(8, 32), activation="relu")(inputs)
    block = space.Categorical(layers.Dense(units=space.Int(8, 16)), layers.Dropout(rate=0.2), prefix="block")
    outputs = layers.Dense(10, activation="softmax")(hidden)
    f = Model(inputs=inputs, outputs=outputs)
    _compile(f, lr=1e-2)
    f.search(n_trials=2, target_metric="val_loss", x=X, y=y, validation_split=0.2, epochs=1, progress=False)
    assert set(f.search_summary().space) == {"dense:units"}

    seq = Sequential([layers.Dense(units=space.Int(16, 32)), block, layers.Dense(10, activation="softmax")])
    _compile(seq, lr=1e-2)
    seq.search(n_trials=4, target_metric="val_loss", x=X, y=y, validation_split=0.2, epochs=1, sampler="random",
               seed=3, progress=False)
    study = seq.search_summary()
    # layers are named in the order they were made, as Keras names them: the block's Dense came first
    assert set(study.space) == {"dense_1:units", "block", "block[0]/dense:units"}
    for trial in study.trials:
        model = seq.model_of(trial.number)
        kinds = [type(layer).__name__ for layer in model.layers]
        assert kinds[1] == ("Dense" if trial.config["block"] == 0 else "Dropout")


def test_subclassed_model_through_the_decorator(digits):
    import keras

    X, y = digits

    @hs.keras.searchable()
    class Net(keras.Model):
        def __init__(self, units=16, **kwargs):
            super().__init__(**kwargs)
            self.hidden = keras.layers.Dense(units, activation="relu")
            self.out = keras.layers.Dense(10, activation="softmax")

        def call(self, x):
            return self.out(self.hidden(x))

    net = Net(units=space.Categorical(8, 24))
    _compile(net)
    best = net.search(n_trials=2, target_metric="val_accuracy", x=X, y=y, validation_split=0.25, epochs=1,
                      progress=False)
    assert isinstance(best, Net) and best.hidden.units == net.search_summary().best_config["units"]


def test_an_interrupted_search_resumes_its_trial_at_the_last_epoch(digits, tmp_path):
    import keras

    X, y = digits
    epochs_run = []

    class Interrupt(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.armed = True

        def on_epoch_begin(self, epoch, logs=None):
            epochs_run.append(epoch)
            if self.armed and len(epochs_run) == 6:  # as trial 1's second epoch starts
                self.armed = False
                raise KeyboardInterrupt

    interrupt = Interrupt()
    m = Sequential([layers.Dense(units=space.Int(8, 32)), layers.Dense(10, activation="softmax")])
    _compile(m)
    url = f"sqlite:///{tmp_path / 'k.db'}"
    options = dict(target_metric="val_accuracy", x=X, y=y, validation_split=0.2, epochs=4, storage=url,
                   study_name="k", callbacks=[interrupt], progress=False)
    with pytest.raises(KeyboardInterrupt):
        m.search(n_trials=2, **options)
    assert epochs_run == [0, 1, 2, 3, 0, 1]
    m.search(n_trials=1, resume=True, **options)
    assert epochs_run[6:] == [1, 2, 3]  # trial 1 went on from its checkpoint of epoch 1
    trials = m.search_summary().trials
    assert [t.state.value for t in trials] == ["complete", "complete"]
    assert all(sorted(t.intermediate) == [1, 2, 3, 4] for t in trials)


def test_bad_input_says_what_to_do(digits):
    X, y = digits
    with pytest.raises(TypeError, match="pass search spaces by keyword"):
        layers.Dense(space.Int(8, 64))
    with pytest.raises(TypeError, match="prefix="):
        Sequential([space.Categorical(layers.Dense(8), layers.Dense(16))])._definition.space()
    m = Sequential([layers.Dense(units=space.Int(8, 16)), layers.Dense(10, activation="softmax")])
    with pytest.raises(RuntimeError, match="compile"):
        m.search(n_trials=1, x=X, y=y)
    with pytest.raises(RuntimeError, match="call search"):
        m.fit(X, y)
    _compile(m)
    with pytest.raises(RuntimeError, match="not in Keras's epoch logs.*validation_split"):
        m.search(n_trials=1, target_metric="val_accuracy", x=X, y=y, progress=False)
