"""Writes release-0.1.0.sqlite: a study file as hypersweep 0.1.0 (schema version 1) left it.

Run once with that release installed (commit 6cdb796); the file is committed so that later releases test that
they open, migrate and resume it. Do not regenerate it with a newer release: it must stay an old file.
"""

import sys
from pathlib import Path

import hypersweep as hs
from hypersweep.storage.sql import SCHEMA_VERSION


def curve(config, trial):
    value = 0.0
    for step in range(1, 10):
        value = config["units"] / 100 - config["drop"] + step / 10
        trial.report(value, step=step)
        if trial.should_stop():
            break
    return {"objective": value, "metadata": {"epochs": step}}


def main():
    assert SCHEMA_VERSION == 1, "run this with hypersweep 0.1.0 (schema version 1)"
    path = Path(__file__).with_name("release-0.1.0.sqlite")
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    space = {"units": (1, 100), "lr": (1e-4, 1.0, "log-uniform"), "act": ["relu", "tanh"],
             "drop": hs.Float(0.0, 0.5)}
    study = hs.create_study(hs.Problem(space), direction="maximize", sampler="random", scheduler="asha",
                            storage=url, name="poly", seed=0)
    study.enqueue({"units": 10, "lr": 0.01, "act": "relu", "drop": 0.0})
    study.optimize(curve, n_trials=12, progress=False)
    failed = study.ask()
    study.tell(failed, state="failed", fail_reason="ValueError: diverged")
    running = study.ask()  # left RUNNING, as a process killed mid-trial leaves it (worker column then set to
    # "release-host:999999:0a1b2c" with sqlite3, so that no live process on a test machine can seem to own it)
    study.storage.report(running.trial_id, 1, 0.25)
    study.storage.set_trial_attr(running.trial_id, "note", "interrupted", system=False)
    study.enqueue({"units": 50, "lr": 0.1, "act": "tanh", "drop": 0.25})  # left WAITING
    study.storage.set_study_attr(study.study_id, "owner", "release-0.1.0")
    other = hs.create_study({"x": (0.0, 1.0)}, storage=url, name="plain", sampler="random", seed=1)
    other.optimize(lambda c: (c["x"] - 0.3) ** 2, n_trials=5, progress=False)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
