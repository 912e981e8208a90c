"""ParallelPostFit and Incremental: types in and out, laziness, scikit-learn API, block order, distributed
training, and memory bounded by a few blocks on a worker much smaller than the data."""

from __future__ import annotations

import pickle
import threading
import time
import warnings

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from hypersweep._validation import InvalidParameterError
from hypersweep.sklearn import Incremental, ParallelPostFit, make_classification

try:
    import dask.dataframe as dd
except ImportError:  # dask.dataframe needs pyarrow
    dd = None
needs_dataframe = pytest.mark.skipif(dd is None, reason="dask.dataframe is not importable (pyarrow missing)")


def _xy(n=400, d=4, chunks=100, seed=0):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=2, n_redundant=0, chunks=chunks,
                               random_state=seed)
    return X, y


class Recorder(ClassifierMixin, BaseEstimator):
    """A classifier that records each partial_fit call: the first value of the block, its length, the
    keyword arguments, and whether it ran on a distributed worker."""

    def __init__(self, tag=0):
        self.tag = tag

    def partial_fit(self, X, y=None, classes=None, **kwargs):
        try:
            from distributed import get_worker

            get_worker()
            on_worker = True
        except (ImportError, ValueError):
            on_worker = False
        self.calls_ = [*getattr(self, "calls_", []), (float(np.asarray(X)[0, 0]), len(X), classes, kwargs,
                                                      on_worker)]
        self.classes_ = np.asarray(classes) if classes is not None else getattr(self, "classes_", None)
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


def _indexed(n=60, chunks=10):
    """X whose first column is the row number, so a recorded block names itself."""
    X = da.stack([da.arange(n, chunks=chunks, dtype=float), da.ones(n, chunks=chunks)], axis=1).rechunk({1: -1})
    y = da.arange(n, chunks=chunks) % 2
    return X, y


