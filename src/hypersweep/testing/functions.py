"""Oracle objectives with known optima, all minimized: Branin, Hartmann6, Rosenbrock, Ackley, Styblinski-Tang
(the sampler benchmark's targets) and Hartmann3, six-hump camel, Levy, Griewank (held out of any tuning: a check
that a change to a sampler generalizes).

Each exposes its `space`, is called with a config and knows its `optimum`; regret is ``f(config) - optimum``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from hypersweep._validation import invalid
from hypersweep.space import Float, Space

__all__ = [
    "OracleFunction", "Branin", "Hartmann6", "Rosenbrock", "Ackley", "StyblinskiTang", "Hartmann3", "SixHumpCamel",
    "Levy", "Griewank", "ORACLES",
]


def _check_dim(dim: Any, minimum: int, example: int) -> None:
    if not isinstance(dim, int) or dim < minimum:
        raise invalid("dim", dim, f"an int >= {minimum}", f"pass the number of dimensions, e.g. dim={example}")


class OracleFunction:
    """A test objective over a box: parameters ``x0 .. x{dim-1}``, minimized, with a known `optimum`.

    >>> f = Branin()
    >>> round(f({"x0": math.pi, "x1": 2.275}) - f.optimum, 6)
    0.0
    """

    name: str = "oracle"
    optimum: float = 0.0

    def __init__(self, bounds: list[tuple[float, float]]) -> None:
        self.bounds = [(float(lo), float(hi)) for lo, hi in bounds]
        self.dim = len(self.bounds)
        self.space = Space({f"x{i}": Float(lo, hi) for i, (lo, hi) in enumerate(self.bounds)})

    def __call__(self, config: Mapping[str, Any]) -> float:
        x = np.array([config[f"x{i}"] for i in range(self.dim)], dtype=float)
        return float(self.evaluate(x))

    def evaluate(self, x: np.ndarray) -> float:
        """The objective at the point ``x`` (one coordinate per parameter)."""
        raise NotImplementedError

    def regret(self, value: float) -> float:
        """``value - optimum`` (0 at the optimum)."""
        return float(value) - self.optimum

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class Branin(OracleFunction):
    """Branin-Hoo on [-5, 10] x [0, 15]; three global minima of 0.397887.

    >>> round(Branin()({"x0": 9.42478, "x1": 2.475}), 5)
    0.39789
    """

    name = "branin"
    optimum = 0.39788735772973816

    def __init__(self) -> None:
        super().__init__([(-5.0, 10.0), (0.0, 15.0)])

    def evaluate(self, x):
        b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
        return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


class _Hartmann(OracleFunction):
    """The Hartmann family on [0, 1]^d: ``-sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)``, four wells; a
    member gives its ``_A`` and ``_P`` (4 x d)."""

    _ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
    _A: np.ndarray
    _P: np.ndarray

    def __init__(self) -> None:
        super().__init__([(0.0, 1.0)] * self._A.shape[1])

    def evaluate(self, x):
        return -float(self._ALPHA @ np.exp(-np.sum(self._A * (x - self._P) ** 2, axis=1)))


class Hartmann6(_Hartmann):
    """Hartmann 6-D on [0, 1]^6; minimum -3.32237 near (0.2017, 0.1500, 0.4769, 0.2753, 0.3117, 0.6573).

    >>> f = Hartmann6()
    >>> round(f(dict(zip(f.space.dims, [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]))), 4)
    -3.3224
    """

    name = "hartmann6"
    optimum = -3.3223680114155147
    _A = np.array(
        [
            [10, 3, 17, 3.5, 1.7, 8],
            [0.05, 10, 17, 0.1, 8, 14],
            [3, 3.5, 1.7, 10, 17, 8],
            [17, 8, 0.05, 10, 0.1, 14],
        ]
    )
    _P = 1e-4 * np.array(
        [
            [1312, 1696, 5569, 124, 8283, 5886],
            [2329, 4135, 8307, 3736, 1004, 9991],
            [2348, 1451, 3522, 2883, 3047, 6650],
            [4047, 8828, 8732, 5743, 1091, 381],
        ]
    )


class Rosenbrock(OracleFunction):
    """Rosenbrock's valley on [low, high]^dim (default [-5, 10]^5, as in Surjanovic & Bingham); minimum 0 at 1s.

    >>> Rosenbrock()({f"x{i}": 1.0 for i in range(5)})
    0.0
    """

    name = "rosenbrock"
    optimum = 0.0

    def __init__(self, dim: int = 5, low: float = -5.0, high: float = 10.0) -> None:
        if dim < 2:
            raise invalid("dim", dim, "an int >= 2", "Rosenbrock needs two dimensions or more")
        super().__init__([(low, high)] * dim)

    def evaluate(self, x):
        return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


class Ackley(OracleFunction):
    """Ackley on [-bound, bound]^dim (default the standard [-32.768, 32.768]^10); minimum 0 at the origin.

    >>> Ackley(dim=2)({"x0": 0.0, "x1": 0.0}) < 1e-12
    True
    """

    name = "ackley"
    optimum = 0.0

    def __init__(self, dim: int = 10, bound: float = 32.768) -> None:
        if dim < 1 or bound <= 0:
            raise ValueError(f"Ackley: need dim >= 1 and bound > 0, got dim={dim}, bound={bound}")
        super().__init__([(-bound, bound)] * dim)

    def evaluate(self, x):
        a, b, c = 20.0, 0.2, 2 * math.pi
        return float(-a * math.exp(-b * math.sqrt(np.mean(x**2))) - math.exp(np.mean(np.cos(c * x))) + a + math.e)


class StyblinskiTang(OracleFunction):
    """Styblinski-Tang on [-5, 5]^dim (default 20 dimensions): ``sum(x^4 - 16 x^2 + 5 x) / 2``, separable, with
    2^dim local minima; the global one, ``-39.16616570377142 * dim``, at every ``x_i = -2.903534``.

    >>> f = StyblinskiTang(dim=2)
    >>> round(f({"x0": -2.903534, "x1": -2.903534}) - f.optimum, 6)
    0.0
    """

    name = "styblinski-tang"

    def __init__(self, dim: int = 20) -> None:
        _check_dim(dim, 1, 20)
        super().__init__([(-5.0, 5.0)] * dim)
        self.optimum = -39.16616570377142 * dim

    def evaluate(self, x):
        return float(0.5 * np.sum(x**4 - 16.0 * x**2 + 5.0 * x))


class Hartmann3(_Hartmann):
    """Hartmann 3-D on [0, 1]^3: four Gaussian wells; minimum -3.86278 near (0.1146, 0.5556, 0.8525).

    >>> f = Hartmann3()
    >>> round(f({"x0": 0.114589, "x1": 0.555649, "x2": 0.852547}), 5)
    -3.86278
    """

    name = "hartmann3"
    optimum = -3.862779787332663
    _A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
    _P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])


class SixHumpCamel(OracleFunction):
    """Six-hump camel on [-3, 3] x [-2, 2]: six local minima, two of them global (-1.03163 at +-(0.0898, -0.7127)).

    >>> round(SixHumpCamel()({"x0": 0.089842, "x1": -0.712656}), 5)
    -1.03163
    """

    name = "six-hump-camel"
    optimum = -1.0316284534898774

    def __init__(self) -> None:
        super().__init__([(-3.0, 3.0), (-2.0, 2.0)])

    def evaluate(self, x):
        a, b = x
        return float((4 - 2.1 * a**2 + a**4 / 3) * a**2 + a * b + (4 * b**2 - 4) * b**2)


class Levy(OracleFunction):
    """Levy on [-10, 10]^dim (default 4 dimensions): rugged, many local minima; minimum 0 at every x_i = 1.

    >>> Levy()({f"x{i}": 1.0 for i in range(4)}) < 1e-12
    True
    """

    name = "levy"
    optimum = 0.0

    def __init__(self, dim: int = 4) -> None:
        _check_dim(dim, 2, 4)
        super().__init__([(-10.0, 10.0)] * dim)

    def evaluate(self, x):
        w = 1 + (x - 1) / 4
        body = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
        return float(math.sin(math.pi * w[0]) ** 2 + body + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2))


class Griewank(OracleFunction):
    """Griewank on [-600, 600]^dim (default 8 dimensions): a bowl with fine ripples; minimum 0 at the origin.

    >>> Griewank()({f"x{i}": 0.0 for i in range(8)})
    0.0
    """

    name = "griewank"
    optimum = 0.0

    def __init__(self, dim: int = 8) -> None:
        _check_dim(dim, 1, 8)
        super().__init__([(-600.0, 600.0)] * dim)

    def evaluate(self, x):
        i = np.arange(1, len(x) + 1)
        return float(np.sum(x**2) / 4000 - np.prod(np.cos(x / np.sqrt(i))) + 1)


#: name -> factory of the default instance of each oracle
ORACLES: dict[str, type[OracleFunction]] = {
    "branin": Branin,
    "hartmann6": Hartmann6,
    "rosenbrock": Rosenbrock,
    "ackley": Ackley,
    "styblinski-tang": StyblinskiTang,
    "hartmann3": Hartmann3,
    "six-hump-camel": SixHumpCamel,
    "levy": Levy,
    "griewank": Griewank,
}
