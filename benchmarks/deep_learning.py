"""Deep-learning searches on scikit-learn's digits (Lightning), against the same search hand-written with
Optuna and its Lightning pruning callback, measured in one run.

Prints, median over ``--seeds`` seeds of 30-trial TPE searches of an MLP (hidden units, dropout, learning rate)
trained for up to ``--epochs`` epochs:

- ASHA against no pruning: the epochs trained (ratio) and the best validation accuracy of each;
- per-trial overhead of the front end, everything but training (wall time of the search minus the time
  spent inside the training and validation epochs, per trial), hypersweep's ``Trainer.search`` with
  ``scheduler="asha"`` against Optuna's ``study.optimize`` with ``PyTorchLightningPruningCallback`` and its
  ``SuccessiveHalvingPruner`` (the same rungs);
- resident memory after the last trial against after the fifth.

    python benchmarks/deep_learning.py --seeds 3          # needs pip install -e '.[bench,torch]'
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import statistics
import time
import warnings

import lightning as L
import torch
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

import hypersweep as hs
from hypersweep import space

HIDDEN = (16, 32, 64, 128)
DROPOUT = (0.0, 0.5)
LR = (1e-4, 3e-2)


class DigitsMLP(L.LightningModule):
    """The searched model: one hidden layer, dropout, Adam."""

    def __init__(self, hidden: int = 32, dropout: float = 0.1, lr: float = 1e-3) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                       torch.nn.Linear(hidden, 10))
        self.lr = lr

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


SearchableMLP = hs.torch.searchable()(DigitsMLP)


def loaders(seed: int) -> tuple[DataLoader, DataLoader]:
    X, y = load_digits(return_X_y=True)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(X), generator=g)
    X = torch.tensor(X / 16.0, dtype=torch.float32)[order]
    y = torch.tensor(y)[order]
    train, val = TensorDataset(X[:1200], y[:1200]), TensorDataset(X[1200:], y[1200:])
    return DataLoader(train, batch_size=64, shuffle=True, generator=g), DataLoader(val, batch_size=512)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Clock(L.Callback):
    """Seconds inside training + validation epochs (first in the callback list: before any front end's own
    end-of-epoch work), and resident memory as each trial starts."""

    trained = 0.0
    epochs = 0
    rss: list[float] = []

    def on_fit_start(self, trainer, pl_module):
        Clock.rss.append(rss_mb())

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        Clock.trained += time.perf_counter() - self._start
        Clock.epochs += 1

    @classmethod
    def reset(cls) -> None:
        cls.trained, cls.epochs, cls.rss = 0.0, 0, []


def _trainer_options(epochs: int) -> dict:
    return dict(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                enable_model_summary=False)


def ours(seed: int, n_trials: int, epochs: int, scheduler: str | None) -> dict:
    Clock.reset()
    train, val = loaders(seed)
    model = SearchableMLP(hidden=space.Categorical(*HIDDEN), dropout=space.Real(*DROPOUT),
                          lr=space.Real(*LR, log=True))
    trainer = hs.torch.Trainer(callbacks=[Clock()], **_trainer_options(epochs))
    start = time.perf_counter()
    # TPE on both sides: the comparison is of the front ends, not of the samplers (the default is "auto")
    trainer.search(model, train, val, target_metric="val_acc", n_trials=n_trials, scheduler=scheduler,
                   sampler="tpe", seed=seed, progress=False)
    wall = time.perf_counter() - start
    study = trainer.search_summary()
    return {"wall": wall, "trained": Clock.trained, "epochs": Clock.epochs, "best": study.best_value,
            "rss_5": Clock.rss[5], "rss_end": rss_mb()}


def optuna_side(seed: int, n_trials: int, epochs: int) -> dict:
    import optuna
    from optuna_integration import PyTorchLightningPruningCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    Clock.reset()
    train, val = loaders(seed)

    def objective(trial):
        torch.manual_seed(trial.number)
        model = DigitsMLP(hidden=trial.suggest_categorical("hidden", HIDDEN),
                          dropout=trial.suggest_float("dropout", *DROPOUT),
                          lr=trial.suggest_float("lr", *LR, log=True))
        pruning = PyTorchLightningPruningCallback(trial, monitor="val_acc")
        trainer = L.Trainer(callbacks=[Clock(), pruning], **_trainer_options(epochs))
        trainer.fit(model, train, val)
        pruning.check_pruned()
        return float(trainer.callback_metrics["val_acc"])

    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    start = time.perf_counter()
    study.optimize(objective, n_trials=n_trials)
    wall = time.perf_counter() - start
    return {"wall": wall, "trained": Clock.trained, "epochs": Clock.epochs, "best": study.best_value}


def keras_memory(n_trials: int, epochs: int) -> dict:
    """Resident memory as each trial of a Keras (torch backend) search starts, and after the search."""
    from hypersweep.keras import Sequential, layers, optimizers  # before Keras itself: the torch backend

    keras = importlib.import_module("keras")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    seen: list[float] = []

    class Memory(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(rss_mb())

    model = Sequential([layers.Dense(units=space.Categorical(*HIDDEN), activation="relu"),
                        layers.Dropout(rate=space.Real(*DROPOUT)), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(learning_rate=space.Real(*LR, log=True)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.search(n_trials=n_trials, target_metric="val_accuracy", x=X, y=y, validation_split=0.33, epochs=epochs,
                 batch_size=64, callbacks=[Memory()], seed=0, progress=False)
    return {"rss_5": seen[5], "rss_end": rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=9)
    args = parser.parse_args()
    for name in ("lightning", "lightning.pytorch", "lightning.pytorch.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    rows = {"asha": [], "none": [], "optuna": []}
    for seed in range(args.seeds):
        rows["none"].append(ours(seed, args.trials, args.epochs, None))
        rows["asha"].append(ours(seed, args.trials, args.epochs, "asha"))
        rows["optuna"].append(optuna_side(seed, args.trials, args.epochs))
        a, n, o = rows["asha"][-1], rows["none"][-1], rows["optuna"][-1]
        print(f"seed {seed}: epochs asha {a['epochs']} / none {n['epochs']}; best val_acc asha {a['best']:.4f} "
              f"none {n['best']:.4f} optuna {o['best']:.4f}; wall asha {a['wall']:.1f}s optuna {o['wall']:.1f}s",
              flush=True)

    def med(label: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[label])

    def overhead(label: str) -> float:
        return statistics.median((r["wall"] - r["trained"]) / args.trials for r in rows[label])

    print(f"\n{args.trials} trials, up to {args.epochs} epochs, median of {args.seeds} seeds")
    ratio = statistics.median(a["epochs"] / n["epochs"] for a, n in zip(rows["asha"], rows["none"], strict=True))
    print(f"  ASHA epochs / no-pruning epochs: {ratio:.2f} (target <= 0.45)")
    gap = statistics.median(100 * (n["best"] - a["best"]) for a, n in zip(rows["asha"], rows["none"], strict=True))
    print(f"  best val accuracy: ASHA {med('asha', 'best'):.4f}, no pruning {med('none', 'best'):.4f} "
          f"(ASHA {gap:+.2f} points behind; target <= 1)")
    ours_o, optuna_o = overhead("asha"), overhead("optuna")
    print(f"  per-trial overhead (all but training): hypersweep {1000 * ours_o:.1f} ms, Optuna + its Lightning "
          f"callback {1000 * optuna_o:.1f} ms, ratio {ours_o / optuna_o:.2f} (target <= 1)")
    growth = statistics.median(r["rss_end"] / r["rss_5"] - 1 for r in rows["asha"] + rows["none"])
    print(f"  resident memory after the last trial vs. after the fifth, Lightning: {100 * growth:+.1f}% "
          "(target within 10%)")
    k = keras_memory(args.trials, 2)
    print(f"  the same for a {args.trials}-trial Keras search: {100 * (k['rss_end'] / k['rss_5'] - 1):+.1f}%")


if __name__ == "__main__":
    main()
