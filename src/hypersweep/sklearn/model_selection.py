"""Train/test splits of Dask collections that keep them lazy and blockwise; in-memory data goes to
scikit-learn.

>>> import dask.array as da
>>> X = da.arange(40, chunks=10).reshape(20, 2); y = da.arange(20, chunks=5)
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
>>> X_train.chunks[0], X_test.chunks[0], y_train.chunks[0]
((4, 4, 4, 4), (1, 1, 1, 1), (4, 4, 4, 4))
>>> bool(((X_train[:, 0] // 2).compute() == y_train.compute()).all())  # rows stay paired
True
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from sklearn.model_selection import ShuffleSplit
from sklearn.model_selection import train_test_split as _sklearn_train_test_split
from sklearn.utils import check_random_state

from hypersweep._validation import invalid
from hypersweep.sklearn._data import is_dask

__all__ = ["train_test_split"]

_DEFAULT_TEST_SIZE = 0.25


def train_test_split(
    *arrays: Any,
    test_size: Any = None,
    train_size: Any = None,
    random_state: Any = None,
    shuffle: bool = True,
    blockwise: bool = True,
    **options: Any,
) -> list[Any]:
    """Split arrays into random train and test subsets: ``[a_train, a_test, b_train, b_test, ...]``.

    In-memory inputs (NumPy, pandas, lists, sparse) go to scikit-learn's ``train_test_split`` with every
    argument (``stratify`` included). Dask arrays, DataFrames and Series (all inputs Dask, with the same row
    blocks) are split lazily:

    - ``shuffle=True, blockwise=True`` (default): each row block is split on its own, its rows shuffled with
      a seed of its own (the same for every input, so rows stay paired); a fraction ``test_size`` /
      ``train_size`` applies to each block (test rows rounded up, train rows down, as scikit-learn does), an
      int is shared out over the blocks in proportion to their sizes. No row moves between blocks; arrays
      with known chunks give arrays with known chunks.
    - ``shuffle=True, blockwise=False``: the rows scikit-learn's ``train_test_split`` would pick on the
      computed arrays (same ``random_state``), by fancy indexing: rows move between blocks. Dask arrays only.
    - ``shuffle=False``: the first rows are the training set and the last ones the test set, as in
      scikit-learn (Dask DataFrames: computing the partition lengths takes one pass).

    ``test_size`` and ``train_size`` are as in scikit-learn (a fraction, a count or None; 0.25 of the rows
    for the test set when both are None; dask-ml defaulted to 0.1).

    >>> import numpy as np
    >>> a, b = train_test_split(np.arange(8), test_size=2, random_state=0)
    >>> len(a), len(b)
    (6, 2)
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array, e.g. train_test_split(X, y)")
    if not any(is_dask(a) for a in arrays):
        return _sklearn_train_test_split(
            *arrays, test_size=test_size, train_size=train_size, random_state=random_state, shuffle=shuffle,
            **options,
        )
    if not all(is_dask(a) for a in arrays):
        kinds = ", ".join(type(a).__name__ for a in arrays)
        raise TypeError(
            f"train_test_split got Dask and in-memory inputs together ({kinds}): make them all Dask "
            "(da.from_array(y, chunks=X.chunks[0])) or all in memory (.compute())"
        )
    if "stratify" in options:
        raise invalid(
            "stratify", options["stratify"], "None for Dask inputs",
            "a blockwise split keeps each block's class proportions only approximately; compute the data "
            "to stratify exactly",
        )
    if options:
        raise TypeError(f"train_test_split got unexpected keyword arguments {sorted(options)}")
    for name in ("shuffle", "blockwise"):
        value = locals()[name]
        if not isinstance(value, (bool, np.bool_)):
            raise invalid(name, value, "True or False")
    for name, value in (("test_size", test_size), ("train_size", train_size)):
        _check_size(name, value)
    if test_size is None and train_size is None:
        test_size = _DEFAULT_TEST_SIZE
    fractions = [s for s in (test_size, train_size) if s is not None and not isinstance(s, numbers.Integral)]
    if sum(fractions) > 1:
        raise ValueError(
            f"test_size={test_size!r} and train_size={train_size!r} add up to more than 1: make them add up to "
            "at most 1"
        )
    for a in arrays:
        if not (_is_array(a) or _is_frame(a)):
            raise TypeError(f"cannot split a {type(a).__name__}: give Dask arrays, DataFrames or Series")
    arrays = _same_blocks(arrays)
    if not shuffle:
        return _split_ordered(arrays, test_size, train_size)
    if not blockwise:
        return _split_global(arrays, test_size, train_size, random_state)
    return _split_blockwise(arrays, test_size, train_size, random_state)


