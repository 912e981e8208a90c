"""Parameter types of a search space: `Int`, `Float`, `Categorical`, `Constant`, `Distribution`.

Each parameter validates its arguments, samples, enumerates a grid, and maps values to and from [0, 1].
"""

from __future__ import annotations

import abc
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hypersweep._json import to_json_value

__all__ = ["Param", "Int", "Float", "Real", "Categorical", "Constant", "Distribution"]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


class Param(abc.ABC):
    """One dimension of a search space.

    ``encode``/``decode`` map values to and from the unit interval for model-based samplers.
    """

    #: name given by the `Space` that holds it (used in error messages)
    name: str = "parameter"
    #: written into a model definition, the name of the layer or object it belongs to (``prefix="d1"``
    #: names ``units`` "d1:units"); naming only, not part of `to_dict` or of equality
    prefix: str | None = None

    def _set_prefix(self, prefix: str | None) -> None:
        if prefix is not None and (not isinstance(prefix, str) or not prefix or ":" in prefix):
            raise ValueError(
                f"{type(self).__name__}: prefix must be a non-empty string without ':', got prefix={prefix!r}"
            )
        self.prefix = prefix

    @abc.abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """A random value."""

    @abc.abstractmethod
    def encode(self, value: Any) -> float:
        """Position of ``value`` in [0, 1]."""

    @abc.abstractmethod
    def decode(self, u: float) -> Any:
        """The value at position ``u`` in [0, 1] (clipped)."""

    @abc.abstractmethod
    def grid(self, n_points: int) -> list[Any]:
        """Values to try in a grid search (at most ``n_points`` for continuous ranges)."""

    @abc.abstractmethod
    def validate(self, value: Any) -> Any:
        """``value`` in canonical form, or a ValueError naming the parameter."""

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON form; `Param.from_dict` inverts it."""

    @property
    def is_constant(self) -> bool:
        return False

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Param:
        """Inverse of `to_dict`.

        >>> Param.from_dict(Int(1, 5).to_dict())
        Int(1, 5)
        """
        kind = data["type"]
        args = {k: v for k, v in data.items() if k != "type"}
        if kind == "distribution":
            from scipy import stats

            return Distribution(getattr(stats, args["name"])(*args["args"], **args["kwds"]))
        classes = {"int": Int, "float": Float, "categorical": Categorical, "constant": Constant}
        if kind not in classes:
            raise ValueError(f"unknown parameter type {kind!r} in stored space; known: {sorted(classes)}")
        return classes[kind](**args)

    def __eq__(self, other: object) -> bool:
        if getattr(self, "holds_objects", False) or getattr(other, "holds_objects", False):
            return self is other
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        if getattr(self, "holds_objects", False):
            return id(self)
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))


class _Range(Param):
    """Shared checks of numeric ranges."""

    def _check_bounds(self, low: Any, high: Any, log: bool, kind: str) -> None:
        if not _is_number(low) or not _is_number(high):
            raise TypeError(f"{kind}: low and high must be numbers, got low={low!r}, high={high!r}")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{kind}: low and high must be finite, got low={low}, high={high}")
        if low >= high:
            raise ValueError(f"{kind}: low must be < high, got low={low}, high={high}; swap them or widen the range")
        if log and low <= 0:
            raise ValueError(f"{kind}: log=True needs low > 0, got low={low}; use a positive low or log=False")


class Int(_Range):
    """Integers in [low, high] (both included), optionally on a log scale or with a step.

    >>> p = Int(1, 100, log=True)
    >>> p.decode(p.encode(10))
    10
    """

    def __init__(self, low: int, high: int, log: bool = False, step: int = 1, *, prefix: str | None = None) -> None:
        self._set_prefix(prefix)
        for arg, v in (("low", low), ("high", high), ("step", step)):
            if not (_is_number(v) and float(v).is_integer()):
                raise TypeError(f"Int: {arg} must be an integer, got {arg}={v!r}; use Float for real ranges")
        self._check_bounds(low, high, log, "Int")
        if step < 1:
            raise ValueError(f"Int: step must be >= 1, got step={step}")
        if log and step != 1:
            raise ValueError(f"Int: log=True cannot be combined with step={step}; use step=1")
        self.low, self.high, self.log, self.step = int(low), int(high), bool(log), int(step)
        self.n_values = (self.high - self.low) // self.step + 1

    def _snap(self, x: float) -> int:
        idx = round((x - self.low) / self.step)
        return int(self.low + min(max(idx, 0), self.n_values - 1) * self.step)

    def sample(self, rng):
        return self.decode(float(rng.random()))

    def encode(self, value):
        if self.log:
            lo, hi = math.log(self.low - 0.5 if self.low > 0.5 else self.low * 0.5), math.log(self.high + 0.5)
            return (math.log(value) - lo) / (hi - lo)
        return ((value - self.low) / self.step + 0.5) / self.n_values

    def decode(self, u):
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            lo, hi = math.log(self.low - 0.5 if self.low > 0.5 else self.low * 0.5), math.log(self.high + 0.5)
            return self._snap(min(max(math.exp(lo + u * (hi - lo)), self.low), self.high))
        idx = min(int(u * self.n_values), self.n_values - 1)
        return self.low + idx * self.step

    def grid(self, n_points):
        if self.n_values <= n_points:
            return list(range(self.low, self.high + 1, self.step))
        picks = np.linspace(0.0, 1.0, n_points)
        if self.log:
            values = np.exp(np.log(self.low) + picks * (np.log(self.high) - np.log(self.low)))
        else:
            values = self.low + picks * (self.high - self.low)
        return sorted({self._snap(float(v)) for v in values})

    def validate(self, value):
        if not _is_number(value) or not float(value).is_integer():
            raise ValueError(f"{self.name}: expected an integer in [{self.low}, {self.high}], got {value!r}")
        value = int(value)
        if not self.low <= value <= self.high or (value - self.low) % self.step:
            raise ValueError(f"{self.name}: {value} is outside {self!r}")
        return value

    def to_dict(self):
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log, "step": self.step}

    def __repr__(self):
        extra = (", log=True" if self.log else "") + (f", step={self.step}" if self.step != 1 else "")
        return f"Int({self.low}, {self.high}{extra})"


class Float(_Range):
    """Real numbers in [low, high], optionally on a log scale.

    >>> Float(1e-4, 1.0, log=True).decode(0.5)  # doctest: +ELLIPSIS
    0.01...
    """

    def __init__(self, low: float, high: float, log: bool = False, *, prefix: str | None = None) -> None:
        self._set_prefix(prefix)
        self._check_bounds(low, high, log, "Float")
        self.low, self.high, self.log = float(low), float(high), bool(log)

    def _bounds(self) -> tuple[float, float]:
        return (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)

    def sample(self, rng):
        return self.decode(float(rng.random()))

    def encode(self, value):
        lo, hi = self._bounds()
        x = math.log(value) if self.log else float(value)
        return (x - lo) / (hi - lo)

    def decode(self, u):
        u = float(u)
        if u <= 0.0 or u >= 1.0:  # the bounds exactly, not exp(log(bound)) one ulp away
            return self.low if u <= 0.0 else self.high
        lo, hi = self._bounds()
        x = lo + u * (hi - lo)
        return float(min(max(math.exp(x) if self.log else x, self.low), self.high))

    def grid(self, n_points):
        if n_points < 2:
            return [self.decode(0.5)]
        return [self.decode(u) for u in np.linspace(0.0, 1.0, n_points)]

    def validate(self, value):
        if not _is_number(value) or not math.isfinite(value):
            raise ValueError(f"{self.name}: expected a number in [{self.low}, {self.high}], got {value!r}")
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.name}: {value} is outside {self!r}")
        return float(value)

    def to_dict(self):
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log}

    def __repr__(self):
        return f"Float({self.low!r}, {self.high!r}{', log=True' if self.log else ''})"


class Categorical(Param):
    """One of several JSON-able choices (numbers, strings, bools, None, tuples/lists, dicts).

    The choices are given one by one, or as one list (a single list or tuple *is* the list of choices).

    >>> c = Categorical("relu", "tanh", (1, 2))
    >>> c.decode(c.encode((1, 2)))
    (1, 2)
    >>> Categorical([16, 32]) == Categorical(16, 32)
    True
    """

    def __init__(self, *args: Any, choices: Sequence[Any] | None = None, prefix: str | None = None) -> None:
        self._set_prefix(prefix)
        if choices is not None and args:
            raise TypeError("Categorical: give the choices one by one or as choices=[...], not both")
        if choices is None:
            choices = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple, range)) else list(args)
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise TypeError(f"Categorical: choices must be a list, got {type(choices).__name__} {choices!r}")
        if len(choices) == 0:
            raise ValueError("Categorical: choices is empty; give at least one choice")
        keys = []
        #: True when some choice is an object (a layer, a deferred call): then the parameter only works
        #: inside a model definition, which searches the index of the choice (`hypersweep.deferred`)
        self.holds_objects = False
        for i, choice in enumerate(choices):
            try:
                keys.append(json.dumps(to_json_value(choice), sort_keys=True))
            except TypeError:
                self.holds_objects = True
                keys.append(f"<object {i}>")
        if len(set(keys)) != len(keys):
            raise ValueError(f"Categorical: choices contain duplicates: {list(choices)!r}")
        self.choices = list(choices)
        self._index = {k: i for i, k in enumerate(keys)}

    def index(self, value: Any) -> int:
        """Position of ``value`` among the choices (tuples and lists compare equal, as after JSON)."""
        for i, choice in enumerate(self.choices):
            if self.holds_objects and choice is value:
                return i
        try:
            return self._index[json.dumps(to_json_value(value), sort_keys=True)]
        except (KeyError, TypeError):
            raise ValueError(f"{self.name}: {value!r} is not one of {self.choices!r}") from None

    def sample(self, rng):
        return self.choices[int(rng.integers(len(self.choices)))]

    def encode(self, value):
        return (self.index(value) + 0.5) / len(self.choices)

    def decode(self, u):
        u = min(max(float(u), 0.0), 1.0)
        return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]

    def grid(self, n_points):
        return list(self.choices)

    def validate(self, value):
        return self.choices[self.index(value)]

    def to_dict(self):
        if self.holds_objects:
            raise TypeError(
                f"{self.name}: Categorical({self.choices!r}) holds choices that are not JSON-able; such choices "
                "(layers, modules, objects) work inside a model definition (hypersweep.torch, hypersweep.keras), "
                "which searches the index of the choice; in a plain search space use numbers, strings, bools, "
                "None, lists/tuples or dicts of those"
            )
        return {"type": "categorical", "choices": to_json_value(self.choices)}

    def __repr__(self):
        return f"Categorical({self.choices!r})"


#: `Float` under the name model definitions use (``space.Real(1e-4, 1e-2, log=True)``)
Real = Float


class Constant(Param):
    """A fixed value: part of every config, never searched.

    >>> Constant(3).grid(10)
    [3]
    """

    def __init__(self, value: Any) -> None:
        try:
            json.dumps(to_json_value(value))
        except TypeError:
            raise TypeError(f"Constant: value {value!r} is not JSON-able") from None
        self.value = value

    @property
    def is_constant(self) -> bool:
        return True

    def sample(self, rng):
        return self.value

    def encode(self, value):
        return 0.5

    def decode(self, u):
        return self.value

    def grid(self, n_points):
        return [self.value]

    def validate(self, value):
        if to_json_value(value) != to_json_value(self.value):
            raise ValueError(f"{self.name}: is the constant {self.value!r}, got {value!r}")
        return self.value

    def to_dict(self):
        return {"type": "constant", "value": to_json_value(self.value)}

    def __repr__(self):
        return f"Constant({self.value!r})"


class Distribution(Param):
    """A scipy.stats frozen distribution as a parameter; the unit cube is its CDF scale.

    >>> from scipy import stats
    >>> p = Distribution(stats.uniform(0, 2))
    >>> round(p.decode(0.5), 6)
    1.0
    """

    def __init__(self, dist: Any) -> None:
        if not (hasattr(dist, "ppf") and hasattr(dist, "cdf") and hasattr(dist, "rvs")):
            raise TypeError(f"Distribution: expected a scipy.stats frozen distribution, got {dist!r}")
        self.dist = dist
        self.discrete = hasattr(dist.dist, "pmf")
        low, high = dist.support()
        self.low, self.high = float(low), float(high)

    def _cast(self, x: float) -> Any:
        return int(x) if self.discrete else float(x)

    def sample(self, rng):
        return self.decode(float(rng.random()))

    def encode(self, value):
        if self.discrete:  # middle of the value's probability step
            return float((self.dist.cdf(value - 1) + self.dist.cdf(value)) / 2)
        return float(self.dist.cdf(value))

    def decode(self, u):
        u = min(max(float(u), 1e-12), 1 - 1e-12)
        return self._cast(self.dist.ppf(u))

    def grid(self, n_points):
        values = [self.decode(u) for u in (np.arange(n_points) + 0.5) / n_points]
        return sorted(set(values), key=values.index)

    def validate(self, value):
        if not _is_number(value) or not self.low <= value <= self.high:
            raise ValueError(f"{self.name}: {value!r} is outside the support [{self.low}, {self.high}]")
        return self._cast(value)

    def to_dict(self):
        name = self.dist.dist.name
        return {"type": "distribution", "name": name, "args": to_json_value(self.dist.args),
                "kwds": to_json_value(self.dist.kwds)}

    def __repr__(self):
        return f"Distribution({self.dist.dist.name}{tuple(self.dist.args)})"
