"""Synthetic data sets as Dask arrays, generated block by block: the whole never sits in memory.

>>> X, y = make_classification(n_samples=1000, n_features=5, chunks=250, random_state=0)
>>> X
dask.array<make_classification_X, shape=(1000, 5), dtype=float64, chunksize=(250, 5), chunktype=numpy.ndarray>
>>> sorted(set(y.compute().tolist()))
[0, 1]
"""

from __future__ import annotations

import numbers
from typing import Any

import dask
import dask.array as da
import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.random import sample_without_replacement

from hypersweep._validation import check_int, check_number, invalid

__all__ = ["make_classification"]

_NOISE_ROWS = 4096  # rows of noise drawn at a time


def make_classification(
    n_samples: int = 100,
    n_features: int = 20,
    *,
    n_informative: int = 2,
    n_redundant: int = 2,
    n_repeated: int = 0,
    n_classes: int = 2,
    n_clusters_per_class: int = 2,
    weights: Any = None,
    flip_y: float = 0.01,
    class_sep: float = 1.0,
    hypercube: bool = True,
    shift: Any = 0.0,
    scale: Any = 1.0,
    shuffle: bool = True,
    random_state: Any = None,
    chunks: Any = None,
) -> tuple[da.Array, da.Array]:
    """A random classification problem as Dask arrays ``(X, y)``: scikit-learn's ``make_classification``
    (same keyword arguments, same distribution), generated one row block at a time.

    Each class is made of ``n_clusters_per_class`` Gaussian clusters around vertices of a hypercube of side
    ``2 * class_sep`` in the ``n_informative`` first dimensions, each cluster with its own random covariance;
    then redundant features (linear combinations of the informative ones), repeated ones, and noise; a
    fraction ``flip_y`` of labels is randomized; ``shift`` and ``scale`` apply; ``shuffle`` permutes the
    features. The structure of the problem (cluster centers, covariances, redundant combinations, repeated
    columns, shift, scale, feature order) is drawn **once** from ``random_state``, and only the rows are drawn
    per block, each block from its own seed: every block is a sample of the same distribution, so a model
    trained on some blocks holds on the others. (Drawing everything per block, as independent calls of
    scikit-learn's function would, gives every block different class centers: a different problem per block.)

    ``chunks`` are row blocks: an int, a tuple of block sizes, ``"auto"`` or None (Dask's automatic size);
    the features stay in one chunk. With ``shuffle=True`` each block holds the clusters in the proportions
    of ``weights`` (counts rounded per block) in random row order; with ``shuffle=False`` rows are ordered by
    cluster across the whole array, as scikit-learn does. The numbers differ from scikit-learn's for the same
    ``random_state``, and depend on ``chunks``; the same arguments always give the same arrays.

    >>> X, y = make_classification(n_samples=20, n_features=4, n_redundant=0, chunks=(5, 15), random_state=1)
    >>> X.chunks, y.dtype
    (((5, 15), (4,)), dtype('int64'))
    """
    n_samples = check_int("n_samples", n_samples, minimum=1)
    n_features = check_int("n_features", n_features, minimum=1)
    n_informative = check_int("n_informative", n_informative, minimum=1)
    n_redundant = check_int("n_redundant", n_redundant, minimum=0)
    n_repeated = check_int("n_repeated", n_repeated, minimum=0)
    n_classes = check_int("n_classes", n_classes, minimum=1)
    n_clusters_per_class = check_int("n_clusters_per_class", n_clusters_per_class, minimum=1)
    flip_y = check_number("flip_y", flip_y, minimum=0.0, maximum=1.0)
    class_sep = check_number("class_sep", class_sep)
    if n_informative + n_redundant + n_repeated > n_features:
        raise invalid(
            "n_features", n_features, f">= n_informative + n_redundant + n_repeated = "
            f"{n_informative + n_redundant + n_repeated}", "add features or make fewer informative/redundant ones",
        )
    n_clusters = n_classes * n_clusters_per_class
    if n_informative < np.log2(n_clusters):
        raise invalid(
            "n_informative", n_informative, f">= log2(n_classes * n_clusters_per_class) = {np.log2(n_clusters):g}",
            "the clusters sit on distinct vertices of an n_informative-dimensional hypercube",
        )
    proportions = _cluster_proportions(weights, n_classes, n_clusters_per_class)
    row_chunks = _row_chunks(chunks, n_samples, n_features)

    rng = check_random_state(random_state)
    structure = _draw_structure(
        rng, n_features, n_informative, n_redundant, n_repeated, n_clusters, class_sep, hypercube, shift, scale,
        shuffle,
    )
    structure.update(
        n_classes=n_classes, n_clusters=n_clusters, flip_y=flip_y, proportions=proportions, shuffle=bool(shuffle),
        block_starts=np.concatenate([[0], np.cumsum(row_chunks)[:-1]]).astype(np.int64),
        global_counts=_counts(n_samples, proportions, 0) if not shuffle else None,
        base_seed=int(rng.randint(np.iinfo(np.int32).max)),
    )
    token = dask.base.tokenize(structure, row_chunks)
    X = da.map_blocks(
        _x_block, dtype=np.float64, chunks=(row_chunks, (n_features,)), meta=np.empty((0, 0)),
        name=f"make_classification_X-{token}", structure=structure,
    )
    y = da.map_blocks(
        _y_block, dtype=np.int64, chunks=(row_chunks,), meta=np.empty((0,), dtype=np.int64),
        name=f"make_classification_y-{token}", structure=structure,
    )
    return X, y