# --- scikit-learn's estimator checks ------------------------------------------------------------------------
@parametrize_with_checks(
    [
        ParallelPostFit(LogisticRegression()),
        ParallelPostFit(StandardScaler()),
        Incremental(SGDClassifier(random_state=0)),
        Incremental(SGDRegressor(random_state=0)),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# --- ParallelPostFit ----------------------------------------------------------------------------------------
def test_numpy_and_pandas_in_plain_results_out():
    X, y = _xy()
    Xc, yc = dask.compute(X, y)
    clf = ParallelPostFit(LogisticRegression()).fit(Xc, yc)
    reference = LogisticRegression().fit(Xc, yc)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        out = getattr(clf, method)(Xc)
        assert isinstance(out, np.ndarray)
        np.testing.assert_allclose(out, getattr(reference, method)(Xc))
    assert clf.score(Xc, yc) == reference.score(Xc, yc)
    frame = pd.DataFrame(Xc, columns=list("abcd"))
    clf.fit(frame, yc)
    assert list(clf.feature_names_in_) == list("abcd")
    assert isinstance(clf.predict(frame), np.ndarray)
    scaler = ParallelPostFit(StandardScaler().set_output(transform="pandas")).fit(frame)
    assert isinstance(scaler.transform(frame), pd.DataFrame)


def test_dask_array_in_lazy_dask_array_out_equal_to_eager():
    X, y = _xy()
    Xc, yc = dask.compute(X, y)
    clf = ParallelPostFit(LogisticRegression()).fit(X, y)  # a Dask input is computed for fit
    np.testing.assert_allclose(clf.coef_, LogisticRegression().fit(Xc, yc).coef_)
    expected_shapes = {"predict": (400,), "predict_proba": (400, 2), "predict_log_proba": (400, 2),
                       "decision_function": (400,)}
    for method, shape in expected_shapes.items():
        out = getattr(clf, method)(X)
        assert isinstance(out, da.Array)
        assert out.shape == shape and out.chunks[0] == X.chunks[0]
        eager = getattr(clf.estimator_, method)(Xc)
        assert out.dtype == eager.dtype
        computed = out.compute()
        assert type(computed) is np.ndarray
        np.testing.assert_allclose(computed, eager)
    scaler = ParallelPostFit(StandardScaler()).fit(X)
    out = scaler.transform(X)
    assert isinstance(out, da.Array) and out.chunks == X.chunks
    np.testing.assert_allclose(out.compute(), StandardScaler().fit(Xc).transform(Xc))
    # column-chunked input is joined into whole rows
    out = clf.predict(X.rechunk((100, 2)))
    np.testing.assert_array_equal(out.compute(), clf.estimator_.predict(Xc))


def _exploding(n=40, d=3):
    def boom(block):
        raise RuntimeError("computed")

    return da.zeros((n, d), chunks=(10, d)).map_blocks(boom, dtype=float)


def test_dask_outputs_are_lazy():
    X, y = _xy(d=3)
    clf = ParallelPostFit(LogisticRegression()).fit(X, y)
    bomb = _exploding()
    out = clf.predict_proba(bomb)  # nothing computed yet
    assert out.shape == (40, 2)
    with pytest.raises(RuntimeError, match="computed"):
        out.compute()


class ZeroShy(LogisticRegression):
    """Refuses an all-zero row, like estimators that validate their input's values."""

    def predict(self, X):
        if not np.any(X):
            raise ValueError("all zeros")
        return super().predict(X)


def test_meta_arguments_and_the_sample_fallback():
    X, y = _xy(d=3)
    Xc = X.compute()
    shy = ParallelPostFit(ZeroShy()).fit(X, y)
    out = shy.predict(X)  # zeros fail: the first row of X gives the output's type
    np.testing.assert_array_equal(out.compute(), shy.estimator_.predict(Xc))
    given = ParallelPostFit(ZeroShy(), predict_meta=np.array([], dtype=np.int64)).fit(X, y)
    out = given.predict(_exploding())  # with a meta, nothing is sampled or computed
    assert out.dtype == np.int64 and out.ndim == 1
    proba = ParallelPostFit(LogisticRegression(), predict_proba_meta=np.empty((0, 2))).fit(X, y)
    assert proba.predict_proba(_exploding()).chunks[1] == (2,)
    with pytest.raises(InvalidParameterError, match="predict_meta"):
        ParallelPostFit(LogisticRegression(), predict_meta=pd.Series([], dtype=int)).fit(X, y).predict(X)


@needs_dataframe
def test_dask_dataframe_in_lazy_out_equal_to_eager():
    X, y = _xy()
    frame = pd.DataFrame(X.compute(), columns=list("abcd"))
    target = pd.Series(y.compute(), name="y")
    ddf = dd.from_pandas(frame, npartitions=4)
    dy = dd.from_pandas(target, npartitions=4)
    clf = ParallelPostFit(LogisticRegression()).fit(ddf, dy)
    assert list(clf.feature_names_in_) == list("abcd")
    for method in ("predict", "predict_proba", "decision_function"):
        out = getattr(clf, method)(ddf)
        assert isinstance(out, da.Array)
        np.testing.assert_allclose(out.compute(), getattr(clf.estimator_, method)(frame))
    assert clf.predict_proba(ddf).chunks[1] == (2,)
    # a pandas meta gives a Dask Series on X's index
    named = ParallelPostFit(LogisticRegression(), predict_meta=pd.Series([], dtype="int64", name="label"))
    out = named.fit(frame, target).predict(ddf)
    assert isinstance(out, dd.Series)
    result = out.compute()
    assert result.name == "label" and result.index.equals(frame.index)
    np.testing.assert_array_equal(result.to_numpy(), clf.estimator_.predict(frame))
    # pandas output of the estimator gives a Dask DataFrame
    scaler = ParallelPostFit(StandardScaler().set_output(transform="pandas")).fit(ddf)
    out = scaler.transform(ddf)
    assert isinstance(out, dd.DataFrame)
    pd.testing.assert_frame_equal(out.compute(), StandardScaler().set_output(transform="pandas").fit(frame)
                                  .transform(frame))
    assert clf.score(ddf, dy) == pytest.approx(clf.estimator_.score(frame, target), abs=1e-12)


@pytest.mark.parametrize("scoring", [None, "accuracy", "neg_log_loss", "roc_auc", "f1"])
def test_classifier_scores_on_dask_equal_eager(scoring):
    X, y = _xy()
    Xc, yc = dask.compute(X, y)
    clf = ParallelPostFit(LogisticRegression(), scoring=scoring).fit(Xc, yc)
    eager = clf.estimator_.score(Xc, yc) if scoring is None else get_scorer(scoring)(clf.estimator_, Xc, yc)
    assert clf.score(X, y) == pytest.approx(eager, abs=1e-12)
    assert clf.score(Xc, yc) == pytest.approx(eager, abs=1e-12)


@pytest.mark.parametrize("scoring", [None, "r2", "neg_mean_squared_error", "neg_mean_absolute_error",
                                     "explained_variance"])
def test_regressor_scores_on_dask_equal_eager(scoring):
    X, _ = _xy()
    y = X[:, 0] * 3.0 + X[:, 1] ** 2 + 100.0  # a large mean: the blockwise r2 must stay exact
    Xc, yc = dask.compute(X, y)
    reg = ParallelPostFit(LinearRegression(), scoring=scoring).fit(Xc, yc)
    eager = reg.estimator_.score(Xc, yc) if scoring is None else get_scorer(scoring)(reg.estimator_, Xc, yc)
    assert reg.score(X, y) == pytest.approx(eager, rel=1e-9, abs=1e-12)
    weights = da.linspace(0.5, 2.0, 400, chunks=100)
    if scoring in (None, "r2", "neg_mean_squared_error"):
        w = weights.compute()
        eager = (reg.estimator_.score(Xc, yc, sample_weight=w) if scoring is None
                 else get_scorer(scoring)(reg.estimator_, Xc, yc, sample_weight=w))
        assert reg.score(X, y, sample_weight=weights) == pytest.approx(eager, rel=1e-9)


def test_blockwise_score_brings_back_only_block_sums(monkeypatch):
    import hypersweep.sklearn.wrappers as wrappers

    X, y = _xy()
    clf = ParallelPostFit(LogisticRegression(), scoring="accuracy").fit(*dask.compute(X, y))
    seen = []
    original = wrappers._combine
    monkeypatch.setattr(wrappers, "_combine", lambda name, stats: seen.append(stats) or original(name, stats))
    clf.score(X, y)
    assert len(seen[0]) == 4 and all(isinstance(s, tuple) and len(s) == 2 for s in seen[0])


def test_fitted_attributes_delegate_and_unfitted_errors():
    X, y = dask.compute(*_xy())
    clf = ParallelPostFit(LogisticRegression())
    with pytest.raises(AttributeError, match="not fitted"):
        _ = clf.classes_
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_features_in_ == 4 and clf.coef_.shape == (1, 4)
    with pytest.raises(AttributeError):
        _ = clf.no_such_attribute_
    assert not hasattr(ParallelPostFit(StandardScaler()), "predict")
    assert hasattr(ParallelPostFit(StandardScaler()), "transform")
    assert not hasattr(ParallelPostFit(LinearRegression()), "predict_proba")
    assert not hasattr(ParallelPostFit(StandardScaler()), "score")
    assert hasattr(ParallelPostFit(StandardScaler(), scoring="r2"), "score")
    clone(clf)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))


