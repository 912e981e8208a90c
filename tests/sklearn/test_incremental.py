"""The partial_fit searches: dask-ml's plans and attributes, inputs, reproducibility, patience, cv, multi-metric,
samplers, resources other than partial_fit, interrupts."""

from __future__ import annotations

import itertools
import os
import signal

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier, SGDRegressor

from hypersweep.sklearn import (
    HyperbandSearchCV,
    IncrementalSearchCV,
    InverseDecaySearchCV,
    SuccessiveHalvingSearchCV,
    _backend,
)

PARAMS = {"alpha": np.logspace(-5, 0, 20), "penalty": ["l2", "l1"], "average": [True, False]}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=1200, n_features=8, n_informative=4, random_state=0)
    return X, y


def _dask(X, y, chunks=200):
    return da.from_array(X, chunks=(chunks, X.shape[1])), da.from_array(y, chunks=chunks)


# --- plans: dask-ml's arithmetic ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "max_iter, n_models, calls",
    [(81, 143, 1581), (8, 5, 26), (15, 17, 101), (243, 143, 4743)],  # dask-ml 2025.1.0's metadata
)
def test_hyperband_plan_is_dask_mls(max_iter, n_models, calls):
    meta = HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=max_iter).metadata
    assert (meta["n_models"], meta["partial_fit_calls"]) == (n_models, calls)
    assert sum(b["n_models"] for b in meta["brackets"]) == n_models


def test_hyperband_81_brackets():
    meta = HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=81).metadata
    got = [(b["bracket"], b["n_models"], b["partial_fit_calls"], b["decisions"]) for b in meta["brackets"]]
    assert got == [
        (0, 5, 405, [81]),
        (1, 8, 324, [27, 81]),
        (2, 15, 279, [9, 27, 81]),
        (3, 34, 276, [3, 9, 27, 81]),
        (4, 81, 297, [1, 3, 9, 27, 81]),
    ]


def test_successive_halving_plan():
    sha = SuccessiveHalvingSearchCV(SGDClassifier(), PARAMS, n_initial_parameters=10, n_initial_iter=1)
    assert sha.metadata["partial_fit_calls"] == 22  # dask-ml: 7 models x 1, 2 x 3, 1 x 9
    assert sha.metadata["brackets"][0]["decisions"] == [1, 3, 9]


# --- fitting ----------------------------------------------------------------------------------------------------
def test_hyperband_fit_attributes_and_plan_kept(data):
    X, y = data
    search = HyperbandSearchCV(SGDClassifier(tol=None), PARAMS, max_iter=9, random_state=0)
    search.fit(*_dask(X, y), classes=[0, 1])
    assert search.metadata_["partial_fit_calls"] == search.metadata["partial_fit_calls"]  # no patience: exact
    assert search.metadata_["n_models"] == search.metadata["n_models"] == len(search.cv_results_["params"])
    cv = pd.DataFrame(search.cv_results_)
    for key in ["mean_partial_fit_time", "std_partial_fit_time", "mean_score_time", "std_score_time", "test_score",
                "rank_test_score", "model_id", "params", "partial_fit_calls", "bracket", "param_alpha",
                "param_penalty"]:
        assert key in cv
    assert search.best_index_ == int(np.flatnonzero(cv["model_id"] == cv["model_id"][search.best_index_])[0])
    assert search.best_params_ == cv["params"][search.best_index_]
    assert search.best_score_ == pytest.approx(cv["test_score"][search.best_index_])
    assert search.n_splits_ == 1 and search.multimetric_ is False
    history = pd.DataFrame(search.history_)
    assert set(history.columns) >= {"model_id", "params", "partial_fit_calls", "partial_fit_time", "score",
                                    "score_time", "elapsed_wall_time", "bracket"}
    assert history["elapsed_wall_time"].is_monotonic_increasing
    assert set(search.model_history_) == set(cv["model_id"])
    assert all(str(m).startswith("bracket=") for m in search.model_history_)
    # the best model is a survivor that got the whole budget of its bracket
    assert cv["partial_fit_calls"][search.best_index_] == 9
    assert 0.0 <= search.score(X, y) <= 1.0
    assert search.best_estimator_.get_params()["alpha"] == search.best_params_["alpha"]