# --- checks ------------------------------------------------------------------------------------------------
def _is_array(x: Any) -> bool:
    return is_dask(x) and hasattr(x, "map_blocks") and hasattr(x, "chunks")


def _is_frame(x: Any) -> bool:
    return is_dask(x) and hasattr(x, "map_partitions") and hasattr(x, "divisions")


def _known(chunks: tuple) -> bool:
    return not any(isinstance(c, float) and math.isnan(c) for c in chunks)


def _check_size(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 1:
            raise invalid(name, value, "a fraction in (0, 1), an int >= 1 or None")
        return
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 < value < 1.0:
        return
    raise invalid(name, value, "a fraction in (0, 1), an int >= 1 or None", "e.g. test_size=0.2")


def _n_blocks(x: Any) -> int:
    return len(x.chunks[0]) if _is_array(x) else x.npartitions


def _same_blocks(arrays: tuple) -> tuple:
    """All inputs with the first one's row blocks (arrays with known chunks are re-chunked to match)."""
    first = arrays[0]
    reference = next((a.chunks[0] for a in arrays if _is_array(a) and _known(a.chunks[0])), None)
    out = []
    for i, a in enumerate(arrays):
        if reference is not None and _is_array(a) and _known(a.chunks[0]) and a.chunks[0] != reference:
            if sum(a.chunks[0]) != sum(reference):
                raise ValueError(
                    f"input {i} has {sum(a.chunks[0])} rows but another input has {sum(reference)}: "
                    "give arrays with the same number of rows"
                )
            a = a.rechunk({0: reference})
        if _n_blocks(a) != _n_blocks(first):
            raise ValueError(
                f"input {i} has {_n_blocks(a)} row blocks but input 0 has {_n_blocks(first)}: give every input "
                "the same row blocks (y.rechunk({0: X.chunks[0]}), or the same partitions)"
            )
        out.append(a)
    return tuple(out)


# --- how many rows go where --------------------------------------------------------------------------------
def _fraction_counts(n: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """(n_train, n_test) of ``n`` rows for fractional sizes, rounded as scikit-learn rounds them."""
    n_test = math.ceil(test_size * n) if test_size is not None else None
    n_train = math.floor(train_size * n) if train_size is not None else None
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    return n_train, n_test


def _share(total: int, sizes: list[int]) -> list[int]:
    """``total`` shared out over blocks in proportion to ``sizes`` (largest remainders get the extra rows)."""
    n = sum(sizes)
    exact = [total * s / n for s in sizes]
    counts = [math.floor(e) for e in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _totals(n: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """(n_train, n_test) over all ``n`` rows, validated."""
    def count(size: Any, rounding: Any) -> int | None:
        if size is None:
            return None
        return int(size) if isinstance(size, numbers.Integral) else int(rounding(size * n))

    n_test, n_train = count(test_size, math.ceil), count(train_size, math.floor)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n or n_train < 1 or n_test < 1:
        raise ValueError(
            f"with {n} rows, test_size={test_size!r} and train_size={train_size!r} give {n_train} training "
            f"and {n_test} test rows: both must be >= 1 and add up to at most {n}; change the sizes"
        )
    return n_train, n_test


def _block_counts(sizes: list[int], test_size: Any, train_size: Any) -> list[tuple[int, int]]:
    n_train_total, n_test_total = _totals(sum(sizes), test_size, train_size)
    integral = [isinstance(s, numbers.Integral) for s in (test_size, train_size) if s is not None]
    if not any(integral):
        return [_fraction_counts(n, test_size, train_size) for n in sizes]
    tests = _share(n_test_total, sizes)
    trains = _share(n_train_total, [s - t for s, t in zip(sizes, tests, strict=True)]) if train_size is not None \
        else [s - t for s, t in zip(sizes, tests, strict=True)]
    return list(zip(trains, tests, strict=True))


# --- the three splits --------------------------------------------------------------------------------------
def _rows_of_block(n: int, seed: int, counts: tuple[int, int], which: str) -> np.ndarray:
    n_train, n_test = counts
    order = np.random.default_rng(seed).permutation(n)
    return order[:n_test] if which == "test" else order[n_test : n_test + n_train]


def _split_array_block(block: Any, seeds: Any = None, counts: Any = None, fractions: Any = None,
                       which: str = "train", block_id: Any = None) -> Any:
    b = block_id[0]
    n = block.shape[0]
    c = counts[b] if counts is not None else _fraction_counts(n, *fractions)
    return block[_rows_of_block(n, int(seeds[b]), c, which)]


def _split_partition(part: Any, seeds: Any = None, counts: Any = None, fractions: Any = None,
                     which: str = "train", partition_info: Any = None) -> Any:
    if partition_info is None:  # an empty stand-in
        return part.iloc[:0]
    b = partition_info["number"]
    n = len(part)
    c = counts[b] if counts is not None else _fraction_counts(n, *fractions)
    return part.iloc[_rows_of_block(n, int(seeds[b]), c, which)]


def _split_blockwise(arrays: tuple, test_size: Any, train_size: Any, random_state: Any) -> list[Any]:
    n_blocks = _n_blocks(arrays[0])
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_blocks)
    sizes = next((a.chunks[0] for a in arrays if _is_array(a) and _known(a.chunks[0])), None)
    integral = any(isinstance(s, numbers.Integral) for s in (test_size, train_size) if s is not None)
    if sizes is None and integral:
        raise ValueError(
            "an int test_size or train_size needs the block lengths, which are unknown here: give a fraction "
            "(e.g. test_size=0.2), or known chunks (X.compute_chunk_sizes())"
        )
    counts = _block_counts(list(sizes), test_size, train_size) if sizes is not None else None
    fractions = (test_size, train_size) if counts is None else None  # unknown lengths: counted in each block
    out = []
    for a in arrays:
        for which in ("train", "test"):
            kwargs = dict(seeds=seeds, counts=counts, fractions=fractions, which=which)
            if _is_array(a):
                if counts is not None:
                    rows = tuple(c[0] if which == "train" else c[1] for c in counts)
                else:
                    rows = (np.nan,) * n_blocks
                out.append(a.map_blocks(
                    _split_array_block, chunks=(rows,) + tuple(a.chunks[1:]), dtype=a.dtype, meta=a._meta,
                    name=f"train_test_split_{which}-{_token(a, seeds, counts, fractions, which)}", **kwargs,
                ))
            else:
                out.append(a.map_partitions(_split_partition, meta=a._meta, **kwargs))
    return out


def _token(*args: Any) -> str:
    import dask

    return dask.base.tokenize(*[getattr(a, "name", a) for a in args])


def _lengths(arrays: tuple) -> list[int]:
    for a in arrays:
        if _is_array(a) and _known(a.chunks[0]):
            return [int(c) for c in a.chunks[0]]
    a = arrays[0]
    if _is_array(a):
        raise ValueError(
            "this split needs the block lengths, which are unknown here: X.compute_chunk_sizes() first"
        )
    return [int(n) for n in a.map_partitions(len).compute()]


def _split_ordered(arrays: tuple, test_size: Any, train_size: Any) -> list[Any]:
    lengths = _lengths(arrays)
    n = sum(lengths)
    n_train, n_test = _totals(n, test_size, train_size)
    out = []
    for a in arrays:
        for start, stop in ((0, n_train), (n - n_test, n)):
            out.append(a[start:stop] if _is_array(a) else _frame_rows(a, lengths, start, stop))
    return out


def _frame_rows(frame: Any, lengths: list[int], start: int, stop: int) -> Any:
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    bounds = [(max(0, start - o), max(0, min(n, stop - o))) for o, n in zip(offsets, lengths, strict=True)]
    return frame.map_partitions(_slice_partition, bounds=bounds, meta=frame._meta)


def _slice_partition(part: Any, bounds: Any = None, partition_info: Any = None) -> Any:
    if partition_info is None:
        return part.iloc[:0]
    lo, hi = bounds[partition_info["number"]]
    return part.iloc[lo:hi]


def _split_global(arrays: tuple, test_size: Any, train_size: Any, random_state: Any) -> list[Any]:
    if any(_is_frame(a) for a in arrays):
        raise invalid(
            "blockwise", False, "True for Dask DataFrames",
            "use blockwise=True, or convert with to_dask_array(lengths=True) first",
        )
    n = sum(_lengths(arrays))
    n_train, n_test = _totals(n, test_size, train_size)
    splitter = ShuffleSplit(n_splits=1, test_size=n_test, train_size=n_train, random_state=random_state)
    train, test = next(splitter.split(np.empty((n, 1))))
    return [part for a in arrays for part in (a[train], a[test])]