def test_an_estimator_fitted_elsewhere_predicts_without_fit():
    Xd, yd = _xy()
    X, y = dask.compute(Xd, yd)
    trained = LogisticRegression().fit(X[:100], y[:100])  # on a small sample, in memory
    clf = ParallelPostFit(trained, scoring="accuracy")
    lazy = clf.predict(Xd)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), trained.predict(X))
    np.testing.assert_allclose(clf.predict_proba(Xd).compute(), trained.predict_proba(X))
    assert clf.score(Xd, yd) == pytest.approx(trained.score(X, y))
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert not hasattr(clf, "estimator_")  # nothing fitted here
    clf.fit(X, y)  # a fit here takes over, on a clone; the given estimator stays as it was
    assert clf.estimator_ is not trained
    np.testing.assert_array_equal(trained.coef_, LogisticRegression().fit(X[:100], y[:100]).coef_)
    np.testing.assert_array_equal(clf.predict(X), LogisticRegression().fit(X, y).predict(X))


def test_estimator_type_and_cv():
    assert is_classifier(ParallelPostFit(LogisticRegression()))
    assert is_classifier(Incremental(SGDClassifier()))
    assert is_regressor(Incremental(SGDRegressor()))
    assert not is_classifier(ParallelPostFit(StandardScaler()))
    y = np.array([0, 1] * 10)
    assert isinstance(check_cv(3, y, classifier=is_classifier(Incremental(SGDClassifier()))), StratifiedKFold)
    assert isinstance(check_cv(3, y, classifier=is_classifier(Incremental(SGDRegressor()))), KFold)


