"""BigDL-Nano's Keras HPO tutorial as a script, on hypersweep and Keras 3 (torch backend, no TensorFlow):
scikit-learn's digits.

1. Sequential: layer widths and activations, dropout, a choice between two blocks of layers (a conditional
   parameter), the optimizer's learning rate and the batch size are search spaces written into the model,
   ``compile`` and ``search``; ``search_summary()``; the searched model against the median of 5 random
   configurations trained the same way; ``fit`` trains the best one on.
2. Functional (``Input`` / ``Model``).
3. Subclassed: a ``keras.Model`` subclass decorated with ``@hs.keras.searchable()``.
4. Resume: the search kept in SQLite and continued with more trials.
5. Parallel: two worker processes on one PostgreSQL study (skipped, saying why, when the server is unreachable).

usage: python examples/keras_digits.py [--trials 12] [--epochs 6] [--quick] [--postgres URL]

About a minute and a half on two cores with the defaults (``--quick``: half a minute, for the tests).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from sklearn.datasets import load_digits

import hypersweep as hs
from hypersweep import space
from hypersweep.keras import Input, Model, Sequential, layers, optimizers  # Keras on the torch backend

keras = importlib.import_module("keras")  # after hypersweep.keras, which picks the backend

X, Y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
N_TRAIN = int(len(X) * 0.75)  # validation_split=0.25 validates on the last quarter
COMPILE = dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def sequential():
    model = Sequential([
        layers.Dense(units=space.Int(8, 128, log=True, prefix="hidden1"), activation=space.Categorical("relu", "tanh")),
        layers.Dropout(rate=space.Real(0.0, 0.5)),
        # a choice between two blocks: a conditional parameter, whose inner space is used only when chosen
        space.Categorical(layers.Dense(units=space.Int(8, 64, log=True, prefix="hidden2"), activation="relu"),
                          layers.Dropout(rate=0.2), prefix="block"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=optimizers.RMSprop(learning_rate=space.Real(1e-4, 3e-2, log=True)), **COMPILE)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="3 trials of 2 epochs: checks that it all runs")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.epochs = 3, 2
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    fit = dict(x=X, y=Y, validation_split=0.25, epochs=args.epochs, target_metric="val_accuracy", progress=False)

    print(f"1. Sequential: {args.trials} trials of up to {args.epochs} epochs, ASHA pruning")
    model = sequential()
    best = model.search(n_trials=args.trials, batch_size=space.Categorical(16, 32, 64), scheduler="asha", seed=0,
                        **fit)
    study = model.search_summary()
    print(study.trials_dataframe().sort_values("objective", ascending=False).head(5)
          .filter(regex="number|state|objective|p:").to_string(index=False))
    checked = best.evaluate(X[N_TRAIN:], Y[N_TRAIN:], verbose=0, return_dict=True)["accuracy"]
    print(f"   best trial {study.best_trial.number}: val_accuracy {study.best_value:.4f} (the returned model, "
          f"evaluated again: {checked:.4f})")
    baseline = sequential()
    baseline.search(n_trials=5, batch_size=space.Categorical(16, 32, 64), sampler="random", seed=1, **fit)
    median = statistics.median(t.value for t in baseline.search_summary().trials)
    print(f"   median val_accuracy of 5 random configurations trained the same way: {median:.4f} "
          f"({'beaten' if study.best_value > median else 'NOT beaten'} by the search)")
    history = model.fit(X[:N_TRAIN], Y[:N_TRAIN], epochs=2, verbose=0)
    print(f"   model.fit trains the best configuration on: loss {history.history['loss'][-1]:.4f}")

    print("\n2. Functional (Input / Model)")
    inputs = Input(shape=(64,))
    x = layers.Dense(units=space.Int(16, 128, log=True), activation=space.Categorical("relu", "elu"))(inputs)
    x = layers.Dropout(rate=space.Real(0.0, 0.5))(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    functional = Model(inputs=inputs, outputs=outputs)
    functional.compile(optimizer=optimizers.Adam(learning_rate=space.Real(1e-4, 3e-2, log=True)), **COMPILE)
    functional.search(n_trials=max(2, args.trials // 2), batch_size=32, seed=0, **fit)
    print(f"   space {sorted(functional.search_summary().space)}")
    print(f"   best val_accuracy {functional.search_summary().best_value:.4f} with "
          f"{functional.search_summary().best_config}")

    print("\n3. Subclassed, through @hs.keras.searchable()")

    @hs.keras.searchable()
    class Net(keras.Model):
        def __init__(self, units: int = 32, dropout: float = 0.1, **kwargs):
            super().__init__(**kwargs)
            self.hidden = keras.layers.Dense(units, activation="relu")
            self.drop = keras.layers.Dropout(dropout)
            self.out = keras.layers.Dense(10, activation="softmax")

        def call(self, inputs, training=False):
            return self.out(self.drop(self.hidden(inputs), training=training))

    net = Net(units=space.Categorical(16, 32, 64, 128), dropout=space.Real(0.0, 0.5))
    net.compile(optimizer=optimizers.Adam(learning_rate=space.Real(1e-4, 3e-2, log=True)), **COMPILE)
    net.search(n_trials=max(2, args.trials // 2), batch_size=32, seed=0, **fit)
    print(f"   best val_accuracy {net.search_summary().best_value:.4f} with {net.search_summary().best_config}")

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'hpo.db'}"
        print(f"\n4. resume: {args.trials // 2} trials kept in {url}, then {args.trials // 2} more")
        kept = dict(storage=url, study_name="digits", batch_size=32, seed=0, **fit)
        sequential().search(n_trials=args.trials // 2, **kept)
        again = sequential()
        again.search(n_trials=args.trials // 2, resume=True, **kept)
        print(f"   {len(again.search_summary().trials)} trials in the study; "
              f"best val_accuracy {again.search_summary().best_value:.4f}")

        print("\n5. parallel: 2 worker processes on one PostgreSQL study")
        try:
            from hypersweep.storage.sql import SQLStorage

            SQLStorage(args.postgres).close()
        except Exception as exc:  # an unreachable server is reported, not fatal: the rest still ran
            print(f"   skipped: PostgreSQL unreachable at {args.postgres} ({type(exc).__name__})")
        else:
            parallel = sequential()
            parallel.search(n_trials=4, storage=args.postgres, study_name=f"keras-digits-{time.time_ns()}",
                            n_parallels=2, artifacts=str(Path(folder) / "artifacts"), batch_size=32, seed=0, **fit)
            trials = parallel.search_summary().trials
            print(f"   {len(trials)} trials, numbers {sorted(t.number for t in trials)}, "
                  f"best val_accuracy {parallel.search_summary().best_value:.4f}")
    print(f"\ndone in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
