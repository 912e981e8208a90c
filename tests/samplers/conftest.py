"""Shared helpers of the sampler tests: a tiny ask/tell loop and a mixed search space."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hypersweep.samplers.base import BaseSampler
from hypersweep.space import Categorical, Constant, Float, Int, Space
from hypersweep.trial import Trial, TrialState


def ask_tell(
    sampler: BaseSampler,
    space: Space,
    objective: Callable[[dict[str, Any]], float],
    n_trials: int,
    direction: str = "minimize",
) -> list[Trial]:
    """Drive ``sampler`` for ``n_trials`` sequential asks; returns the finished trials."""
    trials: list[Trial] = []
    for number in range(n_trials):
        config = sampler.ask(space, trials, [], direction)
        trials.append(Trial(number, config, TrialState.COMPLETE, value=float(objective(config))))
    return trials


def mixed_space() -> Space:
    return Space(
        {
            "units": Int(1, 512, log=True),
            "layers": Int(1, 4),
            "even": Int(0, 10, step=2),
            "lr": Float(1e-5, 1e-1, log=True),
            "dropout": (0.0, 0.5),
            "act": Categorical(["relu", "tanh", "gelu"]),
            "shape": Categorical([(1, 2), (3, 4), [5, 6]]),
            "flag": Categorical([True, False, None]),
            "epochs": Constant(3),
            "name": "fixed",
        }
    )


def mixed_objective(config: dict[str, Any]) -> float:
    """Minimum at units~64, layers=2, lr~1e-3, dropout~0.1, act='tanh', shape=(3, 4)."""
    import math

    return (
        (math.log(config["units"]) - math.log(64)) ** 2
        + (config["layers"] - 2) ** 2
        + (math.log10(config["lr"]) + 3) ** 2
        + 10 * (config["dropout"] - 0.1) ** 2
        + (config["act"] != "tanh")
        + (list(config["shape"]) != [3, 4])
        + 0.1 * config["even"] / 10
    )


@pytest.fixture
def loop() -> Callable[..., list[Trial]]:
    return ask_tell


@pytest.fixture
def space() -> Space:
    return mixed_space()


@pytest.fixture
def objective() -> Callable[[dict[str, Any]], float]:
    return mixed_objective