def test_params_clone_and_errors():
    inc = Incremental(SGDClassifier(alpha=0.1), scoring="accuracy", random_state=3)
    params = inc.get_params(deep=True)
    assert params["estimator__alpha"] == 0.1 and params["random_state"] == 3 and params["shuffle_blocks"]
    inc.set_params(estimator__alpha=0.5)
    assert inc.estimator.alpha == 0.5
    copy = clone(inc)
    assert copy.estimator is not inc.estimator and copy.estimator.alpha == 0.5
    X, y = _xy()
    with pytest.raises(InvalidParameterError, match="partial_fit.*ParallelPostFit"):
        Incremental(DecisionTreeClassifier()).fit(X, y)
    with pytest.raises(InvalidParameterError, match="estimator"):
        ParallelPostFit().fit(X, y)
    with pytest.raises(InvalidParameterError, match="classes"):
        Incremental(SGDClassifier()).fit(X, y)
    with pytest.raises(InvalidParameterError, match="scoring"):
        Incremental(SGDClassifier(), scoring="no-such-metric").fit(X, y, classes=[0, 1])
    with pytest.raises(InvalidParameterError, match="random_state"):
        Incremental(SGDClassifier(), random_state="seed").fit(X, y, classes=[0, 1])
    with pytest.raises(TypeError, match="in memory"):
        Incremental(SGDClassifier()).fit(X.compute(), y, classes=[0, 1])
    unknown = da.zeros(400, chunks=50)
    with pytest.raises(ValueError, match="row blocks"):
        Incremental(SGDClassifier()).fit(X, unknown[unknown == 0], classes=[0, 1])


# --- nesting --------------------------------------------------------------------------------------------
def test_pipeline_and_grid_search_with_estimator_prefix():
    X, y = dask.compute(*_xy())
    pipe = Pipeline([("scale", StandardScaler()), ("clf", Incremental(SGDClassifier(random_state=0),
                                                                       random_state=0))])
    pipe.fit(X, y, clf__classes=[0, 1])
    assert pipe.score(X, y) > 0.7
    search = GridSearchCV(Incremental(SGDClassifier(random_state=0), random_state=0),
                          {"estimator__alpha": [1e-4, 1e-2]}, cv=3)
    search.fit(X, y, classes=[0, 1])
    assert set(search.best_params_) == {"estimator__alpha"}
    assert isinstance(search.cv, int) and search.n_splits_ == 3
    assert search.best_estimator_.estimator_.alpha == search.best_params_["estimator__alpha"]
    grid = GridSearchCV(pipe, {"clf__estimator__alpha": [1e-4, 1e-3]}, cv=2).fit(X, y, clf__classes=[0, 1])
    assert grid.best_score_ > 0.6


def test_pipeline_on_dask_stays_lazy_and_grid_search_takes_dask_arrays():
    X, y = _xy()
    Xc, yc = dask.compute(X, y)
    pipe = make_pipeline(ParallelPostFit(StandardScaler()),
                         Incremental(SGDClassifier(random_state=0), shuffle_blocks=False))
    pipe.fit(X, y, incremental__classes=[0, 1])
    out = pipe.predict(X)
    assert isinstance(out, da.Array)
    # the same as the same steps on the computed blocks, in order
    scaled = StandardScaler().fit(Xc).transform(Xc)
    model = SGDClassifier(random_state=0)
    for i in range(4):
        model.partial_fit(scaled[100 * i : 100 * (i + 1)], yc[100 * i : 100 * (i + 1)], classes=[0, 1])
    np.testing.assert_array_equal(out.compute(), model.predict(scaled))
    search = GridSearchCV(Incremental(SGDClassifier(random_state=0), random_state=0),
                          {"estimator__alpha": [1e-4, 1e-2]}, cv=2)
    search.fit(X, y, classes=[0, 1])
    assert search.best_score_ > 0.6


# --- Incremental ----------------------------------------------------------------------------------------
def _hand_loop(X, y, order, model, passes=1, **kwargs):
    Xb, yb = X.to_delayed().ravel(), y.to_delayed().ravel()
    for p in range(passes):
        for i in order[p] if passes > 1 else order:
            model.partial_fit(*dask.compute(Xb[i], yb[i]), **kwargs)
    return model


