"""Meta-estimators that put a scikit-learn estimator on Dask collections.

`ParallelPostFit` fits in memory and predicts / transforms / scores block by block; `Incremental` also trains
block by block, with one ``partial_fit`` call per row block, so the data never sits in memory whole.

What comes out follows what goes in: a lazy Dask array (or DataFrame, when the output is pandas) for Dask input,
the estimator's own result for NumPy, pandas or SciPy sparse input.

>>> import dask.array as da
>>> from sklearn.linear_model import SGDClassifier
>>> X = da.random.RandomState(0).normal(size=(100, 3), chunks=25)
>>> y = (X[:, 0] > 0).astype(int)
>>> clf = Incremental(SGDClassifier(random_state=0), random_state=0).fit(X, y, classes=[0, 1])
>>> clf.predict(X)
dask.array<predict, shape=(100,), dtype=int64, chunksize=(25,), chunktype=numpy.ndarray>
>>> clf.score(X, y) > 0.8
True
"""

from __future__ import annotations

import copy
import inspect
import pickle
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cloudpickle
import dask
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, RegressorMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import get_scorer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from hypersweep._validation import invalid
from hypersweep.sklearn._data import blocks, is_dask, n_rows

try:  # scikit-learn >= 1.6
    from sklearn.utils import get_tags
except ImportError:  # pragma: no cover - older scikit-learn reads _estimator_type
    get_tags = None

__all__ = ["Incremental", "ParallelPostFit"]

#: response method -> the constructor argument that gives its output's meta
_META_ARGUMENT = {
    "predict": "predict_meta",
    "predict_proba": "predict_proba_meta",
    "predict_log_proba": "predict_proba_meta",
    "transform": "transform_meta",
    "decision_function": None,
}

#: a block's pickled graph larger than this is scattered to the cluster rather than put in a task
_SCATTER_BYTES = 1 << 20

#: scoring names computed block by block (a sum per block, combined exactly); others use computed responses
_BLOCKWISE_SCORING = ("accuracy", "neg_mean_squared_error", "neg_mean_absolute_error", "r2", "neg_log_loss")


def _estimator_has(method: str):
    """available_if check: the fitted estimator (or, before fit, the given one) has ``method``."""

    def check(self: ParallelPostFit) -> bool:
        estimator = self.__dict__.get("estimator_", self.estimator)
        getattr(estimator, method)  # raises AttributeError when missing
        return True

    return check


def _can_score(self: ParallelPostFit) -> bool:
    return self.scoring is not None or _estimator_has("score")(self)


