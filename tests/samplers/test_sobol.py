"""The space-filling random sampler."""

from __future__ import annotations

import numpy as np

import hypersweep as hs
from hypersweep.samplers import get_sampler
from hypersweep.space import Space


def test_sobol_covers_each_parameter_evenly_and_is_reproducible():
    space = Space({"c": ["a", "b", "c", "d", "e", "f", "g", "h"], "x": (0.0, 1.0)})
    sampler = get_sampler("sobol", seed=3)
    configs = [sampler.ask(space, [None] * i, [], "minimize") for i in range(8)]
    assert sorted(c["c"] for c in configs) == list("abcdefgh")  # every choice once in 8 draws
    xs = np.sort([c["x"] for c in configs])
    assert np.all(np.floor(xs * 8) == np.arange(8))  # one point in each eighth
    again = get_sampler("sobol", seed=3)
    assert configs == [again.ask(space, [None] * i, [], "minimize") for i in range(8)]
    assert configs != [get_sampler("sobol", seed=4).ask(space, [None] * i, [], "minimize") for i in range(8)]


def test_sobol_in_a_study_continues_after_resume(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = hs.create_study({"x": (0.0, 1.0)}, sampler="sobol", storage=url, name="s", seed=1)
    first = [study.ask() for _ in range(2)]
    for t in first:
        study.tell(t, t.config["x"])
    resumed = hs.create_study({"x": (0.0, 1.0)}, sampler="sobol", storage=url, name="s", seed=1, resume=True)
    fresh = hs.create_study({"x": (0.0, 1.0)}, sampler="sobol", seed=1)
    expected = [fresh.ask().config["x"] for _ in range(4)]
    assert [t.config["x"] for t in first] + [resumed.ask().config["x"] for _ in range(2)] == expected