def test_one_pass_is_the_hand_written_loop_in_block_order():
    X, y = _xy(n=1000, chunks=100)
    inc = Incremental(SGDClassifier(random_state=0), random_state=0).fit(X, y, classes=[0, 1])
    order = inc.block_order_
    assert sorted(order) == list(range(10)) and order != list(range(10)) and inc.n_passes_ == 1
    by_hand = _hand_loop(X, y, order, SGDClassifier(random_state=0), classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, by_hand.coef_)
    np.testing.assert_array_equal(inc.intercept_, by_hand.intercept_)
    assert inc.estimator_.t_ == by_hand.t_
    assert isinstance(inc.predict(X), da.Array)


def test_partial_fit_continues_with_a_new_reproducible_order():
    X, y = _xy(n=1000, chunks=100)
    inc = Incremental(SGDClassifier(random_state=0), random_state=7).fit(X, y, classes=[0, 1])
    first = inc.block_order_
    inc.partial_fit(X, y)
    second = inc.block_order_
    assert inc.n_passes_ == 2 and first != second
    by_hand = _hand_loop(X, y, [first, second], SGDClassifier(random_state=0), passes=2, classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, by_hand.coef_)
    again = Incremental(SGDClassifier(random_state=0), random_state=7).fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert again.block_order_ == second
    np.testing.assert_array_equal(again.coef_, inc.coef_)
    refit = inc.fit(X, y, classes=[0, 1])  # fit starts over
    assert refit.n_passes_ == 1 and refit.block_order_ == first
    # partial_fit on an unfitted wrapper is a first pass
    fresh = Incremental(SGDClassifier(random_state=0), random_state=7).partial_fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(fresh.coef_, refit.coef_)


def test_shuffle_blocks_false_and_random_state_forms():
    X, y = _indexed()
    inc = Incremental(Recorder(), shuffle_blocks=False).fit(X, y, classes=[0, 1])
    assert inc.block_order_ == list(range(6))
    assert [c[0] for c in inc.estimator_.calls_] == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    shuffled = Incremental(Recorder(), random_state=0).fit(X, y, classes=[0, 1])
    assert [c[0] for c in shuffled.estimator_.calls_] == [10.0 * i for i in shuffled.block_order_]
    a = Incremental(Recorder(), random_state=np.random.RandomState(0)).fit(X, y, classes=[0, 1]).block_order_
    b = Incremental(Recorder(), random_state=np.random.RandomState(0)).fit(X, y, classes=[0, 1]).block_order_
    assert a == b and sorted(a) == list(range(6))
    orders = {tuple(Incremental(Recorder()).fit(X, y, classes=[0, 1]).block_order_) for _ in range(8)}
    assert len(orders) > 1  # random_state=None: a fresh order


def test_fit_kwargs_reach_every_call_and_dask_kwargs_are_split():
    X, y = _indexed()
    weights = da.arange(60, chunks=20, dtype=float)  # other chunks than X: re-chunked to X's rows
    inc = Incremental(Recorder(), shuffle_blocks=False).fit(X, y, classes=[0, 1], sample_weight=weights)
    calls = inc.estimator_.calls_
    assert len(calls) == 6
    for first, length, classes, kwargs, _ in calls:
        assert list(classes) == [0, 1] and length == 10
        np.testing.assert_array_equal(kwargs["sample_weight"], np.arange(first, first + 10))
    inc.partial_fit(X, y, note="x")
    assert [c[3] for c in inc.estimator_.calls_[6:]] == [{"note": "x"}] * 6
    assert [c[2] for c in inc.estimator_.calls_[6:]] == [None] * 6  # no classes added after the first pass


def test_in_memory_data_is_one_block_and_classes_are_found():
    X, y = dask.compute(*_xy())
    inc = Incremental(SGDClassifier(random_state=0)).fit(X, y)
    reference = SGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, reference.coef_)
    assert inc.block_order_ == [0]
    rec = Incremental(Recorder()).fit(X, y)
    assert len(rec.estimator_.calls_) == 1 and list(rec.estimator_.calls_[0][2]) == [0, 1]


