"""Multi-fidelity searches over ``partial_fit`` (and over growing data or warm-started fits): dask-ml's
`HyperbandSearchCV`, `SuccessiveHalvingSearchCV`, `IncrementalSearchCV` and `InverseDecaySearchCV`, with
their parameters and fitted attributes, on hypersweep's engine.

Each search is a plan of synchronous successive-halving brackets (the engine's `Brackets` scheduler); the
engine's sampler proposes the models (``sampler="random"``, ``"tpe"`` or ``"bo"``: later brackets then learn
from earlier ones), its storage keeps them (``storage=`` / ``resume=True`` continue an interrupted search from
each model's checkpoint), and the driver trains them on a Dask cluster when a ``distributed`` Client is
running (data blocks and models stay on the workers; only scores come back), else on local threads.

>>> import numpy as np
>>> from sklearn.linear_model import SGDClassifier
>>> X = np.random.RandomState(0).normal(size=(200, 4)); y = (X[:, 0] > 0).astype(int)
>>> search = SuccessiveHalvingSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-2, 1.0]}, n_initial_parameters=3,
...                                    n_initial_iter=1, max_iter=3, random_state=0)
>>> search.fit(X, y, classes=[0, 1]).best_params_["alpha"] in (1e-4, 1e-2, 1.0)
True
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import sys
import warnings
from collections.abc import Hashable
from typing import Any

import dask
import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from hypersweep._logging import attached
from hypersweep._validation import invalid
from hypersweep.schedulers import Bracket, Brackets, HyperbandPlan, Rung, halving_bracket, paper_plan
from hypersweep.sklearn import _data, _tasks
from hypersweep.sklearn._backend import Backend, get_backend
from hypersweep.sklearn._driver import Data, Driver, ModelRun
from hypersweep.sklearn._params import ParamSpace
from hypersweep.sklearn._results import param_columns, rank
from hypersweep.sklearn._scoring import check_scorers

__all__ = ["HyperbandSearchCV", "IncrementalSearchCV", "InverseDecaySearchCV", "SuccessiveHalvingSearchCV"]

def _estimator_has(method: str) -> Any:
    """Whether the search (its best estimator once fitted, else the estimator it searches) has ``method``."""

    def check(search: Any) -> bool:
        return hasattr(getattr(search, "best_estimator_", search.estimator), method)

    return check


class BaseIncrementalSearchCV(MetaEstimatorMixin, BaseEstimator):
    """What the searches share: data preparation, the driver run, the fitted attributes, prediction."""

    def _plan(self) -> dict[int, Bracket]:
        raise NotImplementedError

    def _model_id(self, bracket: int, index: int) -> Hashable:
        return index

    def _patience(self) -> int:
        patience = self.patience
        if not isinstance(patience, numbers.Integral):
            raise invalid("patience", patience, "an int >= 2, True (chosen from max_iter) or False (off)")
        if patience and not isinstance(patience, bool) and patience <= 1:
            raise invalid("patience", patience, "an int >= 2: patience=1 always sees a plateau", )
        if isinstance(patience, bool):
            return max(self.max_iter // 3, 1) if patience else 0
        return int(patience)

    # --- the plan before fitting ----------------------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        """The plan, known before fitting: ``n_models``, ``partial_fit_calls``, ``max_iter`` and, per bracket,
        ``bracket``, ``n_models``, ``partial_fit_calls`` and ``decisions`` (the calls at which models are
        judged)."""
        plan = HyperbandPlan(self._plan())
        brackets = [
            {"bracket": s, "n_models": b.n_models, "partial_fit_calls": b.partial_fit_calls,
             "decisions": [r.resource for r in b.rungs]}
            for s, b in sorted(plan.brackets.items())
        ]
        return {"n_models": plan.n_models, "partial_fit_calls": plan.partial_fit_calls,
                "max_iter": max(b.max_resource for b in plan.brackets.values()), "brackets": brackets}

    # --- fit ------------------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> BaseIncrementalSearchCV:
        """Search: train the planned models on ``X, y``; ``fit_params`` (e.g. ``classes``) go to every
        ``partial_fit`` (or ``fit``) call. Ctrl-C keeps what was found so far (the fitted attributes are
        set) and then re-raises."""
        self._check_params()
        seed = _seed(self.random_state)
        scorers, refit_name, multimetric = check_scorers(self.estimator, self.scoring, self.refit)
        objectives = list(scorers) if multimetric and callable(self.refit) else []
        resource = self._resource()
        if resource == "partial_fit" and not hasattr(self.estimator, "partial_fit"):
            raise TypeError(
                f"{type(self.estimator).__name__} has no partial_fit; pass resource='n_samples' (fits on growing "
                "subsamples) or a warm-start parameter such as resource='n_estimators'"
            )
        fit_params = dict(fit_params)
        if resource == "partial_fit" and is_classifier(self.estimator) and "classes" not in fit_params:
            fit_params["classes"] = _classes(y)
        space = ParamSpace(self.parameters)
        backend = get_backend(getattr(self, "n_jobs", None))
        try:
            parts = _data.blocks(X, y)
            data, raw = _prepare(X, y, parts, backend, self._test_size(len(parts)), self._n_folds(), seed,
                                 self._splitter(X, y))
            plan = self._plan()
            study = self._study(space, plan, seed, len(objectives))
            estimator = self.estimator
            if resource not in ("partial_fit", "n_samples") and "warm_start" in estimator.get_params():
                estimator = clone(estimator).set_params(warm_start=True)
            driver = Driver(
                study=study, plan=plan, model_id=self._model_id, estimator=estimator, space=space, data=data,
                backend=backend, scorers=scorers, refit=refit_name, fit_params=fit_params, resource=resource,
                max_iter=max(b.max_resource for b in plan.values()), patience=self._patience(), tol=self.tol,
                score_every=self._score_every(), seed=seed, lazy=study.sampler.adaptive,
                checkpoint=self.storage is not None, error_score=self.error_score,
                model_seeds="random_state" in estimator.get_params() and estimator.get_params()["random_state"] is None,
                log_every=_log_every(self.verbose), prefix=f"[{self.prefix}] " if self.prefix else "",
                objectives=objectives,
            )
            try:
                with backend.native_threads(), _logging_to_stdout(bool(driver.log_every)):
                    driver.run()
            except KeyboardInterrupt:
                self._finalize(driver, study, scorers, refit_name, multimetric, raw, backend)
                raise
            self._finalize(driver, study, scorers, refit_name, multimetric, raw, backend)
        finally:
            backend.close()
        return self

    def _check_params(self) -> None:
        if self.max_iter is not None and (not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1):
            raise invalid("max_iter", self.max_iter, "an int >= 1: the most partial_fit calls a model gets")
        if self.tol is not None and not isinstance(self.tol, numbers.Real):
            raise invalid("tol", self.tol, "a number (the least improvement that counts) or None")
        splitter = hasattr(self.cv, "split") and hasattr(self.cv, "get_n_splits")
        if self.cv is not None and not splitter and (
                not isinstance(self.cv, numbers.Integral) or isinstance(self.cv, bool) or self.cv < 2):
            raise invalid("cv", self.cv, "None (a holdout test set), an int >= 2 (k folds) or a scikit-learn "
                                         "splitter such as KFold(5)")
        if self.cv is not None and self.test_size is not None:
            raise ValueError(f"give test_size (a holdout split) or cv (k folds), not both: got "
                             f"test_size={self.test_size!r}, cv={self.cv!r}")
        if self.test_size is not None and not (isinstance(self.test_size, numbers.Real) and 0 < self.test_size < 1):
            raise invalid("test_size", self.test_size, "a fraction in (0, 1), or None (min(0.2, 1 / blocks))")
        if self.resume and self.storage is None:
            raise ValueError("resume=True continues a search kept in storage: pass storage= (e.g. "
                             "'sqlite:///search.db') and the same study_name=")

    def _resource(self) -> str:
        resource = self.resource
        if not isinstance(resource, str):
            raise invalid("resource", resource, "'partial_fit', 'n_samples' or a parameter of the estimator")
        if resource in ("partial_fit", "n_samples"):
            return resource
        if resource not in self.estimator.get_params():
            raise invalid("resource", resource,
                          f"'partial_fit', 'n_samples' or a parameter of {type(self.estimator).__name__} "
                          "that counts iterations, such as 'max_iter' or 'n_estimators'")
        return resource

    def _n_folds(self) -> int:
        if self.cv is None:
            return 1
        return int(self.cv.get_n_splits()) if hasattr(self.cv, "get_n_splits") else int(self.cv)

    def _splitter(self, X: Any, y: Any) -> Any:
        """scikit-learn's folds for in-memory data (stratified for classifiers, as its searches do); None for
        Dask data, whose rows are dealt into folds block by block where they are."""
        if self.cv is None:
            return None
        if _data.is_dask(X):
            if hasattr(self.cv, "split"):
                raise TypeError("with Dask data give cv as an int (rows are dealt into folds block by block); "
                                f"got the splitter {self.cv!r}")
            return None
        from sklearn.model_selection import check_cv

        return check_cv(self.cv, y, classifier=is_classifier(self.estimator))

    def _test_size(self, n_blocks: int) -> float:
        if self.cv is not None:
            return 0.0
        if self.test_size is not None:
            return float(self.test_size)
        return min(0.2, 1 / max(1, n_blocks))

    def _score_every(self) -> int | None:
        """Calls between scores: every call when ``patience`` is on, so a plateau is seen as soon as it is
        ``patience`` calls long (scoring costs little next to a partial_fit); else only at the rungs."""
        return 1 if self._patience() else None

    def _study(self, space: ParamSpace, plan: dict[int, Bracket], seed: int, n_objectives: int = 0) -> Any:
        import hypersweep as hs
        from hypersweep.artifacts import Retention

        if self.storage is not None and self.study_name is None:
            raise ValueError("storage= needs study_name= too: the name under which the search is kept and resumed")
        several = {"directions": ["maximize"] * n_objectives} if n_objectives > 1 else {}
        return hs.create_study(
            space.space, direction="maximize", **several, sampler=self.sampler, scheduler=Brackets(plan),
            storage=self.storage, name=self.study_name, resume=bool(self.resume), seed=seed,
            retention=Retention(keep_last=1, delete_pruned=True),
        )

    # --- fitted attributes ----------------------------------------------------------------------------------
    def _finalize(self, driver: Driver, study: Any, scorers: dict, refit_name: str, multimetric: bool,
                  raw: Any, backend: Backend) -> None:
        models = [driver.models[n] for n in sorted(driver.models)]
        scored = [m for m in models if m.records]
        if not scored:
            return
        self.study_ = study
        self.history_ = sorted(driver.history, key=lambda r: (math.isnan(r["elapsed_wall_time"]),
                                                                r["elapsed_wall_time"]))
        self.model_history_ = {m.model_id: list(m.records) for m in scored}
        self.cv_results_ = self._cv_results(scored, driver, scorers, multimetric)
        finished = [m for m in scored if m.state == "done"] or [m for m in scored if m.state == "alive"] or scored
        if driver.objectives:
            front = _front(finished, driver.objectives)
            self.pareto_front_ = sorted(scored.index(m) for m in front)
            self.cv_results_["pareto_front"] = np.isin(np.arange(len(scored)), self.pareto_front_)
        if callable(self.refit):
            self.cv_results_["finished"] = np.isin(np.arange(len(scored)), [scored.index(m) for m in finished])
            self.best_index_ = _chosen(self.refit, self.cv_results_, len(scored))
            best = scored[self.best_index_]
            if best not in finished and self.refit is not False and driver.data.n_folds == 1:
                raise ValueError(
                    f"refit={getattr(self.refit, '__name__', self.refit)!r} chose model {best.model_id!r} (index "
                    f"{self.best_index_}), which was stopped early and not kept; choose one of the rows where "
                    "cv_results_['finished'] is True"
                )
        else:
            best = max(finished, key=lambda m: (m.score, -m.number))
            self.best_index_ = scored.index(best)
            self.best_score_ = float(best.score)
        self.best_params_ = best.params
        self.scorer_ = scorers[refit_name] if not multimetric else scorers
        self.n_splits_ = driver.data.n_folds
        self.multimetric_ = multimetric
        self.metadata_ = self._metadata_from(scored)
        if self.refit is False:
            return
        if driver.data.n_folds == 1:
            self.best_estimator_ = driver.fetch_model(best)[0]
        else:  # k fold models: refit the best parameters on all the data, for as many steps
            self.best_estimator_ = self._refit(driver, best, raw, backend)

    def _refit(self, driver: Driver, best: ModelRun, raw: list, backend: Backend) -> Any:
        model = backend.put(_tasks.create(driver.estimator, best.params, 1))
        if driver.resource == "partial_fit":
            blocks = [raw[driver._block(i)] for i in range(best.calls)]
        else:
            blocks = raw
        result = backend.submit(_tasks.advance, model, blocks, [], {}, driver.fit_params, driver.resource,
                                best.calls, driver.max_iter)
        return backend.fetch(result)[0][0]

    def _cv_results(self, scored: list[ModelRun], driver: Driver, scorers: dict, multimetric: bool) -> dict:
        def column(values: list, dtype: Any = None) -> np.ndarray:
            return np.asarray(values, dtype=dtype)

        fit_times = [[r["partial_fit_time"] for r in m.records] for m in scored]
        score_times = [[r["score_time"] for r in m.records] for m in scored]
        results: dict[str, Any] = {
            "mean_partial_fit_time": column([_nanmean(t) for t in fit_times], float),
            "std_partial_fit_time": column([_nanstd(t) for t in fit_times], float),
            "mean_score_time": column([_nanmean(t) for t in score_times], float),
            "std_score_time": column([_nanstd(t) for t in score_times], float),
            "test_score": column([m.score for m in scored], float),
            "model_id": _object_column([m.model_id for m in scored]),
            "params": _object_column([m.params for m in scored]),
            "partial_fit_calls": column([m.calls for m in scored], int),
            "bracket": column([m.bracket for m in scored], int),
        }
        if driver.data.n_folds > 1:
            for f in range(driver.data.n_folds):
                results[f"split{f}_test_score"] = column([m.records[-1].get(f"split{f}_score", math.nan)
                                                          for m in scored], float)
            splits = np.vstack([results[f"split{f}_test_score"] for f in range(driver.data.n_folds)])
            results["std_test_score"] = splits.std(axis=0)
        if multimetric:
            for name in scorers:
                values = column([m.records[-1].get(f"score_{name}", math.nan) for m in scored], float)
                results[f"test_{name}"] = values
                results[f"rank_test_{name}"] = rank(values)
        results.update(param_columns([m.params for m in scored]))
        results["rank_test_score"] = rank(results["test_score"])
        return results

    def _metadata_from(self, scored: list[ModelRun]) -> dict[str, Any]:
        brackets = []
        for s in sorted({m.bracket for m in scored}):
            members = [m for m in scored if m.bracket == s]
            brackets.append({
                "bracket": s, "n_models": len(members), "partial_fit_calls": sum(m.calls for m in members),
                "decisions": sorted({r["partial_fit_calls"] for m in members for r in m.records}),
            })
        return {"n_models": sum(b["n_models"] for b in brackets),
                "partial_fit_calls": sum(b["partial_fit_calls"] for b in brackets),
                "max_iter": max((m.calls for m in scored), default=0), "brackets": brackets}

    # --- after fitting: the best estimator --------------------------------------------------------------------
    def _best(self) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    def _post(self, method: str, X: Any) -> Any:
        estimator = self._best()
        if _data.is_dask(X):
            from hypersweep.sklearn.wrappers import ParallelPostFit

            wrapper = ParallelPostFit(estimator, predict_meta=self.predict_meta,
                                      predict_proba_meta=self.predict_proba_meta, transform_meta=self.transform_meta)
            wrapper.estimator_ = estimator
            return getattr(wrapper, method)(X)
        return getattr(estimator, method)(X)

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """The best estimator's predictions: NumPy in, NumPy out; a Dask collection in, a lazy one out."""
        return self._post("predict", X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """The best estimator's class probabilities, blockwise and lazy on Dask inputs."""
        return self._post("predict_proba", X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """The best estimator's log class probabilities, blockwise and lazy on Dask inputs."""
        return self._post("predict_log_proba", X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """The best estimator's decision function, blockwise and lazy on Dask inputs."""
        return self._post("decision_function", X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """The best estimator's transform, blockwise and lazy on Dask inputs."""
        return self._post("transform", X)

    def score(self, X: Any, y: Any = None) -> float:
        """The best estimator's score with the search's scorer (the ``refit`` one when multi-metric)."""
        estimator = self._best()
        if _data.is_dask(X):
            X, y = dask.compute(X, y)
        if self.multimetric_ and callable(self.refit):
            raise ValueError(
                "score() needs one metric, and this search has several objectives (refit is a callable); score "
                "best_estimator_ with the metric you want, e.g. search.scorer_['accuracy'](search.best_estimator_, "
                "X, y)"
            )
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        return float(scorer(estimator, X, y))

    @property
    def classes_(self) -> Any:
        """The best estimator's classes."""
        return self._best().classes_


class IncrementalSearchCV(BaseIncrementalSearchCV):
    """Train ``n_initial_parameters`` models with ``partial_fit`` until ``max_iter`` calls each, stopping
    those whose score plateaus (``patience`` calls without an improvement over ``tol``), as dask-ml's.

    Parameters beyond dask-ml's: ``sampler`` ("random", "tpe", "bo" or an engine sampler), ``cv`` (k folds
    inside the search instead of a holdout), ``refit`` (the metric that ranks models when ``scoring`` has
    several; or a callable ``cv_results_ -> index``, which with several metrics makes each an objective: the
    brackets keep each rung's Pareto front, ``pareto_front_`` / ``cv_results_["pareto_front"]`` mark the
    finished models no other beats on every metric, and the callable picks ``best_index_`` among the rows
    where ``cv_results_["finished"]`` is True), ``resource``
    ("partial_fit"; "n_samples" fits on growing subsamples; a parameter name such as "n_estimators" continues
    a warm-started estimator), ``storage``/``study_name``/``resume`` (keep the
    search in a database and continue it after a crash), ``error_score`` ("raise" or a score for failures).
    """

    def __init__(
        self, estimator: Any, parameters: Any, n_initial_parameters: Any = 10, decay_rate: Any = None,
        test_size: float | None = None, patience: Any = False, tol: float | None = 0.001, fits_per_score: int = 1,
        max_iter: int = 100, random_state: Any = None, scoring: Any = None, verbose: Any = False, prefix: str = "",
        predict_meta: Any = None, predict_proba_meta: Any = None, transform_meta: Any = None, *,
        sampler: Any = "sobol", cv: int | None = None, refit: Any = True, resource: str = "partial_fit",
        storage: Any = None, study_name: str | None = None, resume: bool = False, error_score: Any = "raise",
    ) -> None:
        self.estimator, self.parameters = estimator, parameters
        self.n_initial_parameters, self.decay_rate = n_initial_parameters, decay_rate
        self.test_size, self.patience, self.tol, self.fits_per_score = test_size, patience, tol, fits_per_score
        self.max_iter, self.random_state, self.scoring, self.verbose, self.prefix = (
            max_iter, random_state, scoring, verbose, prefix)
        self.predict_meta, self.predict_proba_meta, self.transform_meta = (
            predict_meta, predict_proba_meta, transform_meta)
        self.sampler, self.cv, self.refit, self.resource = sampler, cv, refit, resource
        self.storage, self.study_name, self.resume, self.error_score = storage, study_name, resume, error_score

    def _n_models(self) -> int:
        n = self.n_initial_parameters
        if n == "grid":
            return ParamSpace(self.parameters).space.grid_size()
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise invalid("n_initial_parameters", n, "an int >= 1 (models to start) or 'grid'")
        return int(n)

    def _plan(self) -> dict[int, Bracket]:
        if self.decay_rate not in (None, 0):
            warnings.warn("IncrementalSearchCV ignores decay_rate; use InverseDecaySearchCV(decay_rate=...) to "
                          "drop models as training goes on", FutureWarning, stacklevel=3)
        return {0: Bracket(rungs=(Rung(self.max_iter, self._n_models()),), reduction_factor=2)}

    def _score_every(self) -> int | None:
        every = self.fits_per_score
        if not isinstance(every, numbers.Integral) or every < 1:
            raise invalid("fits_per_score", every, "an int >= 1: partial_fit calls between two scores")
        patience = self._patience()
        return min(int(every), patience) if patience else int(every)


class InverseDecaySearchCV(IncrementalSearchCV):
    """`IncrementalSearchCV` that keeps fewer models as training goes on: after ``t`` calls the best
    ``n_initial_parameters / (1 + t) ** decay_rate`` (at least one) go on, as dask-ml's.

    >>> from sklearn.linear_model import SGDClassifier
    >>> InverseDecaySearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, n_initial_parameters=10,
    ...                      max_iter=10).metadata["brackets"][0]["decisions"]
    [1, 2, 3, 5, 10]
    """

    def __init__(
        self, estimator: Any, parameters: Any, n_initial_parameters: Any = 10, test_size: float | None = None,
        patience: Any = False, tol: float | None = 0.001, fits_per_score: int = 1, max_iter: int = 100,
        random_state: Any = None, scoring: Any = None, verbose: Any = False, prefix: str = "",
        decay_rate: float = 1.0, predict_meta: Any = None, predict_proba_meta: Any = None,
        transform_meta: Any = None, *, sampler: Any = "sobol", cv: int | None = None, refit: Any = True,
        resource: str = "partial_fit", storage: Any = None, study_name: str | None = None, resume: bool = False,
        error_score: Any = "raise",
    ) -> None:
        super().__init__(
            estimator, parameters, n_initial_parameters=n_initial_parameters, decay_rate=decay_rate,
            test_size=test_size, patience=patience, tol=tol, fits_per_score=fits_per_score, max_iter=max_iter,
            random_state=random_state, scoring=scoring, verbose=verbose, prefix=prefix, predict_meta=predict_meta,
            predict_proba_meta=predict_proba_meta, transform_meta=transform_meta, sampler=sampler, cv=cv,
            refit=refit, resource=resource, storage=storage, study_name=study_name, resume=resume,
            error_score=error_score,
        )

    def _plan(self) -> dict[int, Bracket]:
        rate = self.decay_rate
        if not isinstance(rate, numbers.Real) or rate < 0:
            raise invalid("decay_rate", rate, "a number >= 0: how fast models are dropped (0 keeps all)")
        n = self._n_models()
        rungs, count = [], n
        for t in range(1, self.max_iter):  # after t calls the best n / (1 + t) ** rate go on
            keep = max(1, int(n / (1 + t) ** rate))
            if keep < count:
                rungs.append(Rung(t, count))
                count = keep
        rungs.append(Rung(self.max_iter, count))
        return {0: Bracket(rungs=tuple(rungs), reduction_factor=2)}


class SuccessiveHalvingSearchCV(IncrementalSearchCV):
    """Successive halving, as dask-ml's: ``n_initial_parameters`` models get ``n_initial_iter`` calls, then
    the best 1/``aggressiveness`` get ``aggressiveness`` times more, until one model is left or ``max_iter``
    is reached.

    >>> from sklearn.linear_model import SGDClassifier
    >>> sha = SuccessiveHalvingSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, n_initial_parameters=10,
    ...                                 n_initial_iter=1)
    >>> sha.metadata["partial_fit_calls"], sha.metadata["brackets"][0]["decisions"]
    (22, [1, 3, 9])
    """

    def __init__(
        self, estimator: Any, parameters: Any, n_initial_parameters: Any = 10, n_initial_iter: int | None = None,
        max_iter: int | None = None, aggressiveness: int = 3, test_size: float | None = None, patience: Any = False,
        tol: float | None = 0.001, random_state: Any = None, scoring: Any = None, verbose: Any = False,
        prefix: str = "", predict_meta: Any = None, predict_proba_meta: Any = None, transform_meta: Any = None,
        *, sampler: Any = "sobol", cv: int | None = None, refit: Any = True, resource: str = "partial_fit",
        storage: Any = None, study_name: str | None = None, resume: bool = False, error_score: Any = "raise",
    ) -> None:
        super().__init__(
            estimator, parameters, n_initial_parameters=n_initial_parameters, test_size=test_size,
            patience=patience, tol=tol, max_iter=max_iter, random_state=random_state, scoring=scoring,
            verbose=verbose, prefix=prefix, predict_meta=predict_meta, predict_proba_meta=predict_proba_meta,
            transform_meta=transform_meta, sampler=sampler, cv=cv, refit=refit, resource=resource,
            storage=storage, study_name=study_name, resume=resume, error_score=error_score,
        )
        self.n_initial_iter, self.aggressiveness = n_initial_iter, aggressiveness

    def _plan(self) -> dict[int, Bracket]:
        first = 1 if self.n_initial_iter is None else self.n_initial_iter
        if not isinstance(first, numbers.Integral) or first < 1:
            raise invalid("n_initial_iter", self.n_initial_iter,
                          "an int >= 1: the partial_fit calls every model gets first")
        return {0: halving_bracket(self._n_models(), int(first), self.aggressiveness, self.max_iter)}

    def _patience(self) -> int:
        if isinstance(self.patience, bool) and self.patience:
            return max((self.max_iter or self._plan()[0].max_resource) // self.aggressiveness, 1)
        return super()._patience()

    def _score_every(self) -> int | None:
        return BaseIncrementalSearchCV._score_every(self)  # at the rungs (or every call), not fits_per_score

class HyperbandSearchCV(BaseIncrementalSearchCV):
    """Hyperband over ``partial_fit``, as dask-ml's: brackets of successive halving from many models with few
    calls to few models trained to ``max_iter`` calls, all run at once (a free worker never waits for a
    slow bracket); the same bracket arithmetic (``max_iter=81, aggressiveness=3``: 143 models, 1,581 calls).

    ``patience=True`` stops models whose score plateaus for ``max_iter // aggressiveness`` calls. With
    ``sampler="tpe"`` or ``"bo"`` the brackets start one after another (as workers free up) and each
    proposes its models from what the earlier ones found (BOHB-style). Other parameters beyond dask-ml's are
    those of `IncrementalSearchCV`.

    >>> from sklearn.linear_model import SGDClassifier
    >>> search = HyperbandSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, max_iter=81)
    >>> search.metadata["n_models"], search.metadata["partial_fit_calls"]
    (143, 1581)
    """

    def __init__(
        self, estimator: Any, parameters: Any, max_iter: int = 81, aggressiveness: int = 3,
        patience: Any = False, tol: float | None = 1e-3, test_size: float | None = None, random_state: Any = None,
        scoring: Any = None, verbose: Any = False, prefix: str = "", predict_meta: Any = None,
        predict_proba_meta: Any = None, transform_meta: Any = None, *, sampler: Any = "sobol",
        cv: int | None = None, refit: Any = True, resource: str = "partial_fit", storage: Any = None,
        study_name: str | None = None, resume: bool = False, error_score: Any = "raise",
    ) -> None:
        self.estimator, self.parameters, self.max_iter, self.aggressiveness = (
            estimator, parameters, max_iter, aggressiveness)
        self.patience, self.tol, self.test_size, self.random_state = patience, tol, test_size, random_state
        self.scoring, self.verbose, self.prefix = scoring, verbose, prefix
        self.predict_meta, self.predict_proba_meta, self.transform_meta = (
            predict_meta, predict_proba_meta, transform_meta)
        self.sampler, self.cv, self.refit, self.resource = sampler, cv, refit, resource
        self.storage, self.study_name, self.resume, self.error_score = storage, study_name, resume, error_score

    def _plan(self) -> dict[int, Bracket]:
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise invalid("max_iter", self.max_iter, "an int >= 1: the most partial_fit calls a model gets")
        return dict(paper_plan(self.max_iter, self.aggressiveness).brackets)

    def _model_id(self, bracket: int, index: int) -> Hashable:
        return f"bracket={bracket}-{index}"

    def _patience(self) -> int:
        if isinstance(self.patience, bool) and self.patience:
            return max(self.max_iter // self.aggressiveness, 1)
        return super()._patience()

    @property
    def metadata(self) -> dict[str, Any]:
        """The plan before fitting (dask-ml's shape): ``n_models``, ``partial_fit_calls`` and per bracket
        ``bracket``, ``n_models``, ``partial_fit_calls``, ``decisions``."""
        meta = super().metadata
        meta.pop("max_iter", None)
        return meta


# --- data ---------------------------------------------------------------------------------------------------
def _prepare(
    X: Any, y: Any, parts: list, backend: Backend, test_fraction: float, n_folds: int, seed: int,
    splitter: Any = None,
) -> tuple[Data, list]:
    """Split every block (``parts``, from `_data.blocks`) into train/test parts where the data lives; the
    test parts are joined into one test set per fold. Also the whole blocks (one fold each), for a refit on
    all the data. In-memory data with a scikit-learn ``splitter`` is split by it."""
    if splitter is not None:
        folds = list(splitter.split(X, y))
        train = [[backend.put((_data.take_rows(X, tr), _data.take_rows(y, tr))) for tr, _ in folds]]
        test = [backend.put((_data.take_rows(X, te), _data.take_rows(y, te))) for _, te in folds]
        return Data(train=train, test=test, n_folds=len(folds)), [backend.put([(X, y)])]
    rng = np.random.RandomState(seed)
    split = dask.delayed(_tasks.split_block, pure=True)
    splits = [backend.compute(split(Xb, yb, test_fraction, n_folds, int(rng.randint(2**31)))) for Xb, yb in parts]
    trains = [backend.item(s, 0) for s in splits]
    tests = [backend.item(s, 1) for s in splits]
    train = [[backend.item(t, f) for f in range(n_folds)] for t in trains]
    test = [backend.submit(_tasks.concat_rows, [backend.item(t, f) for t in tests]) for f in range(n_folds)]
    if n_folds == 1:
        raw = []  # no refit without folds
    else:
        whole = dask.delayed(_whole, pure=True)
        raw = [backend.compute(whole(Xb, yb)) for Xb, yb in parts]
    return Data(train=train, test=test, n_folds=n_folds), raw


def _front(models: list[ModelRun], objectives: list[str] | tuple[str, ...]) -> list[ModelRun]:
    """The models no other of ``models`` beats on every objective (scores: higher is better; NaN worst)."""
    from hypersweep.multi_objective import pareto_front_mask

    losses = [[-v if math.isfinite(v) else math.inf for v in m.values(objectives)] for m in models]
    return [m for m, keep in zip(models, pareto_front_mask(losses), strict=True) if keep]


def _chosen(refit: Any, cv_results: dict, n: int) -> int:
    """The index a callable ``refit`` picks from ``cv_results_``, checked."""
    index = refit(cv_results)
    if not isinstance(index, numbers.Integral) or isinstance(index, bool) or not 0 <= index < n:
        raise ValueError(
            f"refit={getattr(refit, '__name__', refit)!r} returned {index!r}; a callable refit must return the "
            f"index of a model in cv_results_ (an int in 0..{n - 1}), e.g. one of the rows where "
            "cv_results_['pareto_front'] is True"
        )
    return int(index)


def _whole(X: Any, y: Any) -> list[tuple[Any, Any]]:
    return [(X, y)]


def _log_every(verbose: Any) -> int:
    """``verbose``: False (quiet), True (a line per score) or an int n (a line every n scores), as dask-ml."""
    if isinstance(verbose, bool) or verbose is None:
        return 1 if verbose else 0
    if isinstance(verbose, numbers.Integral) and verbose >= 0:
        return int(verbose)
    raise invalid("verbose", verbose, "True, False or an int n (log every n scores)")


@contextlib.contextmanager
def _logging_to_stdout(on: bool) -> Any:
    """With ``verbose``, the search's log lines go to standard output while it fits."""
    if not on:
        yield
        return
    with attached(logging.getLogger("hypersweep.sklearn"), logging.StreamHandler(sys.stdout)):
        yield


def _classes(y: Any) -> np.ndarray:
    if y is None:
        raise ValueError("a classifier needs y to be searched")
    if _data.is_dask(y):
        import dask.array as da

        values = y.to_dask_array(lengths=True) if hasattr(y, "to_dask_array") else y
        return np.asarray(da.unique(values).compute())
    return np.unique(np.asarray(y))


def _seed(random_state: Any) -> int:
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**31 - 1)
    return int(check_random_state(random_state).randint(2**31 - 1))


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def _nanstd(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.std(finite)) if finite else math.nan


def _object_column(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out
