"""A Lightning search on digits in a process of its own, for the resume and parallel tests.

    python lightning_script.py STORAGE STUDY N_TRIALS [--resume] [--parallels N] [--kill-at-epoch K]
        [--epochs E] [--artifacts DIR] [--log FILE]

``--kill-at-epoch K`` ends the process (os._exit(17), as a crash would) when the K-th epoch of this process
starts; ``--log`` appends "trial epoch pid" for every epoch trained. Prints one JSON line: the trials, the best
value and the returned model's validation score.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lightning as L  # noqa: E402
from digits_models import DigitsMLP, loaders  # noqa: E402

import hypersweep as hs  # noqa: E402
from hypersweep import space  # noqa: E402

_EPOCHS_STARTED = [0]


class _Watch(L.Callback):
    def __init__(self, kill_at: int | None, log: str | None) -> None:
        self.kill_at, self.log_path = kill_at, log

    def on_train_epoch_start(self, trainer, pl_module):
        _EPOCHS_STARTED[0] += 1
        if self.kill_at is not None and _EPOCHS_STARTED[0] == self.kill_at:
            os._exit(17)
        if self.log_path:
            number = next(c.trial.number for c in trainer.callbacks if type(c).__name__ == "_Reporter")
            with open(self.log_path, "a") as f:
                f.write(f"{number} {trainer.current_epoch} {os.getpid()}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("storage")
    parser.add_argument("study")
    parser.add_argument("n_trials", type=int)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--parallels", type=int, default=1)
    parser.add_argument("--kill-at-epoch", type=int)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--artifacts")
    parser.add_argument("--log")
    args = parser.parse_args()
    train, val = loaders()
    model = DigitsMLP(hidden=space.Categorical(16, 32, 64), dropout=space.Real(0.0, 0.5),
                      lr=space.Real(1e-3, 3e-2, log=True))
    trainer = hs.torch.Trainer(max_epochs=args.epochs, logger=False,
                               callbacks=[_Watch(args.kill_at_epoch, args.log)])
    best = trainer.search(model, train, val, target_metric="val_acc", n_trials=args.n_trials, seed=0,
                          storage=args.storage, study_name=args.study, resume=args.resume,
                          n_parallels=args.parallels, artifacts=args.artifacts, progress=False)
    study = trainer.search_summary()
    score = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False).validate(
        best, val, verbose=False)[0]["val_acc"]
    trials = [{"number": t.number, "state": t.state.value, "steps": sorted(t.intermediate), "value": t.value,
               "config": t.config} for t in study.trials]
    print(json.dumps({"trials": trials, "best_value": study.best_value, "best_number": study.best_trial.number,
                      "returned_score": score}))


if __name__ == "__main__":
    main()
