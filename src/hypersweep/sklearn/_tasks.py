"""The functions a search runs on its workers: split a data block into train/test parts, train a model some
more steps and score it. Plain functions of plain data, so that they pickle to any Dask worker.

A *model* here is a list of estimators, one per fold (one for a holdout split); a *block* is a list, per fold,
of ``(X, y)`` training rows; the test data is a list, per fold, of ``(X, y)``.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np

from hypersweep.sklearn._data import n_rows, take_rows

__all__ = ["advance", "concat_folds", "concat_rows", "split_block"]


def split_block(X: Any, y: Any, test_fraction: float, n_folds: int, seed: int) -> tuple[list, list]:
    """One block as ``(train parts, test parts)``, each a list over folds of ``(X, y)``.

    Holdout (``n_folds == 1``): a random ``test_fraction`` of the rows is the test part. Cross-validation:
    the rows are dealt at random into ``n_folds`` folds; fold f trains on the others and tests on its own.

    >>> train, test = split_block(np.arange(10).reshape(5, 2), np.arange(5), 0.2, 1, seed=0)
    >>> n_rows(train[0][0]), n_rows(test[0][0])
    (4, 1)
    >>> train, test = split_block(np.arange(12).reshape(6, 2), np.arange(6), 0.0, 3, seed=0)
    >>> [n_rows(t[0]) for t in train], [n_rows(t[0]) for t in test]
    ([4, 4, 4], [2, 2, 2])
    """
    n = n_rows(X)
    order = np.random.RandomState(seed).permutation(n)
    if n_folds == 1:
        n_test = int(math.floor(test_fraction * n + 0.5)) if n > 1 else 0
        test, train = order[:n_test], order[n_test:]
        return [(take_rows(X, train), take_rows(y, train))], [(take_rows(X, test), take_rows(y, test))]
    fold = np.empty(n, dtype=int)
    fold[order] = np.arange(n) % n_folds
    trains, tests = [], []
    for f in range(n_folds):
        rows = np.flatnonzero(fold != f)
        held = np.flatnonzero(fold == f)
        trains.append((take_rows(X, rows), take_rows(y, rows)))
        tests.append((take_rows(X, held), take_rows(y, held)))
    return trains, tests


def concat_folds(parts: list[list[tuple[Any, Any]]]) -> list[tuple[Any, Any]]:
    """Per fold, the rows of every block's part joined: ``[[(X, y) per fold] per block] -> [(X, y) per fold]``."""
    n_folds = len(parts[0])
    return [(_concat([p[f][0] for p in parts]), _concat([p[f][1] for p in parts])) for f in range(n_folds)]


def concat_rows(parts: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """The rows of several ``(X, y)`` parts, joined: one fold's test set from every block's share."""
    return _concat([p[0] for p in parts]), _concat([p[1] for p in parts])


def _concat(pieces: list[Any]) -> Any:
    pieces = [p for p in pieces if p is not None]
    if not pieces:
        return None
    if len(pieces) == 1:
        return pieces[0]
    first = pieces[0]
    if hasattr(first, "iloc"):
        import pandas as pd

        return pd.concat(pieces)
    if hasattr(first, "tocsr"):
        import scipy.sparse

        return scipy.sparse.vstack(pieces).tocsr()
    if isinstance(first, list):
        return [row for piece in pieces for row in piece]
    return np.concatenate(pieces)


def create(estimator: Any, params: dict[str, Any], n_folds: int) -> list[Any]:
    """A fresh model: ``n_folds`` clones of ``estimator`` with ``params`` set."""
    from sklearn.base import clone

    return [clone(estimator).set_params(**params) for _ in range(n_folds)]


def advance(
    model: Any,
    blocks: list[list[tuple[Any, Any]]],
    tests: list[tuple[Any, Any]],
    scorers: dict[str, Any],
    fit_params: dict[str, Any],
    resource: str,
    target: int,
    max_iter: int | None,
) -> tuple[list[Any], dict[str, Any]]:
    """Train ``model`` further and score it on ``tests``: ``(new model, record)``.

    ``resource="partial_fit"``: one ``partial_fit`` per block of ``blocks``. ``"n_samples"``: a fresh fit on
    the first ``target / max_iter`` of the training rows (``blocks`` is all of them). Any other resource
    is a parameter (``"max_iter"``, ``"n_estimators"``) set to ``target`` before ``fit`` on all the rows, so
    a warm-started estimator continues where it was.

    ``model`` may also be the result of an earlier `advance` (its model is taken from it, so that a driver
    needs no task to split the pair). The record holds ``partial_fit_time``, ``score_time``, ``scores``
    (metric -> one score per fold) and the
    task's ``task_time`` (wall) and ``cpu_time`` (its thread's CPU time: the two tell how much of a core the
    task had).
    """
    begin, cpu = time.perf_counter(), time.thread_time()
    start = begin
    model = [copy.deepcopy(m) for m in model_of(model)]  # the input stays valid should the task run again
    if resource == "partial_fit":
        for block in blocks:
            for m, (X, y) in zip(model, block, strict=True):
                if X is not None and n_rows(X):
                    m.partial_fit(X, y, **fit_params)
    else:
        folds = concat_folds(blocks)
        for i, (X, y) in enumerate(folds):
            if resource == "n_samples":
                n = n_rows(X)
                rows = max(1, min(n, int(math.ceil(n * target / max_iter))))
                model[i].fit(take_rows(X, slice(0, rows)), take_rows(y, slice(0, rows)), **fit_params)
            else:
                model[i].set_params(**{resource: target})
                model[i].fit(X, y, **fit_params)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    scores = {name: [float(scorer(m, X, y)) for m, (X, y) in zip(model, tests, strict=True)]
              for name, scorer in scorers.items()}
    end = time.perf_counter()
    return model, {"partial_fit_time": fit_time, "score_time": end - start, "scores": scores,
                   "task_time": end - begin, "cpu_time": time.thread_time() - cpu}


def model_of(handle: Any) -> list[Any]:
    """The model (a list over folds) held by ``handle``: a model itself, or an `advance` result."""
    if isinstance(handle, tuple) and len(handle) == 2 and isinstance(handle[1], dict):
        return handle[0]
    return handle