def _cluster_proportions(weights: Any, n_classes: int, n_clusters_per_class: int) -> np.ndarray:
    if weights is None:
        class_weights = np.full(n_classes, 1.0 / n_classes)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if len(w) == n_classes - 1:
            w = np.append(w, 1.0 - w.sum())
        if len(w) != n_classes or np.any(w < 0) or not np.isfinite(w).all() or w.sum() > 1 + 1e-9:
            raise invalid(
                "weights", weights,
                f"None or {n_classes} (or {n_classes - 1}) non-negative class proportions adding up to at most 1",
                "e.g. weights=[0.9] for 90% of class 0",
            )
        class_weights = w
    n_clusters = n_classes * n_clusters_per_class
    return np.array([class_weights[k % n_classes] / n_clusters_per_class for k in range(n_clusters)])


def _row_chunks(chunks: Any, n_samples: int, n_features: int) -> tuple[int, ...]:
    if chunks is None or chunks == "auto":
        return tuple(int(c) for c in da.core.normalize_chunks(("auto", -1), (n_samples, n_features), dtype=float)[0])
    if isinstance(chunks, numbers.Integral) and not isinstance(chunks, bool):
        if chunks < 1:
            raise invalid("chunks", chunks, "an int >= 1, a tuple of row block sizes, 'auto' or None")
        return tuple(int(c) for c in da.core.normalize_chunks((int(chunks),), (n_samples,))[0])
    if isinstance(chunks, (tuple, list)) and all(isinstance(c, numbers.Integral) for c in chunks):
        if sum(chunks) == n_samples and all(c > 0 for c in chunks):
            return tuple(int(c) for c in chunks)
        if len(chunks) == 2 and chunks[1] in (n_features, -1) and chunks[0] > 0:  # a block shape (rows, cols)
            return tuple(int(c) for c in da.core.normalize_chunks((int(chunks[0]),), (n_samples,))[0])
    raise invalid(
        "chunks", chunks, f"an int, a tuple of positive row block sizes summing to n_samples={n_samples}, "
        "a block shape (rows, n_features), 'auto' or None", "the features are always one chunk",
    )


def _hypercube_vertices(n: int, dimensions: int, rng: np.random.RandomState) -> np.ndarray:
    """``n`` distinct vertices of the unit hypercube in ``dimensions`` dimensions, as 0/1 rows."""
    if dimensions <= 30:
        codes = sample_without_replacement(2**dimensions, n, random_state=rng)
        return ((codes[:, None] >> np.arange(dimensions)) & 1).astype(float)
    while True:  # collisions are vanishingly unlikely in > 30 dimensions; draw again if one happens
        vertices = rng.randint(2, size=(n, dimensions)).astype(float)
        if len(np.unique(vertices, axis=0)) == n:
            return vertices