def test_inputs_numpy_pandas_dask_dataframe(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    inputs = [
        (X, y),
        (frame, pd.Series(y)),
        _dask(X, y),
        (dd.from_pandas(frame, npartitions=4), dd.from_pandas(pd.Series(y), npartitions=4)),
    ]
    for Xi, yi in inputs:
        search = SuccessiveHalvingSearchCV(SGDClassifier(), PARAMS, n_initial_parameters=4, n_initial_iter=2,
                                           random_state=1).fit(Xi, yi, classes=[0, 1])
        assert len(search.cv_results_["params"]) == 4
        predicted = search.predict(Xi)
        if hasattr(predicted, "compute"):
            predicted = predicted.compute()
        assert len(np.asarray(predicted)) == len(X)


def test_numpy_in_numpy_out_dask_in_lazy_out(data):
    X, y = data
    search = IncrementalSearchCV(SGDClassifier(), PARAMS, n_initial_parameters=3, max_iter=3, random_state=0)
    search.fit(*_dask(X, y), classes=[0, 1])
    assert isinstance(search.predict(X), np.ndarray)
    lazy = search.predict(_dask(X, y)[0])
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), search.predict(X))


def test_random_state_reproducible(data):
    X, y = data

    def run():
        s = HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=9, random_state=7)
        return s.fit(*_dask(X, y), classes=[0, 1]).cv_results_

    a, b = run(), run()
    assert list(a["params"]) == list(b["params"])
    np.testing.assert_allclose(a["test_score"], b["test_score"])
    np.testing.assert_array_equal(a["partial_fit_calls"], b["partial_fit_calls"])


def test_tuple_parameters_in_cv_results(data):
    from sklearn.neural_network import MLPClassifier

    X, y = data
    params = {"hidden_layer_sizes": [(8,), (4, 4), (2, 2, 2)], "alpha": [1e-4, 1e-3]}
    search = SuccessiveHalvingSearchCV(MLPClassifier(max_iter=5), params, n_initial_parameters=3, n_initial_iter=1,
                                       random_state=0).fit(*_dask(X, y, 400), classes=[0, 1])
    column = search.cv_results_["param_hidden_layer_sizes"]
    assert all(isinstance(v, tuple) for v in column)
    assert isinstance(search.best_params_["hidden_layer_sizes"], tuple)
    pd.DataFrame(search.cv_results_)  # builds


def test_patience_stops_plateaus(data):
    X, y = data
    base = IncrementalSearchCV(SGDClassifier(), PARAMS, n_initial_parameters=4, max_iter=30, random_state=0)
    full = clone(base).fit(*_dask(X, y), classes=[0, 1])
    assert full.metadata_["partial_fit_calls"] == 4 * 30
    stopped = clone(base).set_params(patience=3, tol=1.0).fit(*_dask(X, y), classes=[0, 1])
    assert stopped.metadata_["partial_fit_calls"] < 4 * 30
    assert max(stopped.cv_results_["partial_fit_calls"]) <= 4  # nothing beats the first score by 1.0


def test_inverse_decay_drops_models(data):
    X, y = data
    search = InverseDecaySearchCV(SGDClassifier(), PARAMS, n_initial_parameters=8, max_iter=8, random_state=0)
    search.fit(*_dask(X, y), classes=[0, 1])
    calls = sorted(search.cv_results_["partial_fit_calls"])
    assert calls[-1] == 8 and calls[0] < 8
    assert search.metadata_["partial_fit_calls"] == search.metadata["partial_fit_calls"]


def test_cv_folds_and_refit(data):
    X, y = data
    search = SuccessiveHalvingSearchCV(SGDClassifier(), PARAMS, n_initial_parameters=3, n_initial_iter=2, cv=3,
                                       random_state=0).fit(*_dask(X, y), classes=[0, 1])
    cv = search.cv_results_
    splits = np.vstack([cv[f"split{i}_test_score"] for i in range(3)])
    np.testing.assert_allclose(splits.mean(axis=0), cv["test_score"])
    np.testing.assert_allclose(splits.std(axis=0), cv["std_test_score"])
    assert search.n_splits_ == 3
    assert search.best_estimator_.get_params()["alpha"] == search.best_params_["alpha"]
    assert search.best_estimator_.t_ > 1  # refitted on all the data


