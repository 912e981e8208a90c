"""A search run as its own process by the resume and multi-writer tests.

usage: python search_script.py STORAGE_URL STUDY_NAME N_TRIALS SLEEP_SECONDS [SAMPLER]
       python search_script.py epochs STORAGE_URL STUDY_NAME N_TRIALS SLEEP_SECONDS ARTIFACTS LOG [WORKERS EXECUTOR]

The second form trains each trial for EPOCHS epochs with a checkpoint after each (`epochs_objective`), and
appends "<trial number> <epoch>" to LOG for every epoch it runs.
"""

import sys
import time

import hypersweep as hs

SPACE = {"x": (0.0, 1.0), "n": (1, 10)}
EPOCHS = 8


def objective(config):
    time.sleep(float(sys.argv[4]))
    return (config["x"] - 0.3) ** 2 + config["n"] / 100


def epochs_objective(log_path, sleep):
    """An objective that resumes at its checkpoint, as the trial-lifecycle tutorial writes it."""

    def train(config, trial):
        model, start = {"w": 0.0, "epochs": []}, 0
        if trial.checkpoint is not None:
            model, start = trial.load_checkpoint(), trial.last_step
        loss = None
        for epoch in range(start + 1, EPOCHS + 1):
            time.sleep(sleep)  # one epoch of training
            model["w"] += config["x"]
            model["epochs"].append(epoch)
            with open(log_path, "a") as log:
                log.write(f"{trial.number} {epoch}\n")
            loss = (config["x"] - 0.3) ** 2 + config["n"] / 100 + 1.0 / epoch
            trial.report(loss, step=epoch)
            trial.save_checkpoint(model, step=epoch)
        return loss

    return train


if __name__ == "__main__":
    if sys.argv[1] == "epochs":
        url, name, n_trials, sleep, artifacts, log_path = sys.argv[2:8]
        workers = int(sys.argv[8]) if len(sys.argv) > 8 else 2
        executor = sys.argv[9] if len(sys.argv) > 9 else "thread"
        study = hs.create_study(SPACE, storage=url, name=name, resume=True, sampler="random", seed=0,
                                heartbeat_interval=0.5, artifacts=artifacts)
        study.optimize(epochs_objective(log_path, float(sleep)), n_trials=int(n_trials), n_workers=workers,
                       executor=executor, progress=False)
        sys.exit(0)
    url, name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sampler = sys.argv[5] if len(sys.argv) > 5 else "tpe"
    study = hs.create_study(SPACE, storage=url, name=name, resume=True, sampler=sampler, heartbeat_interval=0.5)
    study.optimize(objective, n_trials=n_trials, progress=False)
