"""Deferred Keras parts: layers, optimizers and inputs whose arguments may hold search spaces."""

from __future__ import annotations

import itertools
import re
from typing import Any

import keras

from hypersweep.deferred import Deferred, holds_space

__all__ = ["DeferredLayer", "Input", "label_layers", "layers", "optimizers"]

_ORDER = itertools.count()  # creation order of deferred layers: labels follow it within one model


class DeferredLayer(Deferred):
    """A Keras layer made per trial. Calling it on a deferred input (``layer(x)``) is deferred too, which is
    how a functional model is written: ``x = layers.Dense(units=space.Int(8, 64))(inputs)``."""

    def __init__(self, factory: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        super().__init__(factory, args, kwargs, name=getattr(factory, "__name__", None))
        self.order = next(_ORDER)
        explicit = kwargs.get("name")
        self.explicit_label = explicit if isinstance(explicit, str) else None

    def __call__(self, *args: Any, **kwargs: Any) -> Deferred:
        return Deferred(_apply, (self, *args), kwargs, name=f"{self.name}(...)", transparent=True)


def _apply(layer: Any, *args: Any, **kwargs: Any) -> Any:
    return layer(*args, **kwargs)


class _Namespace:
    """``layers.Dense(...)`` / ``optimizers.Adam(...)``: the Keras class of that name, deferred."""

    def __init__(self, module: Any, kind: type, deferred: type[Deferred]) -> None:
        self._module, self._kind, self._deferred = module, kind, deferred

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._module, name)
        if not (isinstance(target, type) and issubclass(target, self._kind)):
            return target  # functions and constants of the module, unchanged

        def make(*args: Any, **kwargs: Any) -> Any:
            for i, arg in enumerate(args):
                if holds_space(arg):
                    raise TypeError(
                        f"{name}(): a search space was passed as positional argument {i}; pass search spaces by "
                        f"keyword, e.g. {name}(units=space.Int(8, 64)), so that the parameter gets a name"
                    )
            return self._deferred(target, args, kwargs)

        make.__name__ = make.__qualname__ = name
        make.__doc__ = f"keras.{self._module.__name__.split('.')[-1]}.{name}, made per trial (spaces allowed)."
        return make

    def __dir__(self) -> list[str]:
        return dir(self._module)


class _DeferredOptimizer(Deferred):
    def __init__(self, factory: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        super().__init__(factory, args, kwargs, name=getattr(factory, "__name__", None))


#: ``keras.layers``, every layer deferred (`DeferredLayer`): ``layers.Dense(units=space.Int(8, 64))``
layers = _Namespace(keras.layers, keras.layers.Layer, DeferredLayer)
#: ``keras.optimizers``, deferred: ``optimizers.RMSprop(learning_rate=space.Real(1e-4, 1e-2, log=True))``
optimizers = _Namespace(keras.optimizers, keras.optimizers.Optimizer, _DeferredOptimizer)


def Input(*args: Any, **kwargs: Any) -> Deferred:  # noqa: N802 - Keras's own name
    """``keras.Input``, made per trial (each trial's functional model gets its own graph)."""
    return Deferred(keras.Input, args, kwargs, name="Input", transparent=True)


def label_layers(root: Any) -> None:
    """Name every deferred layer under ``root`` as Keras would: its ``name=``, else its class in snake case,
    numbered in creation order when the class is used again ("dense", "dense_1", ...)."""
    found: dict[int, DeferredLayer] = {}
    _find_layers(root, found, set())
    counts: dict[str, int] = {}
    for layer in sorted(found.values(), key=lambda one: one.order):
        if layer.explicit_label is not None:
            layer.label = layer.explicit_label
            continue
        base = _snake(layer.name)
        n = counts.get(base, 0)
        counts[base] = n + 1
        layer.label = base if n == 0 else f"{base}_{n}"


def _find_layers(value: Any, found: dict[int, DeferredLayer], seen: set[int]) -> None:
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, DeferredLayer):
        found[id(value)] = value
    if isinstance(value, Deferred):
        for v in (*value.args, *value.kwargs.values()):
            _find_layers(v, found, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _find_layers(v, found, seen)
    elif isinstance(value, dict):
        for v in value.values():
            _find_layers(v, found, seen)
    elif hasattr(value, "choices") and isinstance(value.choices, list):  # a Categorical of layers
        for v in value.choices:
            _find_layers(v, found, seen)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
