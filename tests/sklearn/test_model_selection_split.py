"""hypersweep.sklearn.train_test_split: blockwise, lazy splits of Dask data; scikit-learn's for in-memory data."""

from __future__ import annotations

import math

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import sklearn.model_selection

from hypersweep._validation import InvalidParameterError
from hypersweep.sklearn import train_test_split

try:
    import dask.dataframe as dd
except ImportError:  # dask.dataframe needs pyarrow
    dd = None
needs_dataframe = pytest.mark.skipif(dd is None, reason="dask.dataframe is not importable (pyarrow missing)")


def _data(n=100, d=3, chunks=30):
    X = da.arange(n * d, chunks=chunks * d).reshape(n, d)  # row i holds d*i, d*i+1, ...
    y = da.arange(n, chunks=chunks)
    return X, y


def test_in_memory_inputs_are_scikit_learns_split():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    ours = train_test_split(X, y, test_size=0.3, random_state=0)
    theirs = sklearn.model_selection.train_test_split(X, y, test_size=0.3, random_state=0)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    strat = train_test_split(X, y % 2, stratify=y % 2, random_state=0)
    assert np.mean(strat[3]) == 0.4 and len(strat[3]) == 5
    frame = pd.DataFrame(X)
    assert isinstance(train_test_split(frame, random_state=0)[0], pd.DataFrame)


def test_blockwise_split_is_lazy_with_known_chunks_and_paired_rows():
    X, y = _data()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    for part in (X_train, X_test, y_train, y_test):
        assert isinstance(part, da.Array)
    # per block of 30 rows (30, 30, 30, 10): ceil(0.2 * n) test rows, the rest train
    assert X_test.chunks[0] == (6, 6, 6, 2) and X_train.chunks[0] == (24, 24, 24, 8)
    assert y_train.chunks == (X_train.chunks[0],) and X_train.chunks[1] == (3,)
    Xtr, Xte, ytr, yte = dask.compute(X_train, X_test, y_train, y_test)
    np.testing.assert_array_equal(Xtr[:, 0] // 3, ytr)
    np.testing.assert_array_equal(Xte[:, 0] // 3, yte)
    # a partition of the rows, and no row left its block
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(100))
    for block, (lo, hi) in enumerate([(0, 30), (30, 60), (60, 90), (90, 100)]):
        assert all(lo <= v < hi for v in y_train.blocks[block].compute())
    # rows are shuffled within blocks
    assert not np.array_equal(ytr[:24], np.sort(ytr[:24]))


def test_reproducible_and_seed_dependent():
    X, y = _data()
    a = dask.compute(*train_test_split(X, y, random_state=1))
    b = dask.compute(*train_test_split(X, y, random_state=1))
    c = dask.compute(*train_test_split(X, y, random_state=2))
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[2], c[2])


def test_default_sizes_and_int_sizes():
    X, y = _data(n=100, chunks=25)
    _, X_test, _, _ = train_test_split(X, y, random_state=0)
    assert X_test.shape[0] == 4 * math.ceil(0.25 * 25)
    X_train, X_test = train_test_split(X, test_size=10, random_state=0)
    assert X_test.shape[0] == 10 and X_train.shape[0] == 90
    X_train, X_test = train_test_split(X, test_size=10, train_size=50, random_state=0)
    assert (X_test.shape[0], X_train.shape[0]) == (10, 50)
    X_train, X_test = train_test_split(X, train_size=0.5, random_state=0)
    assert (X_train.shape[0], X_test.shape[0]) == (48, 52)  # floor(12.5) train rows per block
    assert set(np.concatenate(dask.compute(X_train, X_test))[:, 0].tolist()) == set(range(0, 300, 3))


