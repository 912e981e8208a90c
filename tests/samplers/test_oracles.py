"""The oracle objectives of `hypersweep.testing.functions`: known minima where the literature puts them.

A wrong constant here would make every sampler benchmark report nonsense regrets.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from hypersweep.testing.functions import (
    ORACLES,
    Ackley,
    Branin,
    Griewank,
    Hartmann3,
    Hartmann6,
    Levy,
    Rosenbrock,
    SixHumpCamel,
    StyblinskiTang,
)


def _config(f, x):
    return dict(zip(f.space.dims, map(float, x), strict=True))


@pytest.mark.parametrize("x", [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)])
def test_branin_minima(x):
    f = Branin()
    assert f(_config(f, x)) == pytest.approx(f.optimum, abs=1e-5)


def test_hartmann6_minimum():
    f = Hartmann6()
    x = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    assert f(_config(f, x)) == pytest.approx(f.optimum, abs=1e-5)


def test_rosenbrock_and_ackley_minima():
    for f in (Rosenbrock(), Rosenbrock(dim=3, low=-2.0, high=2.0)):
        assert f(_config(f, np.ones(f.dim))) == 0.0
    for f in (Ackley(), Ackley(dim=3, bound=5.0)):
        assert f(_config(f, np.zeros(f.dim))) == pytest.approx(0.0, abs=1e-12)
    assert Ackley().dim == 10 and Rosenbrock().dim == 5


def test_styblinski_tang_minimum():
    for f in (StyblinskiTang(), StyblinskiTang(dim=3)):
        assert f(_config(f, np.full(f.dim, -2.903534))) == pytest.approx(f.optimum, abs=1e-6 * f.dim)
        # the other corner's basin (x_i near +2.75) is a local minimum only
        assert f(_config(f, np.full(f.dim, 2.7468))) > f.optimum + 10 * f.dim
    assert StyblinskiTang().dim == 20


@pytest.mark.parametrize(
    "f, x",
    [
        (Hartmann3(), [0.114589, 0.555649, 0.852547]),
        (SixHumpCamel(), [0.089842, -0.712656]),
        (SixHumpCamel(), [-0.089842, 0.712656]),
        (Levy(), np.ones(4)),
        (Levy(dim=2), np.ones(2)),
        (Griewank(), np.zeros(8)),
    ],
)
def test_held_out_oracles_minima(f, x):
    assert f(_config(f, x)) == pytest.approx(f.optimum, abs=1e-6)
    # a local search from next to the minimum finds nothing lower: the constant is the minimum, not a rounding
    found = optimize.minimize(f.evaluate, np.asarray(x, dtype=float) + 1e-3, method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    assert found.fun >= f.optimum - 1e-9 and found.fun == pytest.approx(f.optimum, abs=1e-6)


@pytest.mark.parametrize("name", list(ORACLES))
def test_random_points_are_above_the_optimum(name):
    f = ORACLES[name]()
    rng = np.random.default_rng(0)
    values = [f(f.space.sample(rng)) for _ in range(200)]
    assert min(values) > f.optimum
    assert f.regret(min(values)) > 0
    assert all(lo <= hi for lo, hi in f.bounds)


def test_bad_oracle_arguments():
    with pytest.raises(ValueError, match="dim"):
        Rosenbrock(dim=1)
    with pytest.raises(ValueError, match="bound"):
        Ackley(bound=0.0)
    with pytest.raises(ValueError, match="dim"):
        StyblinskiTang(dim=0)
    with pytest.raises(ValueError, match="dim"):
        Levy(dim=1)
    with pytest.raises(ValueError, match="dim"):
        Griewank(dim=0)
