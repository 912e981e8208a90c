"""Data in the shapes scikit-learn users bring (NumPy, pandas, SciPy sparse, Dask arrays and DataFrames), seen as
row blocks: the one home of "what is a block" for the searches and the wrappers.

A Dask collection is a list of row blocks (its partitions), each a ``dask.delayed`` object that stays lazy until
a worker needs it; in-memory data is a single block. Blocks of ``X`` and ``y`` always line up.
"""

from __future__ import annotations

from typing import Any

import dask
import numpy as np

__all__ = ["blocks", "is_dask", "n_rows", "take_rows"]


def is_dask(x: Any) -> bool:
    """Whether ``x`` is a Dask collection (array, DataFrame, Series, bag...)."""
    return dask.is_dask_collection(x)


def n_rows(x: Any) -> int:
    """Number of rows of an in-memory array, DataFrame, sparse matrix or sequence."""
    shape = getattr(x, "shape", None)
    return int(shape[0]) if shape is not None else len(x)


def take_rows(x: Any, index: Any) -> Any:
    """Rows ``index`` (positions or a boolean mask) of an in-memory array, DataFrame/Series or sparse matrix."""
    if x is None:
        return None
    if hasattr(x, "iloc"):
        return x.iloc[index]
    if isinstance(x, (list, tuple)):
        return [x[i] for i in np.arange(len(x))[index]]
    return x[index]


def blocks(X: Any, y: Any = None) -> list[tuple[Any, Any]]:
    """``[(X_block, y_block), ...]``: the row blocks of Dask inputs as delayed objects, or ``[(X, y)]``.

    A Dask array split along its columns is joined into whole rows first; ``y`` is re-chunked to ``X``'s
    rows when both are Dask arrays with known chunks.

    >>> import dask.array as da, numpy as np
    >>> X = da.ones((10, 3), chunks=(4, 3)); y = da.zeros(10, chunks=5)
    >>> parts = blocks(X, y)
    >>> len(parts), [dask.compute(*p)[0].shape for p in parts]
    (3, [(4, 3), (4, 3), (2, 3)])
    >>> len(blocks(np.ones((5, 2)), np.zeros(5)))
    1
    """
    if not is_dask(X):
        if is_dask(y):
            raise TypeError(
                "X is in memory but y is a Dask collection: pass both as Dask collections (e.g. "
                "da.from_array(X, chunks=...)) or both in memory (y.compute())"
            )
        return [(X, y)]
    xs = _row_parts(X)
    if y is None:
        return [(part, None) for part in xs]
    if not is_dask(y):
        raise TypeError(
            "X is a Dask collection but y is in memory: give y as a Dask collection with the same row blocks "
            "as X, e.g. da.from_array(y, chunks=X.chunks[0])"
        )
    if hasattr(X, "chunks") and hasattr(y, "chunks") and not _unknown(X.chunks[0]) and not _unknown(y.chunks[0]):
        if tuple(y.chunks[0]) != tuple(X.chunks[0]):
            y = y.rechunk({0: X.chunks[0]})
    ys = _row_parts(y)
    if len(xs) != len(ys):
        raise ValueError(
            f"X has {len(xs)} row blocks but y has {len(ys)}: give them the same blocks, "
            "e.g. y = y.rechunk(X.chunks[0]) or the same npartitions"
        )
    return list(zip(xs, ys, strict=True))


def _unknown(chunks: tuple) -> bool:
    return any(isinstance(c, float) and np.isnan(c) for c in chunks)


def _row_parts(x: Any) -> list[Any]:
    if hasattr(x, "to_delayed") and hasattr(x, "chunks"):  # a Dask array
        if x.ndim > 1 and len(x.chunks[1]) > 1:
            x = x.rechunk({i: -1 for i in range(1, x.ndim)})
        parts = x.to_delayed()
        return list(parts.reshape(parts.shape[0], -1)[:, 0]) if x.ndim > 1 else list(parts)
    if hasattr(x, "to_delayed"):  # a Dask DataFrame or Series
        return list(x.to_delayed())
    raise TypeError(f"cannot split {type(x).__name__} into row blocks; use a Dask array or DataFrame")
