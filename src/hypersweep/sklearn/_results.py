"""The parts of ``cv_results_`` every search builds the same way: ``param_<name>`` columns and ranks.

Parameter values may be anything a user passes (tuples such as ``hidden_layer_sizes=(24, 24)``, estimators,
None): each column holds them as objects, never broadcast into a 2-D array.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.stats

__all__ = ["param_columns", "rank"]


def param_columns(candidate_params: Sequence[Mapping[str, Any]]) -> dict[str, np.ma.MaskedArray]:
    """``{"param_<name>": masked array}`` over the candidates, masked where a candidate lacks the parameter.

    A column of plain numbers (or of booleans, or of strings) gets their dtype; any other column, tuples
    included, is an object column with one value per candidate.

    >>> cols = param_columns([{"h": (24, 24), "a": 0.1}, {"h": (8,), "a": 0.2}, {"a": 0.3}])
    >>> cols["param_h"][0], cols["param_h"].mask.tolist(), cols["param_a"].dtype
    ((24, 24), [False, False, True], dtype('float64'))
    """
    n = len(candidate_params)
    names = sorted({name for params in candidate_params for name in params})
    columns = {}
    for name in names:
        values = np.empty(n, dtype=object)
        mask = np.ones(n, dtype=bool)
        for i, params in enumerate(candidate_params):
            if name in params:
                values[i] = params[name]  # an object slot: a tuple stays one value
                mask[i] = False
        columns[f"param_{name}"] = np.ma.MaskedArray(_narrowed(values, mask), mask=mask)
    return columns


def _narrowed(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    present = [v for v, m in zip(values, mask, strict=True) if not m]
    if not present:
        return values
    for kind, dtype in ((bool, bool), (numbers.Integral, np.int64), (numbers.Real, np.float64), (str, object)):
        if all(isinstance(v, kind) and (kind is bool or not isinstance(v, bool)) for v in present):
            if dtype is object:
                return values
            filled = np.zeros(len(values), dtype=dtype)
            filled[~mask] = present
            return filled
    return values


def rank(scores: Sequence[float], higher_is_better: bool = True) -> np.ndarray:
    """Ranks as scikit-learn gives them: 1 for the best, ties share the best rank, NaN scores last.

    >>> rank([0.5, 0.9, float("nan"), 0.9]).tolist()
    [3, 1, 4, 1]
    """
    values = np.asarray(scores, dtype=float)
    keyed = -values if higher_is_better else values
    keyed = np.where(np.isnan(keyed), np.inf, keyed)
    return scipy.stats.rankdata(keyed, method="min").astype(np.int32)