def test_multimetric_refit_by_name(data):
    X, y = data
    search = SuccessiveHalvingSearchCV(SGDClassifier(), PARAMS, n_initial_parameters=4, n_initial_iter=1,
                                       scoring=["accuracy", "f1"], refit="f1", random_state=0)
    search.fit(*_dask(X, y), classes=[0, 1])
    cv = search.cv_results_
    assert search.multimetric_
    np.testing.assert_allclose(cv["test_f1"], cv["test_score"])
    assert "rank_test_accuracy" in cv and "test_accuracy" in cv
    with pytest.raises(ValueError, match="refit must name"):
        clone(search).set_params(refit=True).fit(X, y, classes=[0, 1])


def _sparsity(estimator, X, y):
    """A second objective that fights accuracy: the share of zero coefficients (L1 and large alpha)."""
    return float(np.mean(estimator.coef_ == 0))


def test_several_metrics_as_objectives_with_a_callable_refit(data):
    X, y = data

    def sparse_enough(cv):  # the most accurate finished model on the front with a third of its weights zero
        rows = [i for i in np.flatnonzero(cv["pareto_front"]) if cv["test_sparsity"][i] >= 1 / 3]
        rows = rows or list(np.flatnonzero(cv["pareto_front"]))
        return int(max(rows, key=lambda i: cv["test_accuracy"][i]))

    params = {"alpha": np.logspace(-4, 0, 30), "penalty": ["l1", "elasticnet"]}
    search = SuccessiveHalvingSearchCV(SGDClassifier(random_state=0), params, n_initial_parameters=12,
                                       n_initial_iter=1, max_iter=9, scoring={"accuracy": "accuracy",
                                                                              "sparsity": _sparsity},
                                       refit=sparse_enough, random_state=0)
    search.fit(X, y, classes=[0, 1])
    study, cv = search.study_, search.cv_results_
    assert study.directions == ["maximize", "maximize"] and all(
        len(step) == 2 for t in study.trials for step in t.intermediate_values.values())
    complete = [t for t in study.trials if t.state.value == "complete"]
    assert complete and len(complete) < len(study.trials)  # the brackets pruned some
    assert all(t.values == tuple(cv[f"test_{m}"][cv["model_id"].tolist().index(t.system_attrs["model_id"])]
                                 for m in ("accuracy", "sparsity")) for t in complete)
    front = {cv["model_id"].tolist().index(t.system_attrs["model_id"]) for t in study.best_trials}
    assert set(search.pareto_front_) == front == set(np.flatnonzero(cv["pareto_front"]))
    assert search.best_index_ == sparse_enough(cv) and search.best_params_ == cv["params"][search.best_index_]
    assert not hasattr(search, "best_score_")  # as scikit-learn, when refit is a callable
    assert search.best_estimator_.predict(X[:5]).shape == (5,)
    with pytest.raises(ValueError, match="score.. needs one metric"):
        search.score(X, y)
    with pytest.raises(ValueError, match="must return the index of a model"):
        clone(search).set_params(refit=lambda cv: "first").fit(X, y, classes=[0, 1])
    one = SuccessiveHalvingSearchCV(SGDClassifier(), params, n_initial_parameters=4, n_initial_iter=1,
                                    refit=lambda cv: int(np.argmin(cv["test_score"])), random_state=0)
    with pytest.raises(ValueError, match="stopped early and not kept.*finished"):
        clone(one).fit(X, y, classes=[0, 1])  # the worst model was pruned

    def worst_finished(cv):
        return int(np.flatnonzero(cv["finished"])[np.argmin(cv["test_score"][cv["finished"]])])

    one.set_params(refit=worst_finished).fit(X, y, classes=[0, 1])  # one metric: the callable only picks
    assert one.best_index_ == worst_finished(one.cv_results_) and one.study_.n_objectives == 1
    assert one.best_estimator_.predict(X[:3]).shape == (3,)


