"""JSON conversion, in one place: how configs, attributes and metadata become storable JSON and back.

Both storages use it, so the in-memory one refuses (and normalizes) exactly what the SQL one does.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps", "loads", "normalized", "to_json_value"]


def to_json_value(value: Any) -> Any:
    """A plain Python value that survives a JSON round trip: numpy scalars and arrays become Python
    numbers and lists, tuples become lists, dict keys become strings.

    >>> import numpy as np
    >>> to_json_value({"a": (np.int64(1), 2.5), 3: [np.float32(0.5)]})
    {'a': [1, 2.5], '3': [0.5]}
    """
    if isinstance(value, (str, bool, int, float, type(None))):
        return value
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    return value


def is_jsonable(value: Any) -> bool:
    """Whether ``value`` can be stored as JSON (after `to_json_value`): numbers, strings, None, and lists,
    tuples and dicts of those."""
    try:
        json.dumps(to_json_value(value))
    except (TypeError, ValueError):
        return False
    return True


def _default(obj: Any) -> Any:
    if type(obj).__module__ == "numpy" and hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} {obj!r:.80} is not JSON serializable")


def dumps(obj: Any, what: str = "value") -> str:
    """JSON text of ``obj``; a `TypeError` naming ``what`` and the fix when part of it is not JSON.

    NaN and infinities are written as Python's json writes them (NaN, Infinity) and read back the same.

    >>> dumps({"x": (1, 2)})
    '{"x": [1, 2]}'
    """
    try:
        return json.dumps(obj, default=_default)
    except TypeError as exc:
        raise TypeError(
            f"{what} must be JSON data (numbers, strings, booleans, None, lists and dicts of them); {exc}. "
            "Convert it first, e.g. str(obj) or obj.tolist(), or save it with trial.save_artifact(name, obj)"
        ) from None


def loads(text: str | None, empty: Any = None) -> Any:
    """The value of JSON ``text``; ``empty`` for None (a NULL column)."""
    return empty if text is None else json.loads(text)


def normalized(obj: Any, what: str = "value") -> Any:
    """``obj`` as storage gives it back: checked with `dumps`, then a fresh copy (tuples as lists).

    >>> normalized({"t": (1, 2)})
    {'t': [1, 2]}
    """
    if type(obj) is dict and all(type(k) is str and type(v) in _SCALARS for k, v in obj.items()):
        return dict(obj)  # the common case (a config, empty attributes): already what JSON gives back
    return json.loads(dumps(obj, what))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, None for None and for NaN / infinities (how SQL columns hold them)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
