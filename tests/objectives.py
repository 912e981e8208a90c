"""Objectives shared by tests; importable by worker processes (pytest puts tests/ on sys.path)."""

import math
import os
import time


def quadratic(config):
    return (config["x"] - 0.3) ** 2


def slow_quadratic(config):
    time.sleep(0.05)
    return (config["x"] - 0.3) ** 2


def busy(config):
    """CPU-bound for ~0.2 s."""
    end = time.process_time() + 0.2
    total = 0.0
    while time.process_time() < end:
        total += math.sin(total + config["x"])
    return config["x"]


def with_metadata(config):
    return {"objective": config["x"], "metadata": {"pid": os.getpid(), "note": "ok"}}


def curve(config, trial):
    """Learning curve: better (lower) for x close to 0.3; reports 9 steps, stops when told."""
    value = None
    for step in range(1, 10):
        value = (config["x"] - 0.3) ** 2 + 1.0 / step
        trial.report(value, step=step)
        if trial.should_stop():
            break
    return value


def crash_on_big_x(config):
    if config["x"] > 0.8:
        os._exit(1)  # the worker process dies
    return config["x"]


def checkpointed_curve(config, trial):
    """Learning curve over 9 steps that checkpoints every step and resumes from its checkpoint; the
    checkpoint lists the steps this trial ran, so tests can tell a resumed trial from a retrained one."""
    ran, start, value = [], 0, None
    if trial.checkpoint is not None:
        ran, start, value = trial.load_checkpoint(), trial.last_step, trial.last_value
    for step in range(start + 1, 10):
        ran.append(step)
        value = (config["x"] - 0.3) ** 2 + 1.0 / step
        trial.report(value, step=step)
        trial.save_checkpoint(ran, step=step)
        if trial.should_stop():
            break
    return value