def test_several_objectives_resume_from_storage(data, tmp_path):
    X, y = data
    params = {"alpha": np.logspace(-4, 0, 30), "penalty": ["l1", "elasticnet"]}
    kwargs = dict(n_initial_parameters=9, n_initial_iter=1, max_iter=9, random_state=0,
                  scoring={"accuracy": "accuracy", "sparsity": _sparsity}, storage=f"sqlite:///{tmp_path}/s.db",
                  study_name="s", refit=lambda cv: int(np.flatnonzero(cv["pareto_front"])[0]))
    first = SuccessiveHalvingSearchCV(SGDClassifier(random_state=0), params, **kwargs).fit(X, y, classes=[0, 1])
    again = SuccessiveHalvingSearchCV(SGDClassifier(random_state=0), params, resume=True, **kwargs)
    again.fit(X, y, classes=[0, 1])  # nothing left to run: the results are read back from the study
    for key in ("test_accuracy", "test_sparsity", "pareto_front"):
        np.testing.assert_array_equal(again.cv_results_[key], first.cv_results_[key])
    assert again.best_index_ == first.best_index_


def test_regressor_and_error_messages(data):
    X, y = data
    SuccessiveHalvingSearchCV(SGDRegressor(), {"alpha": [1e-4, 1e-2]}, n_initial_parameters=2, n_initial_iter=1,
                              random_state=0).fit(X, y.astype(float))
    from sklearn.svm import SVC

    with pytest.raises(TypeError, match="resource='n_samples'"):
        HyperbandSearchCV(SVC(), {"C": [1.0]}, max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="max_iter"):
        HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="patience"):
        HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=9, patience=1).fit(X, y)
    with pytest.raises(TypeError, match="list of values or a scipy.stats"):
        HyperbandSearchCV(SGDClassifier(), {"alpha": 0.1}, max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="storage="):
        HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=3, resume=True).fit(X, y)


def test_tpe_sampler_runs_every_bracket(data):
    X, y = data
    search = HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=9, sampler="tpe", random_state=0)
    search.fit(*_dask(X, y), classes=[0, 1])
    assert search.metadata_["n_models"] == search.metadata["n_models"]
    assert sorted(set(search.cv_results_["bracket"])) == [0, 1, 2]


def test_n_samples_resource_for_estimators_without_partial_fit(data):
    from sklearn.svm import SVC

    X, y = data
    search = SuccessiveHalvingSearchCV(SVC(), {"C": np.logspace(-2, 2, 9).tolist(), "gamma": ["scale", 0.01]},
                                       n_initial_parameters=9, n_initial_iter=1, max_iter=9, resource="n_samples",
                                       random_state=0).fit(X, y)
    assert search.metadata_["partial_fit_calls"] == search.metadata["partial_fit_calls"]
    assert search.best_estimator_.shape_fit_[0] == pytest.approx(len(X) * 0.8, abs=2)  # all the training rows


def test_warm_start_resource_continues_models(data):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = data
    search = SuccessiveHalvingSearchCV(
        HistGradientBoostingClassifier(early_stopping=False), {"learning_rate": [0.01, 0.05, 0.1, 0.3]},
        n_initial_parameters=4, n_initial_iter=3, max_iter=12, aggressiveness=2, resource="max_iter",
        random_state=0,
    ).fit(X, y)
    best = search.best_estimator_
    assert best.warm_start is True and best.n_iter_ == 12  # continued to the last rung's 12 iterations


def test_local_threads_without_a_client(data):
    from distributed import default_client

    with pytest.raises(ValueError):
        default_client()  # no client here: the search runs on local threads
    X, y = data
    assert isinstance(_backend.get_backend(), _backend.LocalBackend)
    search = HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=3, random_state=0).fit(X, y, classes=[0, 1])
    assert search.metadata_["n_models"] == search.metadata["n_models"]


