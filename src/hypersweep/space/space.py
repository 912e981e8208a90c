"""`Space`: an ordered set of named parameters, built from explicit types or DeepHyper-style shorthand.

Pure: sampling, validation, grid enumeration and the unit-cube encoding used by model-based samplers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from hypersweep._validation import check_int
from hypersweep.space.params import (
    Categorical,
    Constant,
    Distribution,
    Float,
    Int,
    Param,
    _is_number,
)

__all__ = ["Space", "as_param"]

_LOG_WORDS = {"log-uniform": True, "loguniform": True, "log": True, "uniform": False, "linear": False}


def as_param(spec: Any, name: str = "parameter") -> Param:
    """Turn shorthand into a `Param`.

    ``(low, high)`` -> `Int` when both are ints, else `Float`; a third item ``"log-uniform"`` (or
    ``"uniform"``) picks the scale; a list -> `Categorical`; a scipy.stats frozen distribution ->
    `Distribution`; a plain value -> `Constant`.

    >>> as_param((1, 100)), as_param((1e-4, 1.0, "log-uniform")), as_param(["a", "b"])
    (Int(1, 100), Float(0.0001, 1.0, log=True), Categorical(['a', 'b']))
    """
    if isinstance(spec, Param):
        param = spec
    elif isinstance(spec, tuple):
        param = _range_from_tuple(spec, name)
    elif isinstance(spec, list):
        if not spec:
            raise ValueError(f"{name}: an empty list has no choices; give at least one value")
        param = Categorical(spec)
    elif hasattr(spec, "ppf") and hasattr(spec, "rvs"):
        param = Distribution(spec)
    elif spec is None or isinstance(spec, (str, bool, int, float, np.generic)):
        param = Constant(spec)
    else:
        raise TypeError(
            f"{name}: cannot build a parameter from {type(spec).__name__} {spec!r}; use (low, high), "
            "(low, high, 'log-uniform'), a list of choices, a scipy.stats distribution, or hs.Int/Float/Categorical"
        )
    param.name = name
    return param


def _range_from_tuple(spec: tuple, name: str) -> Param:
    if len(spec) not in (2, 3):
        raise ValueError(
            f"{name}: a range tuple is (low, high) or (low, high, 'log-uniform'), got {spec!r}; "
            "use a list for categorical choices"
        )
    low, high = spec[0], spec[1]
    if not (_is_number(low) and _is_number(high)):
        raise TypeError(
            f"{name}: mixed or non-numeric tuple {spec!r}; a tuple is a numeric range (low, high) — "
            "use a list for categorical choices"
        )
    log = False
    if len(spec) == 3:
        if not isinstance(spec[2], str) or spec[2].lower() not in _LOG_WORDS:
            raise ValueError(
                f"{name}: the third item of a range must be one of {sorted(_LOG_WORDS)}, got {spec[2]!r}"
            )
        log = _LOG_WORDS[spec[2].lower()]
    both_int = all(isinstance(v, (int, np.integer)) for v in (low, high))
    try:
        return Int(low, high, log=log) if both_int else Float(low, high, log=log)
    except (TypeError, ValueError) as error:  # say which parameter: a space may hold dozens of ranges
        raise type(error)(f"{name}={spec!r}: {error}") from None


class Space(Mapping[str, Param]):
    """Named parameters, in order.

    >>> space = Space({"units": (1, 100), "lr": (1e-4, 1.0, "log-uniform"), "act": ["relu", "tanh"]})
    >>> config = space.sample(np.random.default_rng(0))
    >>> space.decode(space.encode(config)) == config
    True
    """

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        if isinstance(params, Space):
            params = dict(params.items())
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(f"Space: expected a dict of name -> parameter, got {type(params).__name__}")
        self._params: dict[str, Param] = {}
        for name, spec in (params or {}).items():
            self.add(name, spec)

    def add(self, name: str, spec: Any) -> Param:
        """Add one parameter (shorthand accepted); names are unique strings."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"Space: parameter names must be non-empty strings, got {name!r}")
        if name in self._params:
            raise ValueError(f"Space: parameter {name!r} is defined twice")
        param = as_param(spec, name)
        if getattr(param, "holds_objects", False):
            param.to_dict()  # raises the error that says where such choices work
        self._params[name] = param
        self._dims = [n for n, p in self._params.items() if not p.is_constant]
        return param

    # Mapping protocol
    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    @property
    def dims(self) -> list[str]:
        """Names of the searched (non-constant) parameters: the axes of the unit cube."""
        return list(getattr(self, "_dims", []))

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A random config."""
        return {name: param.sample(rng) for name, param in self._params.items()}

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` checked and in canonical form; constants may be omitted.

        >>> Space({"x": (0, 10)}).validate({"x": 3.0})
        {'x': 3}
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"a config must be a dict of parameter -> value, got {type(config).__name__}")
        unknown = set(config) - set(self._params)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; the space has {list(self._params)}")
        out = {}
        for name, param in self._params.items():
            if name not in config:
                if param.is_constant:
                    out[name] = param.value  # type: ignore[attr-defined]
                    continue
                raise ValueError(f"missing parameter {name!r} ({param!r}) in config {dict(config)!r}")
            out[name] = param.validate(config[name])
        return out

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """Point of the unit cube (one axis per searched parameter) for ``config``."""
        return np.array([self._params[n].encode(config[n]) for n in self.dims], dtype=float)

    def encode_many(self, configs: list[Mapping[str, Any]]) -> np.ndarray:
        """`encode` of each config, as an array of shape (len(configs), len(dims))."""
        if not configs:
            return np.empty((0, len(self.dims)))
        return np.array([[self._params[n].encode(c[n]) for n in self.dims] for c in configs], dtype=float)

    def decode(self, u: np.ndarray) -> dict[str, Any]:
        """Config at point ``u`` of the unit cube (constants filled in)."""
        values = {n: self._params[n].decode(x) for n, x in zip(self.dims, u, strict=True)}
        return {name: values[name] if name in values else p.decode(0.5) for name, p in self._params.items()}

    def grid(self, n_points: int = 10) -> list[dict[str, Any]]:
        """Every combination of each parameter's grid values (``n_points`` per continuous range).

        >>> len(Space({"a": ["x", "y"], "b": (1, 3)}).grid())
        6
        """
        check_int("n_points", n_points, minimum=1, fix="the grid takes n_points values per range")
        names = list(self._params)
        axes = [self._params[n].grid(n_points) for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]

    def grid_size(self, n_points: int = 10) -> int:
        """How many configs `grid` would return, without building them."""
        size = 1
        for param in self._params.values():
            size *= len(param.grid(n_points))
        return size

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored with a study); `Space.from_dict` inverts it."""
        return {name: param.to_dict() for name, param in self._params.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        return cls({name: Param.from_dict(spec) for name, spec in data.items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        width = max((len(n) for n in self._params), default=4)
        lines = [f"{'name':<{width}}  parameter"]
        lines += [f"{name:<{width}}  {param!r}" for name, param in self._params.items()]
        return "Space:\n  " + "\n  ".join(lines)
