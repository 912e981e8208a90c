"""hypersweep.sklearn.GridSearchCV / RandomizedSearchCV: scikit-learn's results, computed on Dask with shared
pipeline fits."""

from __future__ import annotations

import os
import warnings

import joblib
import numpy as np
import pytest
from scipy.stats import loguniform, randint
from sklearn import model_selection as skms
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier

from hypersweep._validation import InvalidParameterError
from hypersweep.sklearn import GridSearchCV, RandomizedSearchCV
from hypersweep.sklearn.grid_search import _build_graph, _Data, _ParamCodes

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# --- data and helpers ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clf_data():
    return make_classification(n_samples=120, n_features=8, n_informative=4, n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def reg_data():
    return make_regression(n_samples=90, n_features=5, noise=5.0, random_state=0)


@pytest.fixture(scope="module")
def text_data():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    docs, labels = [], []
    for i in range(90):
        label = i % 3
        own = [f"t{label}_{j}" for j in rng.integers(0, 6, size=4)]
        docs.append(" ".join(list(rng.choice(words, size=8)) + own))
        labels.append(label)
    return docs, np.array(labels)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc:
        with distributed.Client(lc, set_as_default=False) as client:
            yield client


def assert_same_results(ours, theirs, *, times=False):
    """Every cv_results_ key of scikit-learn's search, with equal values (times only as keys)."""
    a, b = theirs.cv_results_, ours.cv_results_
    assert list(b) == list(a)
    for key in a:
        if key.endswith("_time") and not times:
            assert b[key].shape == a[key].shape
            continue
        if key == "params":
            assert b[key] == a[key]
        elif key.startswith("param_"):
            assert [v for v in b[key].tolist()] == [v for v in a[key].tolist()], key
            assert b[key].mask.tolist() == np.ma.getmaskarray(a[key]).tolist(), key
        else:
            np.testing.assert_array_equal(b[key], a[key], err_msg=key)
    for attr in ("best_index_", "best_params_", "best_score_", "n_splits_", "multimetric_"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr
        else:
            assert not hasattr(ours, attr), attr


class FitCounter(TransformerMixin, BaseEstimator):
    """Scales its input by ``factor``; each fit appends a line to ``path`` (counts fits across processes)."""

    def __init__(self, path="", factor=1.0):
        self.path = path
        self.factor = factor

    def fit(self, X, y=None):
        if self.path:
            with open(self.path, "a") as f:
                f.write(f"{os.getpid()} {self.factor}\n")
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        return np.asarray(X) * self.factor


# pickled by value (cloudpickle) on the way to the process workers, which cannot import this test module
FitCounter.__module__ = "__main__"


class FailOn(TransformerMixin, BaseEstimator):
    """Fails to fit when ``bad`` is True."""

    def __init__(self, bad=False):
        self.bad = bad

    def fit(self, X, y=None):
        if self.bad:
            raise ValueError("FailOn was told to fail")
        return self

    def transform(self, X):
        return X


def counted(path):
    return sum(1 for _ in open(path)) if os.path.exists(path) else 0


# --- scikit-learn's results ---------------------------------------------------------------------------------
@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_classifier_pipeline_matches_sklearn(clf_data, scheduler):
    X, y = clf_data
    pipe = Pipeline([("sc", StandardScaler()), ("pca", PCA(random_state=0)), ("clf", LogisticRegression())])
    grid = {"pca__n_components": [2, 5], "clf__C": [0.1, 1.0, 10.0]}
    ours = GridSearchCV(pipe, grid, cv=3, return_train_score=True, scheduler=scheduler).fit(X, y)
    theirs = skms.GridSearchCV(pipe, grid, cv=3, return_train_score=True).fit(X, y)
    assert_same_results(ours, theirs)
    assert ours.step_fits_ == {"sc": 3, "pca": 6}  # the scaler once per fold, PCA once per n_components and fold
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.score(X, y) == theirs.score(X, y) and ours.n_features_in_ == 8
    assert ours.refit_time_ > 0 and ours.cv_results_["mean_fit_time"].min() > 0


def test_regressor_and_plain_estimator_match_sklearn(reg_data):
    X, y = reg_data
    pipe = Pipeline([("poly", PolynomialFeatures()), ("ridge", Ridge())])
    grid = {"poly__degree": [1, 2], "poly__interaction_only": [True, False], "ridge__alpha": [0.1, 10.0]}
    ours = GridSearchCV(pipe, grid, scoring="neg_mean_squared_error", scheduler="sync").fit(X, y)
    theirs = skms.GridSearchCV(pipe, grid, scoring="neg_mean_squared_error").fit(X, y)
    assert_same_results(ours, theirs)
    assert ours.n_splits_ == 5  # KFold(5): a regressor is not stratified
    grid = [{"kernel": ["linear"], "C": [1.0, 10.0]}, {"kernel": ["rbf"], "gamma": [0.1, "scale"]}]
    ours = GridSearchCV(SVR(), grid, cv=KFold(3, shuffle=True, random_state=1), scheduler="threads").fit(X, y)
    theirs = skms.GridSearchCV(SVR(), grid, cv=KFold(3, shuffle=True, random_state=1)).fit(X, y)
    assert_same_results(ours, theirs)
    assert ours.cv_results_["param_gamma"].mask.tolist() == [True, True, False, False]
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_randomized_search_draws_sklearns_candidates(clf_data):
    X, y = clf_data
    dists = {"C": loguniform(1e-2, 1e2), "fit_intercept": [True, False], "max_iter": randint(50, 200)}
    kwargs = dict(n_iter=6, random_state=3, cv=3)
    ours = RandomizedSearchCV(LogisticRegression(), dists, scheduler="sync", **kwargs).fit(X, y)
    theirs = skms.RandomizedSearchCV(LogisticRegression(), dists, **kwargs).fit(X, y)
    assert_same_results(ours, theirs)
    pipe = Pipeline([("sc", StandardScaler()), ("tree", DecisionTreeClassifier(random_state=0))])
    dists = {"sc__with_mean": [True, False], "tree__max_depth": [2, 3, 4, None], "tree__min_samples_leaf": [1, 5]}
    ours = RandomizedSearchCV(pipe, dists, n_iter=5, random_state=0, scheduler="threads").fit(X, y)
    theirs = skms.RandomizedSearchCV(pipe, dists, n_iter=5, random_state=0).fit(X, y)
    assert_same_results(ours, theirs)


def test_tuple_valued_parameters(text_data):
    docs, y = text_data
    pipe = Pipeline([("vect", CountVectorizer()), ("tfidf", TfidfTransformer()),
                     ("clf", SGDClassifier(random_state=0, max_iter=50, tol=None))])
    grid = {"vect__ngram_range": [(1, 1), (1, 2)], "tfidf__norm": ["l1", "l2"], "clf__alpha": [1e-4, 1e-2]}
    ours = GridSearchCV(pipe, grid, cv=3, scheduler="threads").fit(docs, y)
    theirs = skms.GridSearchCV(pipe, grid, cv=3).fit(docs, y)
    assert_same_results(ours, theirs)
    column = ours.cv_results_["param_vect__ngram_range"]
    assert column.dtype == object and column[0] == (1, 1) and column[-1] == (1, 2)
    assert ours.step_fits_ == {"vect": 6, "tfidf": 12}
    # the engine records the tuples themselves (JSON lists); the mapping gives the tuples back
    trial = ours.study_.trials[-1]
    assert trial.config["vect__ngram_range"] == [1, 2]
    assert ours._codes.params(trial.config) == ours.cv_results_["params"][-1]


def test_multimetric_with_refit_by_name(clf_data):
    X, y = clf_data
    pipe = Pipeline([("sc", StandardScaler()), ("clf", LogisticRegression())])
    grid = {"sc__with_std": [True, False], "clf__C": [0.01, 1.0]}
    for scoring in (["accuracy", "f1_macro"], {"acc": "accuracy", "bal": "balanced_accuracy"}):
        refit = "f1_macro" if isinstance(scoring, list) else "bal"
        ours = GridSearchCV(pipe, grid, scoring=scoring, refit=refit, cv=3, return_train_score=True,
                            scheduler="sync").fit(X, y)
        theirs = skms.GridSearchCV(pipe, grid, scoring=scoring, refit=refit, cv=3, return_train_score=True).fit(X, y)
        assert_same_results(ours, theirs)
        assert ours.multimetric_ and set(ours.scorer_) == set(theirs.scorer_)
        assert ours.score(X, y) == theirs.score(X, y)
        # the study's value is the refit metric; every metric is in the metadata
        best = ours.study_.best_trial
        assert best.value == ours.best_score_ and f"mean_test_{refit}" in best.metadata
    # callable refit: the index it returns; no best_score_
    ours = GridSearchCV(pipe, grid, scoring=["accuracy"], refit=lambda r: 2, cv=3, scheduler="sync").fit(X, y)
    assert ours.best_index_ == 2 and not hasattr(ours, "best_score_") and hasattr(ours, "best_estimator_")


def test_refit_false(clf_data):
    X, y = clf_data
    grid = {"C": [0.1, 1.0]}
    ours = GridSearchCV(LogisticRegression(), grid, refit=False, cv=3, scheduler="sync").fit(X, y)
    theirs = skms.GridSearchCV(LogisticRegression(), grid, refit=False, cv=3).fit(X, y)
    assert_same_results(ours, theirs)
    assert not hasattr(ours, "best_estimator_") and not hasattr(ours, "refit_time_")
    assert not hasattr(ours, "predict")
    with pytest.raises(AttributeError) as raised:
        ours.predict(X)
    assert "refit=False" in str(raised.value.__cause__)  # why, with the fix
    multi = GridSearchCV(LogisticRegression(), grid, scoring=["accuracy", "f1_macro"], refit=False, cv=3,
                         scheduler="sync").fit(X, y)
    assert not hasattr(multi, "best_index_") and "rank_test_f1_macro" in multi.cv_results_


def test_error_score(clf_data):
    X, y = clf_data
    pipe = Pipeline([("fail", FailOn()), ("clf", LogisticRegression())])
    grid = {"fail__bad": [False, True], "clf__C": [0.1, 1.0]}
    with pytest.warns(FitFailedWarning, match="6 fits failed out of a total of 12"), \
            pytest.warns(UserWarning, match="test scores are non-finite"):
        ours = GridSearchCV(pipe, grid, cv=3, error_score=np.nan, scheduler="threads").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = skms.GridSearchCV(pipe, grid, cv=3, error_score=np.nan).fit(X, y)
    assert_same_results(ours, theirs)
    assert np.isnan(ours.cv_results_["mean_test_score"][1::2]).all()  # candidates 1 and 3 have fail__bad=True
    assert ours.cv_results_["rank_test_score"].tolist() == [1, 3, 2, 3]
    states = [t.state.value for t in ours.study_.trials]
    assert states == ["complete", "failed", "complete", "failed"]
    assert "FailOn was told to fail" in ours.study_.trials[1].fail_reason
    with pytest.warns(FitFailedWarning):
        zero = GridSearchCV(pipe, grid, cv=3, error_score=0.0, scheduler="sync").fit(X, y)
    assert zero.cv_results_["mean_test_score"][1::2].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="FailOn was told to fail"):
        GridSearchCV(pipe, grid, cv=3, scheduler="threads").fit(X, y)  # error_score="raise" is the default
    with pytest.raises(ValueError, match="All the 6 fits failed"):
        GridSearchCV(pipe, {"fail__bad": [True], "clf__C": [0.1, 1.0]}, cv=3, error_score=np.nan,
                     scheduler="sync").fit(X, y)


def test_custom_scorer_sees_the_whole_pipeline_and_dict_scoring(clf_data):
    X, y = clf_data
    pipe = Pipeline([("sc", StandardScaler()), ("clf", LogisticRegression())])
    grid = {"sc__with_mean": [True, False], "clf__C": [0.1, 1.0]}

    def scorer(estimator, X_test, y_test):
        assert isinstance(estimator, Pipeline)  # scored like scikit-learn: the fitted pipeline, raw rows
        return float(np.mean(estimator.predict(X_test) == y_test))

    ours = GridSearchCV(pipe, grid, scoring=scorer, cv=3, scheduler="sync").fit(X, y)
    theirs = skms.GridSearchCV(pipe, grid, scoring=scorer, cv=3).fit(X, y)
    assert_same_results(ours, theirs)

    def two(estimator, X_test, y_test):
        accuracy = float(np.mean(estimator.predict(X_test) == y_test))
        return {"acc": accuracy, "err": 1 - accuracy}

    ours = GridSearchCV(pipe, grid, scoring=two, refit="acc", cv=3, scheduler="sync").fit(X, y)
    theirs = skms.GridSearchCV(pipe, grid, scoring=two, refit="acc", cv=3).fit(X, y)
    assert_same_results(ours, theirs)
    assert ours.multimetric_ and "rank_test_err" in ours.cv_results_


def test_estimators_as_values_passthrough_and_feature_union(clf_data):
    X, y = clf_data
    pipe = Pipeline([("sc", StandardScaler()), ("reduce", PCA(2)), ("clf", LogisticRegression())])
    union = FeatureUnion([("pca", PCA(2)), ("id", "passthrough")])
    grid = {"reduce": ["passthrough", PCA(3, random_state=0), union], "clf": [LogisticRegression(), SVC()]}
    ours = GridSearchCV(pipe, grid, cv=3, scheduler="threads").fit(X, y)
    theirs = skms.GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert_same_results(ours, theirs)
    assert ours.step_fits_ == {"sc": 3, "reduce": 9}
    assert ours.study_.trials[0].config == {"clf": 0, "reduce": 0}  # estimators recorded by position
    assert grid["clf"][0].__dict__.get("coef_") is None  # the grid's own objects are never fitted


def test_groups_pairwise_cache_cv_and_dask_inputs(clf_data):
    da = pytest.importorskip("dask.array")
    X, y = clf_data
    groups = np.arange(len(y)) % 6
    grid = {"C": [0.1, 1.0, 10.0]}
    ours = GridSearchCV(LogisticRegression(), grid, cv=GroupKFold(3), scheduler="sync").fit(X, y, groups=groups)
    theirs = skms.GridSearchCV(LogisticRegression(), grid, cv=GroupKFold(3)).fit(X, y, groups=groups)
    assert_same_results(ours, theirs)
    kernel = X @ X.T
    ours = GridSearchCV(SVC(kernel="precomputed"), grid, cv=3, scheduler="sync").fit(kernel, y)
    theirs = skms.GridSearchCV(SVC(kernel="precomputed"), grid, cv=3).fit(kernel, y)
    assert_same_results(ours, theirs)
    pipe = Pipeline([("sc", StandardScaler()), ("clf", LogisticRegression())])
    grid = {"sc__with_std": [True, False], "clf__C": [0.1, 1.0]}
    base = GridSearchCV(pipe, grid, cv=3, scheduler="threads").fit(X, y)
    no_cache = GridSearchCV(pipe, grid, cv=3, scheduler="threads", cache_cv=False).fit(X, y)
    from_dask = GridSearchCV(pipe, grid, cv=3, scheduler="threads").fit(da.from_array(X, chunks=40),
                                                                        da.from_array(y, chunks=40))
    weights = np.linspace(0.5, 1.5, len(y))
    weighted = GridSearchCV(pipe, grid, cv=3, scheduler="sync").fit(X, y, clf__sample_weight=weights)
    theirs = skms.GridSearchCV(pipe, grid, cv=3).fit(X, y, clf__sample_weight=weights)
    for other in (no_cache, from_dask):
        np.testing.assert_array_equal(other.cv_results_["mean_test_score"], base.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(weighted.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"])


# --- the engine's records and the task graph ----------------------------------------------------------------
def test_param_codes_record_positions_for_objects():
    svc, func = SVC(C=2), np.log1p
    candidates = [
        {"C": 1.0, "clf": svc, "f": func, "t": (1, 2)},
        {"C": 2.0, "clf": SVC(), "f": func, "t": [1, 2]},  # (1, 2) and [1, 2]: one JSON, so positions
        {"C": 2.0, "n": None},
    ]
    codes = _ParamCodes(candidates)
    assert codes.by_position == {"C": False, "clf": True, "f": True, "n": True, "t": True}
    assert [codes.config(i) for i in range(3)] == [
        {"C": 1.0, "clf": 0, "f": 0, "n": -1, "t": 0},
        {"C": 2.0, "clf": 1, "f": 0, "n": -1, "t": 1},
        {"C": 2.0, "clf": -1, "f": -1, "n": 0, "t": -1},
    ]
    for i, params in enumerate(candidates):
        back = codes.params(codes.config(i))
        assert back.keys() == params.keys() and all(back[k] is params[k] for k in params)
    # a parameter some candidates lack records None for "not set" when None is not one of its values
    codes = _ParamCodes([{"a": "x", "b": 1}, {"a": "y"}])
    assert codes.config(1) == {"a": "y", "b": None} and codes.params({"a": "y", "b": None}) == {"a": "y"}
    # the configs are valid engine configs, stored and read back (JSON) to the same parameters
    import hypersweep as hs

    study = hs.create_study(codes.space(), direction="maximize", sampler="random")
    handle = study.start_trial(codes.config(0))
    assert codes.params(study.trial(handle.number).config) == {"a": "x", "b": 1}
    assert _ParamCodes([{}]).space().keys() == {"candidate"}


def test_task_keys_are_deterministic_and_distinct(clf_data):
    X, y = clf_data
    pipe = Pipeline([("sc", StandardScaler()), ("pca", PCA(2)), ("clf", LogisticRegression())])
    splits = list(KFold(3).split(X))
    data = _Data(X, y, {}, False, "data-token")

    def graph(grid):
        codes = _ParamCodes(list(skms.ParameterGrid(grid)))
        return _build_graph(pipe, codes, splits, data, None, decompose=True, scorers=None, assemble=False,
                            error_score="raise", return_train_score=False, cache_cv=True)

    grid = {"pca__whiten": [True, False], "clf__C": [0.1, 1.0]}
    one, two = graph(grid), graph(grid)
    assert list(one.dsk) == list(two.dsk) and one.step_keys == two.step_keys
    assert len(one.step_keys["pca"]) == 6 and len(set(one.step_keys["pca"])) == 6
    other = graph({"pca__whiten": [True, False], "clf__C": [0.1, 2.0]})
    assert other.step_keys == one.step_keys  # same prefixes: the same fit tasks
    assert set(other.score_keys).isdisjoint(one.score_keys)  # another classifier grid: other score tasks
    assert set(graph({"pca__whiten": [True]}).step_keys["pca"]) < set(one.step_keys["pca"])


# --- a real cluster -----------------------------------------------------------------------------------------
def test_local_cluster_shares_upstream_fits(cluster, clf_data, tmp_path):
    """A 3 x 4 grid, 3 values on the upstream step and 4 on the classifier, cv=3: 9 upstream fits, not 36."""
    X, y = clf_data
    path = str(tmp_path / "fits.txt")
    pipe = Pipeline([("count", FitCounter(path)), ("clf", LogisticRegression())])
    grid = {"count__factor": [0.5, 1.0, 2.0], "clf__C": [0.01, 0.1, 1.0, 10.0]}
    ours = GridSearchCV(pipe, grid, cv=3, refit=False, scheduler=cluster).fit(X, y)
    assert counted(path) == 3 * 3
    pids = {line.split()[0] for line in open(path)}
    assert str(os.getpid()) not in pids and len(pids) >= 1  # fitted on the workers
    os.remove(path)
    theirs = skms.GridSearchCV(pipe, grid, cv=3, refit=False).fit(X, y)
    assert counted(path) == 3 * 12
    assert_same_results(ours, theirs)
    assert len(ours.study_.trials) == 12 and ours.study_.best_value == ours.best_score_


def test_active_client_is_used_and_scheduler_address(cluster, clf_data):
    distributed = pytest.importorskip("distributed")
    X, y = clf_data
    grid = {"C": [0.1, 1.0]}
    with cluster.as_current(), distributed.get_task_stream(client=cluster) as stream:
        GridSearchCV(LogisticRegression(), grid, cv=3).fit(X, y)
    assert any(str(r["key"]).startswith("hs-score-") for r in stream.data)
    by_address = GridSearchCV(LogisticRegression(), grid, cv=3, scheduler=cluster.scheduler.address).fit(X, y)
    theirs = skms.GridSearchCV(LogisticRegression(), grid, cv=3).fit(X, y)
    assert_same_results(by_address, theirs)


def test_joblib_dask_backend_runs_sklearns_search(clf_data):
    """The joblib route: scikit-learn's own GridSearchCV, each fit a task on a distributed Client."""
    distributed = pytest.importorskip("distributed")
    X, y = clf_data
    pipe = Pipeline([("sc", StandardScaler()), ("clf", LogisticRegression())])
    grid = {"sc__with_mean": [True, False], "clf__C": [0.1, 1.0]}
    plain = skms.GridSearchCV(pipe, grid, cv=3).fit(X, y)
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        with distributed.get_task_stream(client=client) as stream, joblib.parallel_backend("dask"):
            on_dask = skms.GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
    assert len(stream.data) >= 1  # the fits ran as Dask tasks
    assert_same_results(on_dask, plain)


# --- the estimator API --------------------------------------------------------------------------------------
def test_get_params_clone_and_tags():
    pipe = Pipeline([("sc", StandardScaler()), ("clf", LogisticRegression())])
    search = GridSearchCV(pipe, {"clf__C": [1.0]}, cv=4, scheduler="sync")
    params = search.get_params(deep=False)
    assert set(params) == {"estimator", "param_grid", "scoring", "refit", "cv", "error_score",
                           "return_train_score", "n_jobs", "cache_cv", "scheduler"}
    assert params["error_score"] == "raise" and params["n_jobs"] == -1 and params["cache_cv"] is True
    copy = clone(search)
    assert copy.get_params(deep=False)["cv"] == 4 and copy is not search
    assert search.set_params(estimator__clf__C=3.0).estimator.named_steps["clf"].C == 3.0
    assert "estimator__clf__C" in search.get_params(deep=True)
    randomized = RandomizedSearchCV(SVR(), {"C": [1.0]})
    assert {"n_iter", "random_state", "param_distributions"} <= set(randomized.get_params())
    from sklearn.base import is_classifier, is_regressor

    assert is_classifier(search) and is_regressor(randomized)
    assert hasattr(search, "predict") and not hasattr(GridSearchCV(StandardScaler(), {}), "predict")


def test_clear_errors_for_bad_input(clf_data):
    X, y = clf_data
    lr = LogisticRegression()
    pipe = Pipeline([("sc", StandardScaler()), ("clf", lr)])
    cases = [
        (GridSearchCV(lr, [1, 2]), r"param_grid\[0\] must be a dict"),
        (GridSearchCV(lr, "C"), r"param_grid must be a dict"),
        (GridSearchCV(lr, {"C": 1.0}), r"param_grid\['C'\] must be a list of values.*wrap a single value"),
        (GridSearchCV(lr, {"C": []}), r"param_grid\['C'\] must be a non-empty list"),
        (GridSearchCV(pipe, {"clf__CC": [1.0]}), r"'clf__CC'.*did you mean 'clf__C'"),
        (GridSearchCV(lr, {"C": [1.0]}, scoring="acuracy"), r"scoring must be a scorer name.*'accuracy'"),
        (GridSearchCV(lr, {"C": [1.0]}, scoring=["accuracy", "f1_macro"]), r"refit must be False, a callable.*"
                                                                           r"e.g. refit='accuracy'"),
        (GridSearchCV(lr, {"C": [1.0]}, error_score="ignore"), r"error_score must be 'raise' or a number"),
        (GridSearchCV(lr, {"C": [1.0]}, scheduler="processes"), r"scheduler must be None, a distributed.Client"),
        (GridSearchCV(lr, {"C": [1.0]}, n_jobs=0), r"n_jobs must be a non-zero int"),
        (GridSearchCV(lr, {"C": [1.0]}, cache_cv="yes"), r"cache_cv must be a bool"),
        (GridSearchCV("lr", {"C": [1.0]}), r"estimator must be a scikit-learn estimator"),
        (RandomizedSearchCV(lr, {"C": [1.0]}, n_iter=0), r"n_iter must be an int >= 1"),
        (RandomizedSearchCV(lr, {"C": 3}), r"param_distributions\['C'\] must be a list of values or a scipy"),
    ]
    for search, message in cases:
        with pytest.raises(InvalidParameterError, match=message):
            search.fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"fit parameter 'sample_weight'.*'clf__sample_weight'"):
        GridSearchCV(pipe, {"clf__C": [1.0]}, scheduler="sync").fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GridSearchCV(lr, {"C": [1.0]}, scheduler="sync").fit(X, y[:-1])
    assert isinstance(InvalidParameterError("x"), TypeError)  # callers catching TypeError keep working
