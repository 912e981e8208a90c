"""BigDL-Nano's Lightning HPO tutorial as a script, on hypersweep and Lightning 2.x: scikit-learn's digits.

1. A LightningModule whose hidden width, dropout, learning rate and batch size are search spaces, written
   straight into the model's arguments (``@hs.torch.searchable()``).
2. ``Trainer.search`` with ASHA pruning; ``search_summary()``; the returned best model (trained, no retraining)
   against the median of 5 random configurations trained the same way; ``trainer.fit(best)`` trains on.
3. Resume: the search kept in SQLite and continued with more trials, every earlier trial informing the sampler.
4. Parallel: the same search by two worker processes on one PostgreSQL study (skipped, saying why, when the
   server is unreachable).
5. A plain-PyTorch training loop (no Lightning) through the same decorator and ``trial.report``.

usage: python examples/lightning_digits.py [--trials 20] [--epochs 8] [--quick] [--postgres URL]

About a minute and a half on two cores with the defaults (``--quick``: a few seconds, for the tests).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

import hypersweep as hs
from hypersweep import space


def digits() -> tuple[TensorDataset, TensorDataset]:
    X, y = load_digits(return_X_y=True)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    X, y = torch.tensor(X / 16.0, dtype=torch.float32)[order], torch.tensor(y)[order]
    return TensorDataset(X[:1300], y[:1300]), TensorDataset(X[1300:], y[1300:])


TRAIN, VAL = digits()


@hs.torch.searchable()
class DigitsNet(L.LightningModule):
    """An MLP on digits that brings its own data loaders, so that the batch size is one of its arguments."""

    def __init__(self, hidden: int = 32, dropout: float = 0.1, lr: float = 1e-3, batch_size: int = 32) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                       torch.nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def train_dataloader(self):
        return DataLoader(TRAIN, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(VAL, batch_size=512)


def searchable_net():
    return DigitsNet(hidden=space.Categorical(8, 16, 32, 64, 128), dropout=space.Real(0.0, 0.6),
                     lr=space.Real(1e-4, 1e-1, log=True), batch_size=space.Categorical(16, 32, 64, 128))


def trainer(epochs: int) -> hs.torch.Trainer:
    return hs.torch.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="4 trials of 2 epochs: checks that it all runs")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.epochs = 4, 2
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="lightning")
    torch.set_num_threads(2)
    start = time.perf_counter()

    print(f"1-2. Trainer.search: {args.trials} trials of up to {args.epochs} epochs, ASHA pruning")
    t = trainer(args.epochs)
    best = t.search(searchable_net(), target_metric="val_acc", n_trials=args.trials, scheduler="asha", seed=0,
                    progress=False)
    study = t.search_summary()
    frame = study.trials_dataframe()
    print(frame[["number", "state", "objective", "p:hidden", "p:dropout", "p:lr", "p:batch_size"]]
          .sort_values("objective", ascending=False).head(5).to_string(index=False))
    epochs_run = sum(len(trial.intermediate) for trial in study.trials)
    print(f"   epochs trained: {epochs_run} of {args.trials * args.epochs} without pruning")
    checked = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False).validate(
        best, verbose=False)[0]["val_acc"]
    print(f"   best trial {study.best_trial.number}: val_acc {study.best_value:.4f} (the returned model, "
          f"validated again: {checked:.4f}); config {study.best_config}")

    baseline = trainer(args.epochs)
    baseline.search(searchable_net(), target_metric="val_acc", n_trials=5, sampler="random", seed=1,
                    progress=False)
    median = statistics.median(trial.value for trial in baseline.search_summary().trials)
    print(f"   median val_acc of 5 random configurations trained the same way: {median:.4f} "
          f"({'beaten' if study.best_value > median else 'NOT beaten'} by the search)")
    t.fit(best)
    print(f"   trainer.fit(best) trained {t.current_epoch} more epochs")

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'hpo.db'}"
        print(f"\n3. resume: {args.trials // 2} trials kept in {url}, then {args.trials // 2} more")
        first = trainer(args.epochs)
        first.search(searchable_net(), target_metric="val_acc", n_trials=args.trials // 2, storage=url,
                     study_name="digits", seed=0, progress=False)
        again = trainer(args.epochs)
        again.search(searchable_net(), target_metric="val_acc", n_trials=args.trials // 2, storage=url,
                     study_name="digits", resume=True, seed=0, progress=False)
        resumed = again.search_summary()
        print(f"   {len(resumed.trials)} trials in the study; best val_acc {resumed.best_value:.4f}")

        print("\n4. parallel: 2 worker processes on one PostgreSQL study")
        try:
            from hypersweep.storage.sql import SQLStorage

            SQLStorage(args.postgres).close()
        except Exception as exc:  # an unreachable server is reported, not fatal: the rest still ran
            print(f"   skipped: PostgreSQL unreachable at {args.postgres} ({type(exc).__name__})")
        else:
            parallel = trainer(args.epochs)
            parallel.search(searchable_net(), target_metric="val_acc", n_trials=4, storage=args.postgres,
                            study_name=f"digits-{time.strftime('%Y%m%d-%H%M%S')}", n_parallels=2,
                            artifacts=str(Path(folder) / "artifacts"), progress=False)
            finished = parallel.search_summary().trials
            print(f"   {len(finished)} trials, numbers {sorted(x.number for x in finished)}, "
                  f"best val_acc {parallel.search_summary().best_value:.4f}")

    print("\n5. a plain PyTorch loop: the same decorator, trial.epochs() and trial.report()")

    @hs.torch.searchable()
    class Plain(torch.nn.Module):
        def __init__(self, hidden: int = 32, lr: float = 1e-3) -> None:
            super().__init__()
            self.lr = lr
            self.net = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))

        def forward(self, x):
            return self.net(x)

    def train(model, trial):
        optimizer = torch.optim.Adam(model.parameters(), lr=model.lr)
        for _epoch in trial.epochs(optimizer):
            for x, y in DataLoader(TRAIN, batch_size=32, shuffle=True):
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
            with torch.no_grad():
                x, y = VAL.tensors
                trial.report(float((model(x).argmax(1) == y).float().mean()))

    plain = Plain(hidden=space.Categorical(16, 64), lr=space.Real(1e-3, 3e-2, log=True))
    result = hs.torch.search(plain, train, max_epochs=args.epochs, target_metric="val_acc",
                             n_trials=max(2, args.trials // 4), scheduler="asha", seed=0, progress=False)
    print(f"   best val_acc {result.study.best_value:.4f} with {result.study.best_config}")
    print(f"\ndone in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
