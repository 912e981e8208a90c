"""Argument validation, in one place: one error class and one message shape (parameter, value, fix).

>>> check_int("n_trials", 0, minimum=1, fix="run at least one trial")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
hypersweep._validation.InvalidParameterError: n_trials must be an int >= 1, got n_trials=0; run at least one trial
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

__all__ = ["InvalidParameterError", "check_choice", "check_int", "check_number", "invalid"]


class InvalidParameterError(ValueError, TypeError):
    """An argument has the wrong type or value. Both a ValueError and a TypeError, as in scikit-learn, so
    callers catching either keep working.
    """


def invalid(name: str, value: Any, expected: str, fix: str = "") -> InvalidParameterError:
    """The error for argument ``name``: "<name> must be <expected>, got <name>=<value>; <fix>"."""
    message = f"{name} must be {expected}, got {name}={value!r}"
    return InvalidParameterError(f"{message}; {fix}" if fix else message)


def check_int(
    name: str, value: Any, minimum: int | None = None, maximum: int | None = None, fix: str = "",
    allow_none: bool = False,
) -> Any:
    """``value`` as an int within [minimum, maximum] (None passes when ``allow_none``)."""
    if value is None and allow_none:
        return None
    bounds = _bounds(minimum, maximum)
    expected = f"an int{bounds}" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid(name, value, expected, fix)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise invalid(name, value, expected, fix)
    return int(value)


def check_number(
    name: str, value: Any, minimum: float | None = None, maximum: float | None = None, fix: str = "",
    allow_none: bool = False, exclusive_minimum: bool = False,
) -> Any:
    """``value`` as a float within its bounds (None passes when ``allow_none``)."""
    if value is None and allow_none:
        return None
    low = "" if minimum is None else (f" > {minimum}" if exclusive_minimum else f" >= {minimum}")
    high = "" if maximum is None else f" <= {maximum}"
    expected = "a number" + (low + (" and" if low and high else "") + high) + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:  # NaN
        raise invalid(name, value, expected, fix)
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        raise invalid(name, value, expected, fix)
    if maximum is not None and value > maximum:
        raise invalid(name, value, expected, fix)
    return float(value)


def check_choice(name: str, value: Any, choices: Iterable[Any], fix: str = "") -> Any:
    """``value`` if it is one of ``choices``."""
    options = list(choices)
    if value not in options:
        raise invalid(name, value, "one of " + ", ".join(repr(c) for c in options), fix)
    return value


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""
