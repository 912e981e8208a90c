"""`Problem`: a search space plus starting points, the black-box front end's description of a search.

Written DeepHyper-style: shorthand ranges and lists, or explicit `Int`/`Float`/`Categorical`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypersweep.space import Param, Space

__all__ = ["Problem"]


class Problem:
    """What to search: named parameters and configs to try first.

    >>> import hypersweep as hs
    >>> problem = hs.Problem({"units": (1, 100), "lr": (1e-4, 1.0, "log-uniform"), "act": ["relu", "tanh"]})
    >>> problem.add_starting_point(units=10, lr=0.01, act="relu")
    >>> problem.hyperparameter_names
    ['units', 'lr', 'act']
    """

    def __init__(self, params: Mapping[str, Any] | Space | None = None) -> None:
        self.space = Space(params)
        self._starting_points: list[dict[str, Any]] = []
        self._default_values: dict[str, Any] = {}

    @property
    def starting_points(self) -> list[dict[str, Any]]:
        """Configs to run first: those added, then the defaults' config when every parameter has one."""
        default = self.default_configuration
        return self._starting_points + ([default] if default and default not in self._starting_points else [])

    def add_hyperparameter(self, spec: Any, name: str, default_value: Any = None) -> Param:
        """Add a parameter from shorthand (DeepHyper's argument order); a default becomes a starting point
        once every parameter has one.

        >>> p = Problem()
        >>> p.add_hyperparameter((0.0, 1.0), "x")
        Float(0.0, 1.0)
        """
        param = self.space.add(name, spec)
        if default_value is not None:
            param.validate(default_value)
            self._default_values[name] = default_value
        return param

    add = add_hyperparameter

    def add_starting_point(self, **config: Any) -> None:
        """Queue a config that runs before any the sampler proposes (validated now)."""
        self._starting_points.append(self.space.validate(config))

    @property
    def hyperparameter_names(self) -> list[str]:
        return list(self.space)

    @property
    def default_configuration(self) -> dict[str, Any] | None:
        """The config made of every parameter's default value, when all have one."""
        defaults = self._default_values
        if not defaults or set(defaults) != set(self.space.dims):
            return None
        return self.space.validate(defaults)

    def __repr__(self) -> str:
        names = list(self.space)
        width = max([len(n) for n in names] + [9])
        lines = [f"Problem with {len(names)} parameters", f"  {'name':<{width}}  parameter"]
        lines += [f"  {n:<{width}}  {self.space[n]!r}" for n in names]
        points = self.starting_points
        if points:
            lines.append(f"  starting points ({len(points)}):")
            lines += [f"    {p}" for p in points]
        return "\n".join(lines)