def test_y_is_rechunked_to_x_rows():
    X, _ = _data(chunks=30)
    y = da.arange(100, chunks=50)
    X_train, _, y_train, _ = train_test_split(X, y, random_state=0)
    Xtr, ytr = dask.compute(X_train, y_train)
    np.testing.assert_array_equal(Xtr[:, 0] // 3, ytr)


def test_unshuffled_split_is_scikit_learns():
    X, y = _data()
    ours = dask.compute(*train_test_split(X, y, test_size=0.3, shuffle=False))
    theirs = sklearn.model_selection.train_test_split(X.compute(), y.compute(), test_size=0.3, shuffle=False)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_global_split_is_scikit_learns():
    X, y = _data()
    parts = train_test_split(X, y, test_size=0.25, random_state=0, blockwise=False)
    theirs = sklearn.model_selection.train_test_split(X.compute(), y.compute(), test_size=0.25, random_state=0)
    for a, b in zip(parts, theirs, strict=True):
        assert isinstance(a, da.Array)
        np.testing.assert_array_equal(a.compute(), b)


def test_unknown_chunks_split_with_fractions():
    X, y = _data()
    keep = X[:, 0] % 2 == 0
    Xu, yu = X[keep], y[keep]
    X_train, X_test, y_train, y_test = train_test_split(Xu, yu, test_size=0.5, random_state=0)
    assert math.isnan(X_train.shape[0])
    Xtr, Xte, ytr, yte = dask.compute(X_train, X_test, y_train, y_test)
    np.testing.assert_array_equal(Xtr[:, 0] // 3, ytr)
    assert len(ytr) + len(yte) == 50
    with pytest.raises(ValueError, match="fraction"):
        train_test_split(Xu, yu, test_size=5)


@needs_dataframe
def test_dataframes_split_blockwise():
    frame = pd.DataFrame({"a": np.arange(60), "b": np.arange(60) * 2.0})
    ddf = dd.from_pandas(frame, npartitions=3)
    target = dd.from_pandas(pd.Series(np.arange(60), name="t"), npartitions=3)
    X_train, X_test, y_train, y_test = train_test_split(ddf, target, test_size=0.25, random_state=0)
    assert isinstance(X_train, dd.DataFrame) and isinstance(y_test, dd.Series)
    Xtr, Xte, ytr, yte = dask.compute(X_train, X_test, y_train, y_test)
    assert len(Xte) == 15 and len(Xtr) == 45
    np.testing.assert_array_equal(Xtr["a"].to_numpy(), ytr.to_numpy())
    np.testing.assert_array_equal(Xtr.index.to_numpy(), ytr.index.to_numpy())
    assert sorted(Xtr["a"].tolist() + Xte["a"].tolist()) == list(range(60))
    # mixed: a DataFrame and an array with the same blocks
    arr = da.arange(60, chunks=20)
    X_train, _, y_train, _ = train_test_split(ddf, arr, random_state=0)
    np.testing.assert_array_equal(X_train["a"].compute().to_numpy(), y_train.compute())
    # unshuffled: the first rows train, the last ones test
    X_train, X_test = train_test_split(ddf, test_size=0.25, shuffle=False)
    assert X_train.compute()["a"].tolist() == list(range(45))
    assert X_test.compute()["a"].tolist() == list(range(45, 60))
    with pytest.raises(InvalidParameterError, match="blockwise"):
        train_test_split(ddf, blockwise=False)


def test_errors():
    X, y = _data()
    with pytest.raises(TypeError, match="Dask and in-memory"):
        train_test_split(X, np.arange(100))
    with pytest.raises(InvalidParameterError, match="stratify"):
        train_test_split(X, y, stratify=y)
    with pytest.raises(TypeError, match="unexpected"):
        train_test_split(X, y, foo=1)
    with pytest.raises(InvalidParameterError, match="test_size"):
        train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="add up to more than 1"):
        train_test_split(X, y, test_size=0.6, train_size=0.6)
    with pytest.raises(ValueError, match="rows"):
        train_test_split(X, da.arange(90, chunks=30))
    with pytest.raises(ValueError, match="at least one"):
        train_test_split()
    with pytest.raises(ValueError, match="both must be >= 1"):
        train_test_split(X, test_size=100)
