"""A search run as its own process by the resume and multi-writer tests.

usage: python search_script.py STORAGE_URL STUDY_NAME N_TRIALS SLEEP_SECONDS [SAMPLER]
"""

import sys
import time

import hypersweep as hs


def objective(config):
    time.sleep(float(sys.argv[4]))
    return (config["x"] - 0.3) ** 2 + config["n"] / 100


if __name__ == "__main__":
    url, name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sampler = sys.argv[5] if len(sys.argv) > 5 else "tpe"
    study = hs.create_study(
        {"x": (0.0, 1.0), "n": (1, 10)}, storage=url, name=name, resume=True, sampler=sampler,
        heartbeat_interval=0.5,
    )
    study.optimize(objective, n_trials=n_trials, progress=False)