def test_unknown_chunks_and_assume_equal_chunks():
    X, y = _indexed()
    keep = X[:, 0] % 3 != 0
    Xu, yu = X[keep], y[keep]
    inc = Incremental(Recorder(), shuffle_blocks=False).fit(Xu, yu, classes=[0, 1])
    assert [c[1] for c in inc.estimator_.calls_] == [6, 7, 7, 6, 7, 7]
    # y with other (unknown) blocks than X: the default pairing fails with a message, False aligns
    y_other = da.from_array(yu.compute(), chunks=((7, 7, 6, 7, 7, 6),))
    with pytest.raises(ValueError, match="assume_equal_chunks=False"):
        Incremental(Recorder(), shuffle_blocks=False).fit(Xu, y_other[y_other >= 0], classes=[0, 1])
    aligned = Incremental(Recorder(), shuffle_blocks=False, assume_equal_chunks=False)
    aligned.fit(Xu, y_other[y_other >= 0], classes=[0, 1])
    assert [c[1] for c in aligned.estimator_.calls_] == [6, 7, 7, 6, 7, 7]


@needs_dataframe
def test_incremental_on_dask_dataframes():
    X, y = _xy(n=600, chunks=100)
    frame = pd.DataFrame(X.compute(), columns=list("abcd"))
    target = pd.Series(y.compute())
    ddf, dy = dd.from_pandas(frame, npartitions=6), dd.from_pandas(target, npartitions=6)
    inc = Incremental(SGDClassifier(random_state=0), random_state=0).fit(ddf, dy, classes=[0, 1])
    model = SGDClassifier(random_state=0)
    for i in inc.block_order_:
        part = slice(100 * i, 100 * (i + 1))
        model.partial_fit(frame.iloc[part], target.iloc[part], classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, model.coef_)
    out = inc.predict(ddf)
    np.testing.assert_array_equal(out.compute(), model.predict(frame))


def test_without_client_blocks_are_computed_one_at_a_time():
    """Locally, at most two blocks are computed at once: the one being fit and the next one."""
    X, y = _indexed(n=80)
    active, peak, lock = [0], [0], threading.Lock()

    def track(block):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return block

    class Slow(Recorder):
        def partial_fit(self, X, y=None, classes=None, **kwargs):
            time.sleep(0.02)
            return super().partial_fit(X, y, classes=classes, **kwargs)

    tracked = X.map_blocks(track, dtype=X.dtype)
    inc = Incremental(Slow(), shuffle_blocks=False).fit(tracked, y, classes=[0, 1])
    assert len(inc.estimator_.calls_) == 8 and peak[0] == 1


# --- distributed ----------------------------------------------------------------------------------------
def test_with_a_client_the_chain_runs_on_workers_and_gives_the_same_model():
    distributed = pytest.importorskip("distributed")
    X, y = _xy(n=1000, chunks=100)
    local = Incremental(SGDClassifier(random_state=0), random_state=0).fit(X, y, classes=[0, 1])
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0"):
        inc = Incremental(SGDClassifier(random_state=0), random_state=0).fit(X, y, classes=[0, 1])
        np.testing.assert_array_equal(inc.coef_, local.coef_)
        assert inc.block_order_ == local.block_order_
        rec = Incremental(Recorder(), random_state=0).fit(*_indexed(), classes=[0, 1])
        assert all(call[4] for call in rec.estimator_.calls_)  # every partial_fit ran on a worker
        assert [c[0] for c in rec.estimator_.calls_] == [10.0 * i for i in rec.block_order_]
        rec.partial_fit(*_indexed())
        assert len(rec.estimator_.calls_) == 12
        with dask.config.set(scheduler="sync"):  # an explicit local scheduler wins over the Client
            here = Incremental(Recorder(), random_state=0).fit(*_indexed(), classes=[0, 1])
            assert not any(call[4] for call in here.estimator_.calls_)
        # prediction and scoring go through the Client too
        np.testing.assert_array_equal(inc.predict(X).compute(), local.predict(X).compute())
        assert inc.score(X, y) == local.score(X, y)