def _draw_structure(
    rng: np.random.RandomState, n_features: int, n_informative: int, n_redundant: int, n_repeated: int,
    n_clusters: int, class_sep: float, hypercube: bool, shift: Any, scale: Any, shuffle: bool,
) -> dict:
    centroids = _hypercube_vertices(n_clusters, n_informative, rng) * 2 * class_sep - class_sep
    if not hypercube:
        centroids *= 2 * rng.uniform(size=(n_clusters, 1))
        centroids *= rng.uniform(size=(1, n_informative))
    covariances = 2 * rng.uniform(size=(n_clusters, n_informative, n_informative)) - 1
    redundant = 2 * rng.uniform(size=(n_informative, n_redundant)) - 1
    repeated = ((n_informative + n_redundant - 1) * rng.uniform(size=n_repeated) + 0.5).astype(np.intp)
    shift = (2 * rng.uniform(size=n_features) - 1) * class_sep if shift is None else np.asarray(shift, dtype=float)
    scale = 1 + 100 * rng.uniform(size=n_features) if scale is None else np.asarray(scale, dtype=float)
    for name, value in (("shift", shift), ("scale", scale)):
        if value.ndim > 1 or (value.ndim == 1 and len(value) != n_features):
            raise invalid(name, value, f"None, a number or {n_features} numbers (one per feature)")
    order = rng.permutation(n_features) if shuffle else None
    return dict(
        n_features=n_features, n_informative=n_informative, n_redundant=n_redundant, n_repeated=n_repeated,
        centroids=centroids, covariances=covariances, redundant=redundant, repeated=repeated, shift=shift,
        scale=scale, feature_order=order,
    )


def _counts(n: int, proportions: np.ndarray, start: int) -> np.ndarray:
    """Rows per cluster among ``n``: floor of the proportions, the rest one each from cluster ``start`` on."""
    counts = np.floor(n * proportions).astype(np.int64)
    for i in range(n - int(counts.sum())):
        counts[(start + i) % len(counts)] += 1
    return counts


def _rng(structure: dict, block: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([structure["base_seed"], block, stream]))


def _clusters(structure: dict, block: int, n: int) -> np.ndarray:
    """The cluster of each row of block ``block`` (``n`` rows)."""
    if structure["shuffle"]:
        counts = _counts(n, structure["proportions"], block)
        labels = np.repeat(np.arange(len(counts)), counts)
        return _rng(structure, block, 0).permutation(labels)
    start = int(structure["block_starts"][block])
    ends = np.cumsum(structure["global_counts"])
    return np.searchsorted(ends, np.arange(start, start + n), side="right")


def _x_block(block_info: Any = None, structure: dict | None = None) -> np.ndarray:
    """Rows of block ``block``, written in place into one array (memory: the block and a few small parts)."""
    info = block_info[None]
    block, n = info["chunk-location"][0], info["chunk-shape"][0]
    s = structure
    clusters = _clusters(s, block, n)
    rng = _rng(s, block, 1)
    n_inf, n_red, n_rep = s["n_informative"], s["n_redundant"], s["n_repeated"]
    n_useless = s["n_features"] - n_inf - n_red - n_rep
    # column c of scikit-learn's layout (informative, redundant, repeated, useless) lands in column where[c]
    order = s["feature_order"]
    where = np.argsort(order) if order is not None else np.arange(s["n_features"])
    X = np.empty((n, s["n_features"]))
    informative = rng.standard_normal(size=(n, n_inf))
    for k in range(s["n_clusters"]):
        rows = clusters == k
        if rows.any():
            informative[rows] = informative[rows] @ s["covariances"][k] + s["centroids"][k]
    X[:, where[:n_inf]] = informative
    if n_red:
        X[:, where[n_inf : n_inf + n_red]] = informative @ s["redundant"]
    if n_rep:
        X[:, where[n_inf + n_red : n_inf + n_red + n_rep]] = X[:, where[s["repeated"]]]
    if n_useless:
        columns = where[_n_features_used(s) :]
        for start in range(0, n, _NOISE_ROWS):  # the noise in slices: no block-sized temporary
            stop = min(n, start + _NOISE_ROWS)
            X[start:stop, columns] = rng.standard_normal(size=(stop - start, n_useless))
    shift, scale = s["shift"], s["scale"]
    X += shift[order] if (order is not None and shift.ndim) else shift
    X *= scale[order] if (order is not None and scale.ndim) else scale
    return X


def _n_features_used(structure: dict) -> int:
    return structure["n_informative"] + structure["n_redundant"] + structure["n_repeated"]


def _y_block(block_info: Any = None, structure: dict | None = None) -> np.ndarray:
    info = block_info[None]
    block, n = info["chunk-location"][0], info["chunk-shape"][0]
    y = (_clusters(structure, block, n) % structure["n_classes"]).astype(np.int64)
    if structure["flip_y"] > 0:
        rng = _rng(structure, block, 2)
        flip = rng.uniform(size=n) < structure["flip_y"]
        y[flip] = rng.integers(structure["n_classes"], size=int(flip.sum()))
    return y