class ParallelPostFit(MetaEstimatorMixin, BaseEstimator):
    """Fit ``estimator`` in memory; predict, transform and score block by block, lazily, on Dask data.

    ``fit`` fits a clone of ``estimator`` as ``estimator_`` on the whole data: Dask inputs are **computed**
    first (the training set must fit in memory; use `Incremental` when it does not). Afterwards ``predict``,
    ``predict_proba``, ``predict_log_proba``, ``decision_function`` and ``transform`` (those the estimator
    has) return a lazy Dask array for a Dask array (``map_blocks``, same row chunks) or for a Dask DataFrame
    (``map_partitions``; unknown row chunks; a Dask DataFrame / Series when the output, or the ``*_meta``
    you give, is pandas), and the plain result for in-memory data. Fitted attributes (``classes_``,
    ``coef_``, ``n_features_in_``...) are read from ``estimator_``. An ``estimator`` fitted already (trained
    elsewhere on a small sample, say) needs no ``fit``: until one, it answers ``predict`` and the rest itself.

    ``score`` on Dask data: ``"accuracy"``, ``"neg_mean_squared_error"``, ``"neg_mean_absolute_error"``,
    ``"r2"``, ``"neg_log_loss"`` (and ``scoring=None`` with a classifier's or regressor's default score) are
    computed block by block, from per-block sums combined exactly: only a few numbers per block come back.
    Any other ``scoring`` (a name or a callable) runs on the computed responses: the blockwise predictions
    (or probabilities / decision values) and ``y`` are computed (one value or row of values per sample;
    ``X`` is never gathered). ``scoring=None`` with an estimator's own custom ``score`` computes ``X`` and
    ``y`` whole and calls it.

    Parameters: ``estimator`` (any scikit-learn estimator); ``scoring`` (None, a scorer name or a callable
    ``scorer(estimator, X, y)``); ``predict_meta``, ``predict_proba_meta``, ``transform_meta``: an empty
    array (or pandas object) of the output's type and dtype, e.g. ``np.array([], dtype=int)``; without it,
    the output type is found by calling the method on a one-row sample of zeros (a Dask DataFrame's
    stand-in partition), or, if that fails, on the first row of ``X``.

    >>> import dask.array as da, numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> clf = ParallelPostFit(LogisticRegression()).fit(X, y)
    >>> clf.classes_
    array([0, 1])
    >>> big = da.from_array(np.arange(8.0).reshape(8, 1), chunks=4)
    >>> clf.predict_proba(big)
    dask.array<predict_proba, shape=(8, 2), dtype=float64, chunksize=(4, 2), chunktype=numpy.ndarray>
    >>> clf.predict(big).compute()
    array([0, 0, 1, 1, 1, 1, 1, 1])
    >>> ParallelPostFit(LogisticRegression().fit(X, y)).predict(big).compute()  # fitted already: no fit
    array([0, 0, 1, 1, 1, 1, 1, 1])
    """

    def __init__(
        self,
        estimator: Any = None,
        scoring: Any = None,
        predict_meta: Any = None,
        predict_proba_meta: Any = None,
        transform_meta: Any = None,
    ) -> None:
        self.estimator = estimator
        self.scoring = scoring
        self.predict_meta = predict_meta
        self.predict_proba_meta = predict_proba_meta
        self.transform_meta = transform_meta

    # --- scikit-learn protocol --------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: fitted attributes ("classes_") come from estimator_.
        if name.startswith("_") or not name.endswith("_") or name == "estimator_":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        fitted = self._fitted_or_none()
        if fitted is None:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}: it is not fitted yet, call fit first"
            )
        return getattr(fitted, name)

    def __sklearn_is_fitted__(self) -> bool:
        return self._fitted_or_none() is not None

    def _fitted_or_none(self) -> Any:
        """``estimator_`` once fitted here; before that the given ``estimator`` if it was fitted already."""
        fitted = self.__dict__.get("estimator_")
        if fitted is not None:
            return fitted
        estimator = self.__dict__.get("estimator")
        if estimator is None or not hasattr(estimator, "get_params"):
            return None
        try:
            check_is_fitted(estimator)
        except (NotFittedError, TypeError):
            return None
        return estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is None or get_tags is None:
            return tags
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.target_tags = copy.deepcopy(inner.target_tags)
        tags.transformer_tags = copy.deepcopy(inner.transformer_tags)
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.input_tags = copy.deepcopy(inner.input_tags)
        tags.non_deterministic = inner.non_deterministic
        return tags

    @property
    def _estimator_type(self) -> str | None:
        """The wrapped estimator's type ("classifier", "regressor"...), for scikit-learn < 1.6."""
        inner = getattr(self.estimator, "_estimator_type", None)
        if inner is None and get_tags is not None and self.estimator is not None:
            inner = get_tags(self.estimator).estimator_type
        return inner

    # --- fitting ----------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> ParallelPostFit:
        """Fit a clone of ``estimator`` on all of ``X`` (Dask inputs are computed first); returns self.

        >>> from sklearn.preprocessing import StandardScaler
        >>> ParallelPostFit(StandardScaler()).fit([[0.0], [2.0]]).mean_
        array([1.])
        """
        estimator = self._check_estimator("fit")
        _check_scoring(self.scoring)
        if is_dask(X) or is_dask(y) or any(is_dask(v) for v in fit_params.values()):
            X, y, fit_params = dask.compute(X, y, fit_params)
        fitted = clone(estimator)
        fitted.fit(X, y, **fit_params)
        self.estimator_ = fitted
        return self

    def _check_estimator(self, method: str) -> Any:
        estimator = self.estimator
        if estimator is None or not hasattr(estimator, "get_params"):
            raise invalid(
                "estimator", estimator, "a scikit-learn estimator",
                f"pass one, e.g. {type(self).__name__}(LogisticRegression())",
            )
        if not hasattr(estimator, method):
            if method == "partial_fit":
                fix = (
                    "wrap an incremental learner (SGDClassifier, SGDRegressor, MultinomialNB, "
                    "MiniBatchKMeans, MLPClassifier...), or use ParallelPostFit to fit in memory"
                )
            else:
                fix = "wrap an estimator that has one"
            raise invalid("estimator", estimator, f"an estimator with a {method} method", fix)
        return estimator

    def _fitted(self) -> Any:
        fitted = self._fitted_or_none()
        if fitted is None:
            check_is_fitted(self)  # raises scikit-learn's NotFittedError
        return fitted

    # --- blockwise methods ------------------------------------------------------------------------------
    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """Predictions: lazy and blockwise for Dask input, the estimator's own for in-memory input."""
        return self._respond("predict", X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, one column per class in ``classes_`` (lazy for Dask input)."""
        return self._respond("predict_proba", X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """Log of the class probabilities (the estimator's own ``predict_log_proba``, lazy for Dask input)."""
        return self._respond("predict_log_proba", X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """Decision values (lazy for Dask input)."""
        return self._respond("decision_function", X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """Transformed data (lazy and blockwise for Dask input)."""
        return self._respond("transform", X)

    @available_if(_estimator_has("transform"))
    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit`` then ``transform`` of the same data (lazy output for Dask input)."""
        return self.fit(X, y, **fit_params).transform(X)

    @available_if(_estimator_has("get_feature_names_out"))
    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """The fitted estimator's output feature names."""
        return self._fitted().get_feature_names_out(input_features)

    def _respond(self, method: str, X: Any) -> Any:
        estimator = self._fitted()
        meta_argument = _META_ARGUMENT[method]
        meta = getattr(self, meta_argument) if meta_argument else None
        if _is_dask_array(X):
            return _map_array(estimator, method, X, meta, meta_argument)
        if _is_dask_frame(X):
            return _map_frame(estimator, method, X, meta, meta_argument)
        if is_dask(X):
            raise TypeError(
                f"cannot run {method} block by block on a {type(X).__name__}: give a Dask array or DataFrame, "
                "or in-memory data"
            )
        return getattr(estimator, method)(X)

    # --- scoring ----------------------------------------------------------------------------------------
    @available_if(_can_score)
    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """The ``scoring`` metric (or the estimator's own score) of the fitted model on ``X``, ``y``.

        On Dask data, common metrics are computed block by block (see the class docstring).

        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> X = np.arange(6.0).reshape(-1, 1)
        >>> ParallelPostFit(LinearRegression(), scoring="r2").fit(X, 2 * X[:, 0]).score(X, 2 * X[:, 0])
        1.0
        """
        estimator = self._fitted()
        scoring = _check_scoring(self.scoring)
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        if not (is_dask(X) or is_dask(y) or is_dask(sample_weight)):
            if scoring is None:
                return estimator.score(X, y, **weights) if y is not None else estimator.score(X)
            scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
            return scorer(estimator, X, y, **weights)
        name = _blockwise_name(scoring, estimator)
        if name is not None and is_dask(X) and is_dask(y) and (sample_weight is None or is_dask(sample_weight)):
            return _blockwise_score(estimator, name, X, y, sample_weight)
        if scoring is None:  # the estimator's own score: it needs the data itself
            X, y, weights = dask.compute(X, y, weights)
            return estimator.score(X, y, **weights) if y is not None else estimator.score(X)
        y, weights = dask.compute(y, weights)
        scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
        return scorer(_ComputedResponses(self), X, y, **weights)


class Incremental(ParallelPostFit):
    """Train ``estimator`` with one ``partial_fit`` call per row block of Dask data; predict like
    `ParallelPostFit`.

    ``fit(X, y, **fit_kwargs)`` fits a fresh clone of ``estimator`` as ``estimator_`` with ONE pass over the
    row blocks; ``partial_fit`` makes another pass, continuing ``estimator_``. ``fit_kwargs`` (``classes``,
    ...) go to every ``partial_fit`` call; one that is a Dask array aligned with ``X`` (``sample_weight``) is
    split into the same blocks. In-memory data is one block (one ``partial_fit`` call). A classifier whose
    ``partial_fit`` takes ``classes`` needs them on the first pass: they are found from an in-memory ``y``,
    and must be given for a Dask ``y`` (``classes=da.unique(y).compute()``), which costs no pass here.

    Blocks are visited in a random order (``shuffle_blocks=True``) or in their order; with an int
    ``random_state`` each pass's order is reproducible (pass ``k`` after ``fit`` draws from
    ``(random_state, k)``, so passes differ from each other). ``block_order_`` is the last pass's order,
    ``n_passes_`` the number of passes since ``fit``.

    With a running ``distributed`` Client, the pass is a chain of tasks, one per block, each depending on the
    previous one's model: the task computes its block on its worker (from the block's own part of the graph)
    and fits it, so a worker holds one block at a time however large the data, and the data never comes to
    this process; blocks already in the cluster's memory (persisted) stay where they are and the model goes
    to them. Blocks that are in this process's memory already (``da.from_array`` of a NumPy array) are fit
    here, as without a Client. Without a Client, each block is computed in this process, the next one while
    the model fits the current one: memory holds two blocks.

    ``assume_equal_chunks=True`` pairs the blocks of ``X`` and ``y`` as they are (``y`` is re-chunked to
    ``X``'s rows when both have known chunks) and checks each pair's rows when it is fit;
    ``assume_equal_chunks=False`` first computes unknown block lengths (one extra pass) so that ``y`` can be
    re-chunked to ``X``'s rows.

    >>> import dask.array as da
    >>> from sklearn.linear_model import SGDRegressor
    >>> X = da.random.RandomState(0).normal(size=(60, 2), chunks=20); y = X.sum(axis=1)
    >>> reg = Incremental(SGDRegressor(random_state=0), random_state=0).fit(X, y)
    >>> reg.block_order_, reg.n_passes_
    ([2, 0, 1], 1)
    >>> reg.partial_fit(X, y).n_passes_
    2
    """

    def __init__(
        self,
        estimator: Any = None,
        scoring: Any = None,
        shuffle_blocks: bool = True,
        random_state: Any = None,
        assume_equal_chunks: bool = True,
        predict_meta: Any = None,
        predict_proba_meta: Any = None,
        transform_meta: Any = None,
    ) -> None:
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            predict_meta=predict_meta,
            predict_proba_meta=predict_proba_meta,
            transform_meta=transform_meta,
        )
        self.shuffle_blocks = shuffle_blocks
        self.random_state = random_state
        self.assume_equal_chunks = assume_equal_chunks

    def fit(self, X: Any, y: Any = None, **fit_kwargs: Any) -> Incremental:
        """One pass of ``partial_fit`` over the row blocks, starting from a fresh clone; returns self."""
        estimator = self._check_estimator("partial_fit")
        self._check_options()
        return self._pass(clone(estimator), X, y, fit_kwargs, first=True)

    def partial_fit(self, X: Any, y: Any = None, **fit_kwargs: Any) -> Incremental:
        """Another pass over the row blocks, continuing ``estimator_`` (the first call is like ``fit``)."""
        estimator = self._check_estimator("partial_fit")
        self._check_options()
        fitted = self.__dict__.get("estimator_")
        if fitted is None:
            return self._pass(clone(estimator), X, y, fit_kwargs, first=True)
        return self._pass(fitted, X, y, fit_kwargs, first=False)

    def _check_options(self) -> None:
        _check_scoring(self.scoring)
        for name in ("shuffle_blocks", "assume_equal_chunks"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise invalid(name, getattr(self, name), "True or False")
        rs = self.random_state
        if not (rs is None or isinstance(rs, (np.random.RandomState, np.random.Generator))):
            if isinstance(rs, bool) or not isinstance(rs, (int, np.integer)) or rs < 0:
                raise invalid(
                    "random_state", rs, "None, an int >= 0, a RandomState or a Generator",
                    "e.g. random_state=0 for a reproducible block order",
                )

    def _pass(self, model: Any, X: Any, y: Any, fit_kwargs: dict, first: bool) -> Incremental:
        fit_kwargs = dict(fit_kwargs)
        if y is None and get_tags is not None and get_tags(model).target_tags.required:
            raise ValueError(f"{type(model).__name__} requires y to be passed, but the target y is None")
        if first and "classes" not in fit_kwargs and _takes_classes(model) and y is not None:
            if is_dask(y):
                raise invalid(
                    "classes", None, f"given to {type(self).__name__}.fit for a Dask y",
                    f"{type(model).__name__}.partial_fit needs every class on its first call: "
                    "fit(X, y, classes=da.unique(y).compute()) or the known labels, e.g. classes=[0, 1]",
                )
            fit_kwargs["classes"] = unique_labels(y)
        n_passes = 0 if first else self.__dict__.get("n_passes_", 0)
        if not (is_dask(X) or is_dask(y) or any(is_dask(v) for v in fit_kwargs.values())):
            model.partial_fit(X, y, **fit_kwargs)
            order = [0]
        else:
            parts, static = self._parts(X, y, fit_kwargs)
            order = self._order(len(parts), n_passes)
            client = _running_client()
            if client is not None and not all(_only_data(part) for part in parts):
                model = _fit_on_cluster(client, model, parts, order, static)
            else:
                model = _fit_here(model, parts, order, static)
        self.estimator_ = model
        self.block_order_ = order
        self.n_passes_ = n_passes + 1
        return self

    def _parts(self, X: Any, y: Any, fit_kwargs: dict) -> tuple[list[Any], dict]:
        """Delayed ``(X_block, y_block, {kwarg: block})`` per row block, and the kwargs that are not split."""
        if not is_dask(X):
            raise TypeError(
                "X is in memory but y or a fit argument is a Dask collection: pass X as a Dask collection "
                "with the same row blocks, or compute the others"
            )
        if not self.assume_equal_chunks:
            X, y, fit_kwargs = _align(X, y, fit_kwargs)
        lean = _Culler()
        pairs = [(lean(xb), lean(yb)) for xb, yb in blocks(X, y)]
        split = {}
        static = {}
        for key, value in fit_kwargs.items():
            if not is_dask(value):
                static[key] = value
                continue
            try:
                split[key] = [lean(part) for _, part in blocks(X, value)]
            except ValueError as error:
                raise ValueError(f"fit argument {key!r} does not have X's row blocks: {error}") from None
        parts = [
            dask.delayed(_block_data, pure=True)(xb, yb, {k: v[i] for k, v in split.items()})
            for i, (xb, yb) in enumerate(pairs)
        ]
        return parts, static

    def _order(self, n_blocks: int, n_passes: int) -> list[int]:
        if not self.shuffle_blocks:
            return list(range(n_blocks))
        rs = self.random_state
        if rs is None:
            rng: Any = np.random.default_rng()
        elif isinstance(rs, (np.random.RandomState, np.random.Generator)):
            rng = rs
        else:
            rng = np.random.default_rng([int(rs), n_passes])
        return [int(i) for i in rng.permutation(n_blocks)]


# --- blockwise responses -----------------------------------------------------------------------------------
def _is_dask_array(x: Any) -> bool:
    return is_dask(x) and hasattr(x, "map_blocks") and hasattr(x, "chunks")


def _is_dask_frame(x: Any) -> bool:
    return is_dask(x) and hasattr(x, "map_partitions") and hasattr(x, "divisions")


def _call_method(part: Any, estimator: Any, method: str, meta: Any = None) -> Any:
    out = getattr(estimator, method)(part)
    if meta is not None and hasattr(meta, "iloc") and not hasattr(out, "iloc"):
        import pandas as pd

        index = getattr(part, "index", None)
        if getattr(meta, "ndim", 1) == 1:
            return pd.Series(np.asarray(out), index=index, name=meta.name).astype(meta.dtype)
        columns = meta.columns if len(meta.columns) == np.shape(out)[1] else None
        return pd.DataFrame(np.asarray(out), index=index, columns=columns)
    return out


def _sample_output(estimator: Any, method: str, sample: Any, first_rows: Any, meta_argument: str | None) -> Any:
    """The method's output on a one-row sample (zeros), or on the data's first rows if zeros fail (warnings
    about the sample, e.g. its feature names, are not the user's: they are silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return getattr(estimator, method)(sample)
        except Exception:
            pass
        try:
            return getattr(estimator, method)(first_rows())
        except Exception as error:
            failure = error
    fix = (
        f"pass {meta_argument}=<an empty array of the output's dtype>, e.g. np.array([], dtype=int)"
        if meta_argument
        else "check that the estimator accepts this data"
    )
    raise ValueError(f"cannot find the output of {method} on a sample of X ({failure!r}); {fix}") from failure


def _empty_like(out: Any) -> Any:
    if hasattr(out, "iloc"):
        return out.iloc[:0]
    return out[:0] if getattr(out, "ndim", 0) else np.empty((0,), dtype=np.asarray(out).dtype)


def _map_array(estimator: Any, method: str, X: Any, meta: Any, meta_argument: str | None) -> Any:
    if X.ndim not in (1, 2):
        raise ValueError(f"X must be a 1-D or 2-D Dask array for {method}, got X.ndim={X.ndim}")
    if hasattr(meta, "iloc"):
        raise invalid(meta_argument, meta, "an empty array (not pandas) for a Dask array X", "e.g. np.array([])")
    if X.ndim == 2 and X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    trailing = None
    if meta is not None and getattr(meta, "ndim", 1) > 1 and all(s > 0 for s in meta.shape[1:]):
        trailing = tuple(meta.shape[1:])
    elif meta is not None and getattr(meta, "ndim", 1) == 1:
        trailing = ()
    elif (
        meta is not None and meta.ndim == 2 and method in ("predict_proba", "predict_log_proba")
        and hasattr(estimator, "classes_") and np.ndim(estimator.classes_) == 1
    ):
        trailing = (len(estimator.classes_),)
    if meta is None or trailing is None:
        sample = _zeros_like_rows(X)
        out = _sample_output(estimator, method, sample, lambda: X.blocks[0].compute()[:1], meta_argument)
        if isinstance(out, (list, tuple)):
            raise ValueError(
                f"{type(estimator).__name__}.{method} returns a {type(out).__name__} (one array per output), "
                "which cannot be a blockwise Dask array; call it on computed data instead"
            )
        trailing = tuple(np.shape(out)[1:])
        if meta is None:
            meta = _empty_like(out)
    out_ndim = 1 + len(trailing)
    kwargs: dict[str, Any] = {}
    if out_ndim < X.ndim:
        kwargs["drop_axis"] = list(range(out_ndim, X.ndim))
    elif out_ndim > X.ndim:
        kwargs["new_axis"] = list(range(X.ndim, out_ndim))
    chunks = (X.chunks[0],) + tuple((s,) for s in trailing)
    model = dask.delayed(estimator, pure=True)
    name = f"{method}-{dask.base.tokenize(model.key, X.name, method)}"
    return X.map_blocks(
        _call_method, model, method, dtype=meta.dtype, chunks=chunks, meta=meta, name=name, **kwargs
    )


def _zeros_like_rows(X: Any) -> Any:
    inner = getattr(X, "_meta", None)
    shape = (1,) + tuple(X.shape[1:])
    if inner is not None and "scipy.sparse" in type(inner).__module__:
        return type(inner)(shape, dtype=X.dtype)
    return np.zeros(shape, dtype=X.dtype)


def _map_frame(estimator: Any, method: str, X: Any, meta: Any, meta_argument: str | None) -> Any:
    if meta is None:
        out = _sample_output(estimator, method, X._meta_nonempty, lambda: X.head(1), meta_argument)
        meta = _empty_like(out)
    model = dask.delayed(estimator, pure=True)
    return X.map_partitions(_call_method, model, method, meta if hasattr(meta, "iloc") else None, meta=meta)


# --- scoring -----------------------------------------------------------------------------------------------
def _check_scoring(scoring: Any) -> Any:
    if scoring is None or callable(scoring):
        return scoring
    if isinstance(scoring, str):
        try:
            get_scorer(scoring)
        except ValueError:
            raise invalid(
                "scoring", scoring, "None, a scorer name or a callable",
                "see sklearn.metrics.get_scorer_names() for the names",
            ) from None
        return scoring
    raise invalid(
        "scoring", scoring, "None, a scorer name or a callable scorer(estimator, X, y)",
        "for several metrics, score each one separately",
    )


def _blockwise_name(scoring: Any, estimator: Any) -> str | None:
    if isinstance(scoring, str):
        return scoring if scoring in _BLOCKWISE_SCORING else None
    if scoring is None:
        method = getattr(type(estimator), "score", None)
        if method is ClassifierMixin.score:
            return "accuracy"
        if method is RegressorMixin.score:
            return "r2"
    return None


def _block_stats(estimator: Any, name: str, X: Any, y: Any, w: Any) -> tuple:
    """Sums of one block from which the metric over all blocks follows exactly."""
    from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, mean_squared_error

    n = n_rows(X)
    if n == 0:
        return (0.0, None)
    w = None if w is None else np.asarray(w, dtype=float)
    total = float(n if w is None else w.sum())
    if name == "neg_log_loss":
        proba = estimator.predict_proba(X)
        return (total, float(log_loss(y, proba, normalize=False, sample_weight=w, labels=estimator.classes_)))
    pred = estimator.predict(X)
    if name == "accuracy":
        return (total, float(accuracy_score(y, pred, normalize=False, sample_weight=w)))
    if name == "neg_mean_squared_error":
        return (total, float(mean_squared_error(y, pred, sample_weight=w)) * total)
    if name == "neg_mean_absolute_error":
        return (total, float(mean_absolute_error(y, pred, sample_weight=w)) * total)
    # r2: weight, mean and sum of squared deviations of y (per output), and the residual sum of squares
    y = np.asarray(y, dtype=float)
    y = y.reshape(len(y), -1)
    pred = np.asarray(pred, dtype=float).reshape(len(y), -1)
    w = np.ones(len(y)) if w is None else w
    mean = w @ y / total
    return (total, (mean, w @ (y - mean) ** 2, w @ (y - pred) ** 2, y.shape[1]))


def _combine(name: str, stats: list[tuple]) -> float:
    stats = [s for s in stats if s[1] is not None]
    total = sum(s[0] for s in stats)
    if not stats or total == 0:
        raise ValueError("cannot score on empty data: X has no rows")
    if name != "r2":
        value = sum(s[1] for s in stats) / total
        return float(-value if name.startswith("neg_") else value)
    mean = sum(s[0] * s[1][0] for s in stats) / total
    ss_tot = sum(s[1][1] + s[0] * (s[1][0] - mean) ** 2 for s in stats)
    ss_res = sum(s[1][2] for s in stats)
    scores = np.ones_like(ss_tot)
    nonzero = ss_tot != 0
    scores[nonzero] = 1.0 - ss_res[nonzero] / ss_tot[nonzero]
    scores[~nonzero & (ss_res != 0)] = 0.0
    return float(np.mean(scores))


def _blockwise_score(estimator: Any, name: str, X: Any, y: Any, sample_weight: Any) -> float:
    pairs = blocks(X, y)
    weights = [None] * len(pairs) if sample_weight is None else [part for _, part in blocks(X, sample_weight)]
    model = dask.delayed(estimator, pure=True)
    tasks = [
        dask.delayed(_block_stats, pure=True)(model, name, xb, yb, wb)
        for (xb, yb), wb in zip(pairs, weights, strict=True)
    ]
    return _combine(name, list(dask.compute(*tasks)))


class _ComputedResponses:
    """Stands for a fitted wrapper in a scorer call on Dask data: each response method (predict,
    predict_proba...) runs blockwise and returns the computed result; the rest is the fitted estimator's.
    """

    _methods = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")

    def __init__(self, wrapper: ParallelPostFit) -> None:
        self._wrapper = wrapper

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._methods:
            method = getattr(self._wrapper, name)  # AttributeError when the estimator lacks it

            def respond(X: Any) -> Any:
                result = method(X)
                return dask.compute(result)[0] if is_dask(result) else result

            respond.__name__ = name
            return respond
        return getattr(self._wrapper.estimator_, name)

    def __sklearn_tags__(self):
        return self._wrapper.__sklearn_tags__()

    def __sklearn_is_fitted__(self) -> bool:
        return True


# --- incremental training ----------------------------------------------------------------------------------
def _takes_classes(model: Any) -> bool:
    if not is_classifier(model):
        return False
    try:
        return "classes" in inspect.signature(model.partial_fit).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


class _Culler:
    """Each block's delayed object with only the tasks it needs. The blocks of one collection share its whole
    graph; computing or submitting a block would otherwise send (and optimize) all of it every time, a cost
    that grows with the number of blocks at each of them."""

    def __init__(self) -> None:
        self._graphs: dict[int, tuple[Any, dict]] = {}

    def __call__(self, part: Any) -> Any:
        if part is None or not is_dask(part) or not hasattr(part, "key"):
            return part
        from dask.core import keys_in_tasks
        from dask.delayed import Delayed

        graph = part.__dask_graph__()
        held = self._graphs.get(id(graph))
        if held is None:
            held = self._graphs[id(graph)] = (graph, dict(graph))  # the graph is kept: its id stays valid
        full = held[1]
        needed: dict = {}
        stack = [part.key]
        while stack:  # the tasks the block needs; keys outside the graph are in the cluster's memory
            key = stack.pop()
            if key in needed or key not in full:
                continue
            task = needed[key] = full[key]
            deps = getattr(task, "dependencies", None)
            stack.extend(deps if deps is not None else keys_in_tasks(full, [task]))
        return Delayed(part.key, needed)


def _block_data(X: Any, y: Any, kwargs: dict) -> tuple:
    return X, y, kwargs


def _partial_fit_block(model: Any, data: tuple, static: dict, index: int) -> Any:
    """``model.partial_fit`` on one computed block; returns the model (updated in place)."""
    X, y, split = data
    n = n_rows(X)
    if n == 0:
        return model
    if y is not None and n_rows(y) != n:
        raise ValueError(
            f"row block {index}: X has {n} rows but y has {n_rows(y)}; give y the same row blocks as X "
            "(y.rechunk({0: X.chunks[0]}) or the same partitions), or use assume_equal_chunks=False"
        )
    model.partial_fit(X, y, **static, **split)
    return model


def _fit_here(model: Any, parts: list[Any], order: list[int], static: dict) -> Any:
    """The pass on this machine: block ``k + 1`` is computed while the model fits block ``k``."""
    if not order:
        return model
    compute = _compute_here
    with ThreadPoolExecutor(1, thread_name_prefix="hypersweep-incremental") as pool:
        ahead = pool.submit(compute, parts[order[0]])
        for step, index in enumerate(order):
            data = ahead.result()
            ahead = pool.submit(compute, parts[order[step + 1]]) if step + 1 < len(order) else None
            try:
                model = _partial_fit_block(model, data, static, index)
            except BaseException:
                if ahead is not None:
                    ahead.cancel()
                raise
            del data
    return model


def _compute_here(part: Any) -> Any:
    """One block, computed in this process: by Dask's synchronous scheduler in the calling thread (a block's
    graph is small, ``dask.compute`` costs milliseconds a call, and inside a task it would wait for other
    tasks), or by the scheduler set in Dask's configuration (processes...) when there is one and the block
    has something to compute."""
    graph = dict(part.__dask_graph__())
    if _self_contained(graph, part.key) and (
        _in_worker() or _only_data(part)
        or dask.config.get("scheduler", None) in (None, "sync", "synchronous", "single-threaded", "threads",
                                                  "threading", "dask.distributed", "distributed")
    ):
        return dask.get(graph, part.key)
    return dask.compute(part)[0]


def _self_contained(graph: dict, key: Any) -> bool:
    """Whether a graph holds every task it needs (no key of the cluster's memory)."""
    if key not in graph or any(_is_future(node) for node in graph.values()):
        return False
    needed = set()
    for node in graph.values():
        needed |= set(getattr(node, "dependencies", ()))
    return needed <= set(graph)


def _is_future(node: Any) -> bool:
    """Whether a graph value is a ``distributed`` Future (persisted data: it is in the cluster's memory)."""
    if "distributed" not in type(node).__module__:
        return False
    from distributed import Future

    return isinstance(node, Future)


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def _only_data(part: Any) -> bool:
    """Whether a block's graph holds its data already (``da.from_array`` of an in-memory array): nothing to
    compute but the gathering of its pieces, and nothing that lives on a cluster."""
    graph = dict(part.__dask_graph__())
    for key, node in graph.items():
        if key == part.key:
            continue
        if callable(getattr(node, "func", None)) or (isinstance(node, tuple) and node and callable(node[0])):
            return False
    return _self_contained(graph, part.key)


def _running_client() -> Any:
    """The default ``distributed`` Client when Dask would use it now, else None."""
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    if _in_worker():
        return None  # inside a task already: the pass runs in it, rather than wait there for other tasks
    try:
        client = default_client()
    except ValueError:
        return None
    if getattr(client, "asynchronous", False) or getattr(client, "status", "running") != "running":
        return None
    scheduler = dask.base.get_scheduler()
    if getattr(scheduler, "__self__", None) is not client:  # e.g. dask.config.set(scheduler="threads")
        return None
    return client


def _fit_on_cluster(client: Any, model: Any, parts: list[Any], order: list[int], static: dict) -> Any:
    """The pass as a chain of tasks on the cluster: ``fit_k = partial_fit(fit_{k-1}, block_k)``.

    Each task computes its own block, on its worker, from the block's (culled) graph, then fits it: a block
    exists only while its task runs, so a worker holds one block at a time whatever the size of the data
    (submitting the blocks as separate tasks would let the scheduler compute them far ahead of the
    sequential fits, and hold them all). Blocks already in the cluster's memory (persisted) are dependencies
    of their task: the model goes to them. Two tasks are queued ahead, so the chain never waits for this
    process.
    """
    from distributed import wait

    window: deque = deque()
    current: Any = model
    try:
        for index in order:
            graph, key, external = _block_graph(parts[index], client)
            if len(graph) > _SCATTER_BYTES:  # a graph that carries data goes to the worker directly
                graph = client.scatter(graph, hash=False)
            current = client.submit(_fit_from_graph, current, graph, key, external, static, index, pure=False)
            window.append(current)
            if len(window) > 2:
                done = window.popleft()
                wait([done])
                if done.status == "error":
                    done.result()  # raises the worker's error
                del done
        return current.result() if order else model
    except BaseException:
        client.cancel(list(window))
        raise


def _block_graph(part: Any, client: Any) -> tuple[bytes, Any, dict]:
    """(the pickled graph of one block, its key, {key: Future} of what it needs from the cluster's memory)."""
    from distributed import Future

    graph = dict(part.__dask_graph__())
    held = {key: node for key, node in graph.items() if _is_future(node)}  # persisted: already on the cluster
    for key in held:
        del graph[key]
    needed = set()
    for task in graph.values():
        needed |= set(getattr(task, "dependencies", ()))
    if part.key not in graph:
        needed.add(part.key)
    external = dict(held)
    for key in needed - set(graph) - set(held):
        if key not in client.futures:
            raise ValueError(
                f"a block of the data depends on {key!r}, which is neither in its graph nor in the cluster's "
                "memory; persist the data with this Client or pass it unpersisted"
            )
        external[key] = Future(key, client=client)
    return cloudpickle.dumps(graph), part.key, external


def _fit_from_graph(model: Any, graph: bytes, key: Any, external: dict, static: dict, index: int) -> Any:
    """On a worker: compute block ``index`` from its graph (here, in this thread), then ``partial_fit`` it."""
    tasks = pickle.loads(graph)
    tasks.update(external)  # values of the keys that were already in the cluster's memory
    data = dask.get(tasks, key) if key in tasks else external[key]
    return _partial_fit_block(model, data, static, index)


def _align(X: Any, y: Any, fit_kwargs: dict) -> tuple[Any, Any, dict]:
    """``assume_equal_chunks=False``: compute unknown block lengths and re-chunk y (and Dask fit arguments)
    to X's rows."""
    lengths = _row_lengths(X)

    def aligned(v: Any, name: str) -> Any:
        if not is_dask(v):
            return v
        own = _row_lengths(v)
        if _is_dask_frame(v):
            if own == lengths:
                return v
            v = v.to_dask_array(lengths=list(own))
        if not _is_dask_array(v):
            raise TypeError(f"{name} must be a Dask array or DataFrame/Series, got {type(v).__name__}")
        v = _with_lengths(v, own)
        if sum(own) != sum(lengths):
            raise ValueError(f"X has {sum(lengths)} rows but {name} has {sum(own)}: give them the same rows")
        return v if own == lengths else v.rechunk({0: lengths})

    if _is_dask_array(X):
        X = _with_lengths(X, lengths)
    return X, aligned(y, "y"), {k: aligned(v, k) for k, v in fit_kwargs.items()}


def _with_lengths(x: Any, lengths: tuple[int, ...]) -> Any:
    """The Dask array ``x`` with its (computed) row block lengths known."""
    if tuple(x.chunks[0]) == lengths:
        return x
    import dask.array as da

    return da.Array(x.dask, x.name, chunks=(lengths,) + tuple(x.chunks[1:]), meta=x._meta)


def _row_lengths(x: Any) -> tuple[int, ...]:
    if _is_dask_array(x):
        if any(np.isnan(c) for c in x.chunks[0]):
            x = x.copy()
            x.compute_chunk_sizes()
        return tuple(int(c) for c in x.chunks[0])
    if _is_dask_frame(x):
        return tuple(int(n) for n in x.map_partitions(len).compute())
    raise TypeError(f"cannot find the row blocks of a {type(x).__name__}")