def test_persisted_data_stays_on_the_workers_and_gives_the_same_model():
    distributed = pytest.importorskip("distributed")
    X, y = _xy(n=600, chunks=100)
    local = Incremental(SGDClassifier(random_state=0), random_state=0).fit(X, y, classes=[0, 1])
    frame = pd.DataFrame(X.compute(), columns=list("abcd"))
    target = pd.Series(y.compute())
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0"):
        Xp, yp = dask.persist(X, y)
        for data in ((Xp, yp), (Xp + 0.0, yp)):  # persisted blocks, and tasks on persisted blocks
            inc = Incremental(SGDClassifier(random_state=0), random_state=0).fit(*data, classes=[0, 1])
            np.testing.assert_array_equal(inc.coef_, local.coef_)
        if dd is not None:
            ddf, dy = dask.persist(dd.from_pandas(frame, npartitions=6), dd.from_pandas(target, npartitions=6))
            inc = Incremental(SGDClassifier(random_state=0), random_state=0).fit(ddf, dy, classes=[0, 1])
            np.testing.assert_array_equal(inc.block_order_, local.block_order_)
            by_hand = SGDClassifier(random_state=0)
            for i in inc.block_order_:
                by_hand.partial_fit(frame.iloc[100 * i : 100 * (i + 1)], target.iloc[100 * i : 100 * (i + 1)],
                                    classes=[0, 1])
            np.testing.assert_array_equal(inc.coef_, by_hand.coef_)


def _fit_in_a_task(seed):
    X, y = _xy(seed=seed)
    return Incremental(SGDClassifier(random_state=0), random_state=0).fit(X, y, classes=[0, 1]).coef_


def test_inside_a_task_the_pass_runs_in_that_task():
    """A fit inside a task (a search running on the cluster) must not wait for the cluster's other threads."""
    distributed = pytest.importorskip("distributed")
    expected = _fit_in_a_task(0)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        np.testing.assert_array_equal(client.submit(_fit_in_a_task, 0).result(timeout=60), expected)


class Failing(Recorder):
    def partial_fit(self, X, y=None, classes=None, **kwargs):
        if len(getattr(self, "calls_", [])) == 2:
            raise RuntimeError("third block fails")
        return super().partial_fit(X, y, classes=classes, **kwargs)


def test_errors_on_workers_come_back():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0"):
        with pytest.raises(RuntimeError, match="third block fails"):
            Incremental(Failing()).fit(*_indexed(), classes=[0, 1])
    with pytest.raises(RuntimeError, match="third block fails"):
        Incremental(Failing()).fit(*_indexed(), classes=[0, 1])


def _peak_probes():
    """(reset, peak) for a worker: reset the kernel's peak-RSS mark (VmHWM) to the current RSS and return that
    RSS; return the peak since. Local functions, so they travel by value and the worker imports nothing more."""

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"{field} not in /proc/self/status")

    def reset():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return status("VmRSS")

    def peak():
        return status("VmHWM")

    return reset, peak


def _can_measure_peak():
    try:
        _peak_probes()[0]()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _can_measure_peak(), reason="needs Linux's /proc/self/clear_refs to measure peak RSS")
def test_memory_stays_within_a_few_blocks_on_a_worker_ten_times_smaller_than_the_data():
    distributed = pytest.importorskip("distributed")
    n_features, block_rows, n_blocks = 100, 20_000, 190
    block_bytes = block_rows * n_features * 8  # 16 MB
    memory_limit = 300_000_000
    rng = da.random.default_rng(0)
    X = rng.random((block_rows * n_blocks, n_features), chunks=(block_rows, n_features))
    y = rng.integers(0, 2, size=block_rows * n_blocks, chunks=block_rows)
    assert X.nbytes >= 10 * memory_limit  # 3 GB of data for a 300 MB worker
    # no spilling or pausing to hide the memory used: a worker over its limit is killed, and the fit fails
    unmanaged = {"distributed.worker.memory.spill": False, "distributed.worker.memory.target": False,
                 "distributed.worker.memory.pause": False, "distributed.scheduler.allowed-failures": 0}
    with dask.config.set(unmanaged), distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, memory_limit=memory_limit, dashboard_address=":0",
    ) as cluster, distributed.Client(cluster) as client:
        small_X, small_y = _xy(n=200, d=n_features, chunks=100)  # warm up: imports, first allocations
        Incremental(SGDClassifier(random_state=0)).fit(small_X, small_y, classes=[0, 1])
        reset, peak_since = _peak_probes()
        (baseline,) = client.run(reset).values()
        inc = Incremental(SGDClassifier(random_state=0), random_state=0).fit(X, y, classes=[0, 1])
        (peak,) = client.run(peak_since).values()
    model_bytes = len(pickle.dumps(inc.estimator_))
    growth = peak - baseline
    assert len(inc.block_order_) == n_blocks
    assert growth < 3 * block_bytes + model_bytes, f"peak grew by {growth / block_bytes:.2f} blocks"