def test_on_a_local_cluster_only_scores_come_back(data, monkeypatch):
    from distributed import Client, LocalCluster

    X, y = data
    fetched = []
    original = _backend.DaskBackend.fetch

    def recording(self, handle):
        value = original(self, handle)
        fetched.append(type(value).__name__)
        return value

    monkeypatch.setattr(_backend.DaskBackend, "fetch", recording)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster):
        search = HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=9, random_state=0)
        search.fit(*_dask(X, y), classes=[0, 1])
    assert search.metadata_["n_models"] == search.metadata["n_models"]
    assert len([t for t in fetched if t != "dict"]) == 1  # the best model, once at the end
    assert fetched.count("dict") == len(search.history_)  # every other result is a score record


def test_ctrl_c_keeps_results_so_far(data):
    X, y = data

    calls = itertools.count(1)

    class Slow(SGDClassifier):
        def partial_fit(self, X, y=None, classes=None, sample_weight=None):
            import time

            if next(calls) == 40:  # Ctrl-C once the search is well under way, however loaded the machine is
                os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.02)
            return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    search = HyperbandSearchCV(Slow(), PARAMS, max_iter=27, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        search.fit(*_dask(X, y), classes=[0, 1])
    assert len(search.history_) > 0
    assert len(search.cv_results_["params"]) > 0
    assert search.metadata_["partial_fit_calls"] < search.metadata["partial_fit_calls"]
    paused = search.study_.get_trials(["paused"])
    assert paused  # the unfinished models wait to be resumed


def test_methods_follow_the_estimator():
    assert not hasattr(HyperbandSearchCV(SGDRegressor(), PARAMS), "predict_proba")
    assert hasattr(HyperbandSearchCV(SGDClassifier(loss="log_loss"), PARAMS), "predict_proba")
    assert not hasattr(HyperbandSearchCV(SGDClassifier(), PARAMS), "transform")


def test_parameter_lists_of_dicts_and_distributions(data):
    from scipy.stats import loguniform

    X, y = data
    grids = [{"loss": ["hinge"], "alpha": [1e-4, 1e-3]}, {"loss": ["log_loss"], "penalty": ["l1", "l2"]}]
    search = HyperbandSearchCV(SGDClassifier(), grids, max_iter=9, random_state=1).fit(X, y)
    assert {tuple(sorted(p)) for p in search.cv_results_["params"]} <= {("alpha", "loss"), ("loss", "penalty")}
    search = HyperbandSearchCV(SGDClassifier(), {"alpha": loguniform(1e-6, 1e-1)}, max_iter=3, sampler="tpe",
                               random_state=0).fit(X, y)
    assert all(1e-6 <= p["alpha"] <= 1e-1 for p in search.cv_results_["params"])


def test_verbose_logs_scores_to_stdout(data, capsys):
    X, y = data
    HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=3, verbose=True, prefix="demo", random_state=0).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[demo]")]
    assert lines and all("partial_fit calls" in line for line in lines)
    with pytest.raises(ValueError, match="verbose"):
        HyperbandSearchCV(SGDClassifier(), PARAMS, max_iter=3, verbose="loud").fit(X, y)


def test_backend_for_in_process_and_process_clusters():
    from distributed import Client, LocalCluster

    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
        backend = _backend.get_backend()
        assert isinstance(backend, _backend.InProcessBackend) and backend.n_slots == 2
        backend.close()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster):
        backend = _backend.get_backend()
        assert isinstance(backend, _backend.DaskBackend) and backend.threads_here() == 0


@pytest.mark.parametrize("slowdown, expected", [(2.6, 1), (1.05, 2)])
def test_concurrency_picks_the_faster_mode(slowdown, expected):
    from hypersweep.sklearn._driver import _Concurrency

    c = _Concurrency(2, adaptive=True)  # no helper processes: alone against threads
    cost = {0: 0.1, 1: 0.3}  # seconds per call of two models, alone
    for m in (0, 1, 0, 1):  # alone first
        assert c.limit == 1
        c.observe(m, 1, cost[m], "alone")
    for m in (0, 1, 0, 1):  # side by side: each call takes `slowdown` times longer
        assert c.limit == 2
        c.observe(m, 1, cost[m] * slowdown, "threads")
    assert c.limit == expected and not c.offload
    assert not _Concurrency(2, adaptive=False).adaptive
