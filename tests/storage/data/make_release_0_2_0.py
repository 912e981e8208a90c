"""Writes release-0.2.0.sqlite: a study file as hypersweep 0.2.0 (schema version 2, one objective per study) left
it.

Run once with that release installed (commit a66fad0, before the multi-objective schema); the file is committed so
that later releases test that they open, migrate and resume it. Do not regenerate it with a newer release.
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
    assert SCHEMA_VERSION == 2, "run this with hypersweep 0.2.0 (schema version 2)"
    path = Path(__file__).with_name("release-0.2.0.sqlite")
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    space = {"units": hs.Int(1, 100), "lr": hs.Float(1e-4, 1.0, log=True), "act": hs.Categorical(["relu", "tanh"]),
             "drop": hs.Float(0.0, 0.5)}
    study = hs.create_study(hs.Problem(space), direction="maximize", sampler="random", scheduler="asha",
                            storage=url, name="poly", seed=0, artifacts=None)
    study.enqueue({"units": 10, "lr": 0.01, "act": "relu", "drop": 0.0})
    study.optimize(curve, n_trials=12, progress=False)
    failed = study.ask()
    study.tell(failed, state="failed", fail_reason="ValueError: diverged")
    running = study.ask()  # left RUNNING, as a process killed mid-trial leaves it
    study.storage.report(running.trial_id, 1, 0.25)
    study.storage.set_trial_attr(running.trial_id, "note", "interrupted", system=False)
    study.enqueue({"units": 50, "lr": 0.1, "act": "tanh", "drop": 0.25})  # left WAITING
    study.storage.set_study_attr(study.study_id, "owner", "release-0.2.0")
    other = hs.create_study({"x": (0.0, 1.0)}, storage=url, name="plain", direction="minimize", sampler="random",
                            seed=1, artifacts=None)
    other.optimize(lambda c: (c["x"] - 0.3) ** 2, n_trials=5, progress=False)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
