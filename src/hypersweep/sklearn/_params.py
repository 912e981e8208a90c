"""scikit-learn parameter spaces (``{"name": [values] or a scipy.stats distribution}``, or a list of such dicts)
as an engine `Space`, and the engine's configs back as ``set_params`` keyword arguments.

Values the engine cannot store as JSON (estimators, functions, arrays) are searched by their position in the
list and given back as the very objects the user passed; tuples (``hidden_layer_sizes=(24, 24)``) come back as
tuples.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersweep._json import is_jsonable, to_json_value
from hypersweep.space import Categorical, Distribution, Param, Space

__all__ = ["ParamSpace"]

_BRANCH = "__grid__"


class ParamSpace:
    """The engine `Space` of a scikit-learn parameter specification, and the way back.

    >>> from scipy.stats import loguniform
    >>> ps = ParamSpace({"hidden_layer_sizes": [(24,), (12, 12)], "alpha": loguniform(1e-6, 1e-3)})
    >>> sorted(ps.space)
    ['alpha', 'hidden_layer_sizes']
    >>> ps.to_params({"hidden_layer_sizes": [12, 12], "alpha": 1e-4})
    {'hidden_layer_sizes': (12, 12), 'alpha': 0.0001}
    """

    def __init__(self, parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]], name: str = "parameters") -> None:
        if isinstance(parameters, Mapping):
            grids, self._branched = [parameters], False
        elif isinstance(parameters, Sequence) and not isinstance(parameters, str) and len(parameters) > 0:
            grids, self._branched = list(parameters), len(parameters) > 1
        else:
            raise TypeError(
                f"{name} must be a dict of parameter name -> list of values or scipy.stats distribution "
                f"(or a non-empty list of such dicts), got {parameters!r}"
            )
        self._objects: dict[str, list[Any]] = {}  # space key -> the objects behind an index Categorical
        self._names: dict[str, str] = {}  # space key -> estimator parameter name
        space: dict[str, Param] = {}
        for b, grid in enumerate(grids):
            if not isinstance(grid, Mapping):
                raise TypeError(f"{name}[{b}] must be a dict of parameter name -> values, got {grid!r}")
            for pname, spec in grid.items():
                if not isinstance(pname, str):
                    raise TypeError(f"{name}: parameter names must be strings, got {pname!r}")
                key = f"{b}:{pname}" if self._branched else pname
                space[key] = self._param(key, pname, spec, name)
                self._names[key] = pname
        if self._branched:
            space[_BRANCH] = Categorical(list(range(len(grids))))
        self.space = Space(space)

    def _param(self, key: str, pname: str, spec: Any, name: str) -> Param:
        if isinstance(spec, Param):
            return spec
        if hasattr(spec, "rvs"):
            if hasattr(spec, "ppf") and hasattr(spec, "cdf"):
                return Distribution(spec)
            raise TypeError(
                f"{name}[{pname!r}]: {spec!r} has rvs() but no ppf()/cdf(); give a scipy.stats frozen "
                "distribution or a list of values"
            )
        if isinstance(spec, (str, bytes)) or not isinstance(spec, (Sequence, np.ndarray)):
            raise TypeError(
                f"{name}[{pname!r}] must be a list of values or a scipy.stats distribution, got {spec!r}; "
                f"write {pname!r}: [{spec!r}] for a single value"
            )
        values = list(spec)
        if not values:
            raise ValueError(f"{name}[{pname!r}] is an empty list; give at least one value")
        if all(is_jsonable(v) for v in values) and _distinct(values):
            return Categorical([_plain(v) for v in values])
        self._objects[key] = values
        return Categorical(list(range(len(values))))

    def to_params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The estimator parameters of an engine config (tuples restored, objects given back by position)."""
        config = self.space.validate(config)
        branch = config.get(_BRANCH)
        out = {}
        for key, value in config.items():
            if key == _BRANCH or (self._branched and not key.startswith(f"{branch}:")):
                continue
            out[self._names[key]] = self._objects[key][value] if key in self._objects else value
        return out


def _distinct(values: list[Any]) -> bool:
    keys = [json.dumps(to_json_value(v), sort_keys=True) for v in values]
    return len(set(keys)) == len(keys)


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers (what scikit-learn would get from a list of literals)."""
    return value.item() if isinstance(value, np.generic) else value
