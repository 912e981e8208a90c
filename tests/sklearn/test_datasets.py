"""hypersweep.sklearn.make_classification: blockwise Dask arrays from one problem structure."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
import sklearn.datasets
from sklearn.linear_model import LogisticRegression

from hypersweep._validation import InvalidParameterError
from hypersweep.sklearn import make_classification


def test_shapes_types_chunks_and_laziness():
    X, y = make_classification(n_samples=1000, n_features=7, chunks=300, random_state=0)
    assert isinstance(X, da.Array) and isinstance(y, da.Array)
    assert X.shape == (1000, 7) and y.shape == (1000,)
    assert X.chunks == ((300, 300, 300, 100), (7,)) and y.chunks == ((300, 300, 300, 100),)
    assert X.dtype == np.float64 and y.dtype == np.int64
    Xc, yc = dask.compute(X, y)
    assert Xc.shape == (1000, 7) and Xc.dtype == np.float64 and yc.dtype == np.int64
    assert set(np.unique(yc)) == {0, 1}


@pytest.mark.parametrize("chunks", [None, "auto", 250, (100, 400, 500), (250, 6)])
def test_chunks_forms(chunks):
    X, y = make_classification(n_samples=1000, n_features=6, chunks=chunks, random_state=0)
    assert sum(X.chunks[0]) == 1000 and X.chunks[1] == (6,) and y.chunks[0] == X.chunks[0]
    if chunks == (100, 400, 500):
        assert X.chunks[0] == (100, 400, 500)


def test_same_arguments_same_arrays_and_blocks_are_independent_tasks():
    a = make_classification(n_samples=500, n_features=5, chunks=100, random_state=3)
    b = make_classification(n_samples=500, n_features=5, chunks=100, random_state=3)
    c = make_classification(n_samples=500, n_features=5, chunks=100, random_state=4)
    np.testing.assert_array_equal(a[0].compute(), b[0].compute())
    np.testing.assert_array_equal(a[1].compute(), b[1].compute())
    assert not np.allclose(a[0].compute(), c[0].compute())
    # a block computed alone equals the same block of the whole array: each block comes from its own seed
    np.testing.assert_array_equal(a[0].blocks[3].compute(), a[0].compute()[300:400])
    np.testing.assert_array_equal(a[1].blocks[3].compute(), a[1].compute()[300:400])
    # X and y of a block do not need each other: y's graph holds no X task
    assert not any("make_classification_X" in str(k) for k in dict(a[1].__dask_graph__()))


def test_one_problem_for_all_blocks():
    """Blocks share the class centers: per-class means agree across blocks and a model fit on one block holds
    on every other block."""
    X, y = make_classification(
        n_samples=40_000, n_features=6, n_informative=3, n_redundant=1, n_clusters_per_class=1, flip_y=0.0,
        class_sep=2.0, chunks=10_000, random_state=0,
    )
    Xc, yc = dask.compute(X, y)
    parts = [slice(i, i + 10_000) for i in range(0, 40_000, 10_000)]
    means = np.array([[Xc[p][yc[p] == k].mean(axis=0) for k in (0, 1)] for p in parts])
    spread = Xc.std(axis=0)
    assert np.all(np.abs(means - means[0]) < 0.1 * spread)
    model = LogisticRegression().fit(Xc[parts[0]], yc[parts[0]])
    scores = [model.score(Xc[p], yc[p]) for p in parts[1:]]
    assert min(scores) > 0.9
    assert max(scores) - min(scores) < 0.03


def test_feature_structure_like_scikit_learn():
    kwargs = dict(n_samples=3000, n_features=10, n_informative=3, n_redundant=2, n_repeated=2, random_state=0)
    X, _ = make_classification(chunks=1000, **kwargs)
    Xs, _ = sklearn.datasets.make_classification(**kwargs)
    Xc = X.compute()
    # redundant and repeated columns are combinations of the informative ones: the same rank as scikit-learn
    assert np.linalg.matrix_rank(Xc) == np.linalg.matrix_rank(Xs) == 3 + 3
    # repeated features are exact copies of other columns
    duplicates = sum(
        np.allclose(Xc[:, i], Xc[:, j]) for i in range(10) for j in range(i + 1, 10)
    )
    assert duplicates >= 2


def test_unshuffled_rows_are_ordered_by_cluster_like_scikit_learn():
    kwargs = dict(n_samples=1200, n_features=4, n_informative=2, n_redundant=0, flip_y=0.0, shuffle=False)
    _, y = make_classification(chunks=500, random_state=0, **kwargs)
    _, ys = sklearn.datasets.make_classification(random_state=0, **kwargs)
    np.testing.assert_array_equal(y.compute(), ys)  # clusters 0, 1, 2, 3 in order: labels 0, 1, 0, 1


def test_weights_and_flip_y():
    _, y = make_classification(
        n_samples=20_000, n_features=5, weights=[0.8], flip_y=0.0, chunks=5000, random_state=0
    )
    yc = y.compute()
    for i in range(0, 20_000, 5000):  # each block holds the class proportions
        assert abs(np.mean(yc[i : i + 5000] == 0) - 0.8) < 1e-3
    _, y = make_classification(n_samples=20_000, n_features=5, weights=[0.8], flip_y=0.5, chunks=5000,
                               random_state=0)
    # half the labels are redrawn at random: class 0 falls from 0.8 to 0.8 * 0.5 + 0.5 * 0.5 = 0.65
    assert abs(np.mean(y.compute() == 0) - 0.65) < 0.02


def test_multiclass_and_scikit_learn_options():
    X, y = make_classification(
        n_samples=900, n_features=8, n_informative=4, n_classes=3, n_clusters_per_class=1, hypercube=False,
        shift=None, scale=None, chunks=300, random_state=1,
    )
    Xc, yc = dask.compute(X, y)
    assert set(np.unique(yc)) == {0, 1, 2}
    assert np.isfinite(Xc).all() and np.abs(Xc.mean(axis=0)).max() > 1  # shift and scale drawn


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_features=3, n_informative=2, n_redundant=2), "n_features"),
        (dict(n_informative=1, n_classes=3), "n_informative"),
        (dict(weights=[0.2, 0.3, 0.5]), "weights"),
        (dict(weights=[0.7, 0.7]), "weights"),
        (dict(chunks=0), "chunks"),
        (dict(chunks=(10, 10)), "chunks"),
        (dict(n_samples=0), "n_samples"),
        (dict(flip_y=2.0), "flip_y"),
    ],
)
def test_errors_name_the_parameter(kwargs, name):
    with pytest.raises(InvalidParameterError, match=name):
        make_classification(**kwargs)
