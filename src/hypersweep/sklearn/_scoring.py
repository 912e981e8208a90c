"""Scorers of the searches: one metric or several (``scoring`` as a list or dict), and which one ranks models."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sklearn.metrics import check_scoring, get_scorer

__all__ = ["check_scorers"]


def check_scorers(estimator: Any, scoring: Any, refit: Any) -> tuple[dict[str, Callable], str, bool]:
    """``(name -> scorer, the name that ranks models, multimetric)``; one metric is named "score".

    ``refit`` may be a callable (it picks ``best_index_`` from ``cv_results_``, as in scikit-learn); with
    several metrics the search then treats every metric as an objective, and the name returned is the first.

    >>> from sklearn.linear_model import SGDClassifier
    >>> scorers, name, multi = check_scorers(SGDClassifier(), ["accuracy", "f1_macro"], refit="f1_macro")
    >>> sorted(scorers), name, multi
    (['accuracy', 'f1_macro'], 'f1_macro', True)
    """
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        if not isinstance(refit, bool) and refit is not None and not isinstance(refit, str) and not callable(refit):
            raise TypeError(f"refit must be True, False, a metric name or a callable, got {refit!r}")
        return {"score": check_scoring(estimator, scoring=scoring)}, "score", False
    if isinstance(scoring, Mapping):
        scorers = {str(k): get_scorer(v) if isinstance(v, str) else v for k, v in scoring.items()}
    elif isinstance(scoring, (list, tuple, set, frozenset)):
        names = list(scoring)
        if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"scoring as a list needs distinct metric names (strings), got {scoring!r}")
        scorers = {n: get_scorer(n) for n in names}
    else:
        raise TypeError(f"scoring must be None, a metric name, a scorer, or a list/dict of them; got {scoring!r}")
    if not scorers:
        raise ValueError("scoring is empty; give at least one metric")
    if callable(refit):
        return scorers, next(iter(scorers)), True
    if not isinstance(refit, str) or refit not in scorers:
        raise ValueError(
            f"with several metrics, refit must name the one that ranks models (one of {sorted(scorers)}), or be "
            f"a callable choosing from cv_results_ (every metric is then an objective); got refit={refit!r}"
        )
    return scorers, refit, True
