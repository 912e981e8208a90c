"""Search spaces written into object definitions: a call whose arguments hold spaces is deferred until a
trial's configuration is known.

The deep-learning front ends (`hypersweep.torch`, `hypersweep.keras`) are built on this module: a model,
layer or optimizer called with ``space.Int(...)`` / ``space.Real(...)`` / ``space.Categorical(...)`` among its
keyword arguments becomes a `Deferred` call. `Deferred.space` collects every space reachable from it into one
`Space` (each named after the argument it sits in), and `Deferred.build` makes the real object for one
configuration.

>>> from hypersweep import space
>>> from hypersweep.deferred import Deferred
>>> call = Deferred(dict, kwargs={"width": space.Int(8, 64), "act": space.Categorical("relu", "tanh")})
>>> sorted(call.space())
['act', 'width']
>>> call.build({"width": 32, "act": "tanh"})
{'width': 32, 'act': 'tanh'}

Names: a space at keyword ``k`` of a deferred call labelled ``L`` is named ``"L:k"`` (``"k"`` for an unlabelled
call, such as the model itself); ``prefix="d1"`` names it ``"d1:k"`` instead, and names the call's other spaces
``"d1:..."`` too (in a labelled call, a layer: the prefix tells that layer apart). Deferred calls nested in the
arguments (a layer inside a model, layers in a list) are walked too. One space object used in two places is one
parameter: both places get the same value.

Nested choices: a `Categorical` whose choices are deferred calls (layers, blocks) is a conditional parameter.
The choice itself is a parameter (the index of the choice) named like any other, and the spaces inside the
choice ``i`` of a parameter ``p`` are named ``"p[i]:k"``. They are sampled for every trial (so that every
sampler sees a fixed set of dimensions) but only the chosen one is built, and `active_names` tells which
parameters a configuration actually used. A choice that stands in a list of layers, outside any keyword
argument, is named by its ``prefix``.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import Any

from hypersweep.space import Categorical, Param, Space

__all__ = ["Deferred", "active_names", "build", "collect_space", "holds_space", "make_searchable"]


class Deferred:
    """A call ``factory(*args, **kwargs)`` made once the spaces in its arguments have values.

    ``label`` names the call in parameter names (``"dense"`` -> ``"dense:units"``); None for the root.
    A ``transparent`` call (a layer applied to an input, a container of layers) adds nothing to the names.
    Spaces are refused among positional arguments (they could not be named): pass them by keyword.
    """

    def __init__(
        self,
        factory: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
        label: str | None = None,
        name: str | None = None,
        transparent: bool = False,
    ) -> None:
        self.factory = factory
        self.name = name or getattr(factory, "__name__", type(factory).__name__)
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.label = label
        #: a transparent call (a layer applied to an input, a container of layers) adds nothing to the names
        #: of the spaces under it
        self.transparent = transparent
        for i, arg in enumerate(self.args):
            if isinstance(arg, Param):
                name = self.name
                raise TypeError(
                    f"{name}(): a search space was passed as positional argument {i} ({arg!r}); pass search "
                    f"spaces by keyword, e.g. {name}(units={arg!r}), so that the parameter gets a name"
                )

    def space(self) -> Space:
        """Every search space in this call and the calls nested in it, by parameter name."""
        return collect_space(self)

    def build(self, config: Mapping[str, Any]) -> Any:
        """The real object for ``config`` (values by parameter name, as `space` names them)."""
        return build(self, config)

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{type(self).__name__}({self.name}({', '.join(parts)}))"


def make_searchable(cls: type, wrap: Callable[[Deferred], Any], always: bool = False) -> type:
    """Patch ``cls`` so that a call with search spaces among its arguments returns ``wrap(Deferred(...))``
    (every call when ``always``) instead of an instance; the deferred call makes a real instance.

    The decorators of the front ends (``@hypersweep.torch.searchable()``, ``@hypersweep.keras.searchable()``)
    are this function with their own ``wrap``.
    """
    if not isinstance(cls, type):
        raise TypeError(f"@searchable() decorates a class, got {type(cls).__name__} {cls!r}")
    inherited = cls.__new__

    def construct(klass: type, *args: Any, **kwargs: Any) -> Any:
        obj = object.__new__(klass) if inherited is object.__new__ else inherited(klass, *args, **kwargs)
        if isinstance(obj, klass):
            obj.__init__(*args, **kwargs)
        return obj

    def __new__(klass: type, *args: Any, **kwargs: Any) -> Any:
        if always or holds_space(args) or holds_space(kwargs):
            return wrap(Deferred(functools.partial(construct, klass), args, kwargs, name=klass.__name__))
        return object.__new__(klass) if inherited is object.__new__ else inherited(klass, *args, **kwargs)

    cls.__new__ = staticmethod(__new__)  # type: ignore[assignment]
    return cls


def holds_space(value: Any) -> bool:
    """True when ``value`` is a space or a deferred call, or a list / tuple / dict holding one."""
    if isinstance(value, (Param, Deferred)):
        return True
    if isinstance(value, (list, tuple)):
        return any(holds_space(v) for v in value)
    if isinstance(value, dict):
        return any(holds_space(v) for v in value.values())
    return False


def collect_space(root: Any) -> Space:
    """The `Space` of every search space reachable from ``root`` (see the module's naming rules)."""
    found: dict[str, Param] = {}
    _walk(root, None, None, found, {})
    space = Space()
    for name, param in found.items():
        space.add(name, param)
    return space


def build(root: Any, config: Mapping[str, Any]) -> Any:
    """``root`` with every space replaced by its value in ``config`` and every deferred call made."""
    names = _names(root)
    return _build(root, config, names, {})


def active_names(root: Any, config: Mapping[str, Any]) -> set[str]:
    """The parameters ``config`` really used: those of the chosen branches of nested choices only."""
    names = _names(root)
    used: set[str] = set()
    _active(root, config, names, used)
    return used


# --- walking ------------------------------------------------------------------------------------------------
def _param_name(param: Param, owner: str | None, key: str) -> str:
    if param.prefix is not None:
        return f"{param.prefix}:{key}"
    return key if owner is None else f"{owner}:{key}"


def _by_index(param: Param) -> bool:
    """A categorical whose choices are objects (layers, deferred calls): searched by the choice's index."""
    return isinstance(param, Categorical) and param.holds_objects


def _walk(value: Any, owner: str | None, key: str | None, found: dict[str, Param], seen: dict[int, str]) -> None:
    """Record the spaces under ``value``; ``owner`` labels the enclosing call, ``key`` the argument."""
    if isinstance(value, Param):
        if id(value) in seen:  # one object in two places: one parameter
            return
        if key is None and value.prefix is None:
            raise TypeError(
                f"a search space ({value!r}) outside any keyword argument has no name: pass it by keyword, or give "
                "it one with prefix='...' (e.g. a choice of layers in a list: space.Categorical(..., prefix='block'))"
            )
        name = value.prefix if key is None else _param_name(value, owner, key)
        if name in found:
            raise ValueError(
                f"two search spaces are both named {name!r}: {found[name]!r} and {value!r}; give one of them "
                f"prefix='...' (e.g. space.Int(..., prefix='{key}2')) to tell them apart, or pass the same "
                "space object to both places to share one parameter"
            )
        seen[id(value)] = name
        found[name] = Categorical(list(range(len(value.choices)))) if _by_index(value) else value
        if _by_index(value):
            for i, choice in enumerate(value.choices):
                _walk(choice, f"{name}[{i}]", None, found, seen)
        return
    if isinstance(value, Deferred):
        base = value.label or key
        if value.transparent:
            label = owner
        else:
            label = base if owner is None else (owner if base is None else f"{owner}/{base}")
            prefixes = {v.prefix for v in value.kwargs.values() if isinstance(v, Param) and v.prefix is not None}
            if label is not None and len(prefixes) == 1:  # a prefix names its layer: the layer's other spaces too
                label = prefixes.pop()
        for arg in value.args:
            _walk(arg, label, None, found, seen)
        for k, v in value.kwargs.items():
            _walk(v, label, k, found, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _walk(v, owner, key, found, seen)
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk(v, owner, k if key is None else f"{key}.{k}", found, seen)


def _names(root: Any) -> dict[int, str]:
    """id(space) -> parameter name, for every space under ``root``."""
    seen: dict[int, str] = {}
    _walk(root, None, None, {}, seen)
    return seen


def _build(value: Any, config: Mapping[str, Any], names: dict[int, str], made: dict[int, Any]) -> Any:
    """``value`` made for ``config``; ``made`` keeps each deferred call's object, so that a call reached twice
    (an input of a functional model, a layer applied twice) is one object."""
    if isinstance(value, Param):
        name = names[id(value)]
        if name not in config:
            raise KeyError(f"the configuration has no value for parameter {name!r}; it has {sorted(config)}")
        if _by_index(value):  # a fresh copy of a plain object, so that no two trials share one layer
            choice = value.choices[int(config[name])]
            return _build(choice, config, names, made) if holds_space(choice) else copy.deepcopy(choice)
        return config[name]
    if isinstance(value, Deferred):
        if id(value) not in made:
            args = [_build(a, config, names, made) for a in value.args]
            kwargs = {k: _build(v, config, names, made) for k, v in value.kwargs.items()}
            made[id(value)] = value.factory(*args, **kwargs)
        return made[id(value)]
    if isinstance(value, list):
        return [_build(v, config, names, made) for v in value]
    if isinstance(value, tuple):
        return tuple(_build(v, config, names, made) for v in value)
    if isinstance(value, dict):
        return {k: _build(v, config, names, made) for k, v in value.items()}
    return value


def _active(value: Any, config: Mapping[str, Any], names: dict[int, str], used: set[str]) -> None:
    if isinstance(value, Param):
        used.add(names[id(value)])
        if _by_index(value):
            _active(value.choices[int(config[names[id(value)]])], config, names, used)
    elif isinstance(value, Deferred):
        for v in (*value.args, *value.kwargs.values()):
            _active(v, config, names, used)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _active(v, config, names, used)
    elif isinstance(value, dict):
        for v in value.values():
            _active(v, config, names, used)
