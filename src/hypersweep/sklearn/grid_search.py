"""`GridSearchCV` and `RandomizedSearchCV` on a Dask cluster: drop-ins for scikit-learn's that fit shared
pipeline steps once.

The candidates are scikit-learn's own (`~sklearn.model_selection.ParameterGrid` /
`~sklearn.model_selection.ParameterSampler`, same order), the folds come from
`~sklearn.model_selection.check_cv` (stratified for classifiers, ``groups`` passed to the splitter), and
``cv_results_``, ``best_*``, ``scorer_``, ``refit_time_``... are what scikit-learn's searches give, with the same
scores. What differs is how the fits run: the whole search is one Dask task graph in which each distinct
*(pipeline step prefix, the parameters of that prefix, fold)* is fitted once. Its task key is a hash of the
estimator, the data, the prefix's parameter values and the fold, so candidates that agree on the upstream steps
share those fits and the transformed data: a grid over a text pipeline's classifier fits the vectorizer once
per fold, not once per candidate and fold. Each step of the `~sklearn.pipeline.Pipeline` is a unit (a nested
pipeline or a `~sklearn.pipeline.FeatureUnion` is one step, fitted whole).

Where it runs (``scheduler=``): the active `distributed.Client` if there is one; else Dask's threaded
scheduler with ``n_jobs`` threads. ``scheduler`` may also be a Client, a scheduler address
(``"tcp://10.0.0.5:8786"``), ``"threads"`` or ``"sync"``. On a cluster the data is scattered once and each
worker fetches it once. Threads share the GIL: for steps written in Python (``CountVectorizer``...) use a
`distributed.LocalCluster` with processes.

Data: NumPy, pandas, SciPy sparse and lists (of documents, say) are used as they are. Dask arrays and
DataFrames are computed into memory first, so they must fit in this process's memory (the folds are row
subsets held on the workers); for data larger than memory use the incremental searches of
`hypersweep.sklearn`.

Every candidate is a trial of an engine `~hypersweep.study.Study` (in memory), ``search.study_``: the
candidate's parameters as its config, its mean test score (of the refit metric) as its value, the per-split
scores and times as metadata; a candidate with a failed fit is a FAILED trial. Parameter values the engine
cannot store as JSON (estimators, functions) are recorded as their position among that parameter's values.

Timings: a candidate's ``fit_time`` is the time of the fits it needed, shared upstream fits included (as if it
had fitted its whole pipeline), and its ``score_time`` includes the shared transforms of its test fold.

>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.random.default_rng(0).normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
>>> search = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, cv=3, scheduler="sync").fit(X, y)
>>> search.best_params_, search.cv_results_["rank_test_score"].tolist()
({'C': 1.0}, [2, 1])

**The joblib route.** scikit-learn's own searches can also run on a Dask cluster through joblib; each
(candidate, fold) fit is then one task, nothing is shared, and ``cv_results_`` is the same as without it::

    import joblib
    from distributed import Client
    from sklearn.model_selection import GridSearchCV as SkGridSearchCV

    client = Client()                                    # or Client("tcp://scheduler:8786")
    with joblib.parallel_backend("dask"):
        SkGridSearchCV(pipeline, grid, n_jobs=-1).fit(X, y)
"""

from __future__ import annotations

import difflib
import json
import numbers
import os
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from copy import deepcopy
from dataclasses import dataclass, field
from traceback import format_exc
from typing import Any

import numpy as np
from dask.base import tokenize
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier, is_regressor
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import indexable
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from hypersweep._json import is_jsonable, to_json_value
from hypersweep._validation import InvalidParameterError, check_int, invalid
from hypersweep.sklearn._data import is_dask, n_rows, take_rows
from hypersweep.sklearn._results import param_columns, rank

__all__ = ["GridSearchCV", "RandomizedSearchCV"]

_PASSTHROUGH = (None, "passthrough")


# --- candidates <-> engine configs ---------------------------------------------------------------------------
class _ParamCodes:
    """The candidates' parameters as engine configs, and the way back.

    Each parameter becomes a `~hypersweep.space.Categorical` over the distinct values the candidates use. Its
    choices are those values when they are all JSON-able (numbers, strings, None, tuples...); otherwise (an
    estimator, a function, values that would collide as JSON such as ``(1, 2)`` and ``[1, 2]``) they are the
    values' positions ``0, 1, ...``. A parameter some candidates lack (a list of grids) records None for "not
    set", or -1 when it is recorded by position or None is one of its values.

    >>> from sklearn.svm import SVC
    >>> codes = _ParamCodes([{"C": 1.0, "clf": SVC()}, {"C": 2.0, "clf": SVC(C=3)}, {"C": 2.0}])
    >>> codes.config(1), codes.config(2)
    ({'C': 2.0, 'clf': 1}, {'C': 2.0, 'clf': -1})
    >>> codes.params(codes.config(1))["clf"]
    SVC(C=3)
    """

    def __init__(self, candidates: Sequence[Mapping[str, Any]]) -> None:
        self.candidates = list(candidates)
        self.names = sorted({name for params in self.candidates for name in params})
        self.values: dict[str, list[Any]] = {name: [] for name in self.names}
        self.positions: list[dict[str, int]] = []
        seen: dict[str, dict[Any, int]] = {name: {} for name in self.names}
        missing = dict.fromkeys(self.names, False)
        for params in self.candidates:
            row = {}
            for name in self.names:
                if name not in params:
                    missing[name] = True
                    continue
                key = _value_key(params[name])
                if key not in seen[name]:
                    seen[name][key] = len(self.values[name])
                    self.values[name].append(params[name])
                row[name] = seen[name][key]
            self.positions.append(row)
        self.by_position: dict[str, bool] = {}
        self.choices: dict[str, Any] = {}
        for name in self.names:
            self.by_position[name], self.choices[name] = self._param(self.values[name], missing[name])
        self._tokens: dict[tuple[str, int], str] = {}

    @staticmethod
    def _param(values: list[Any], missing: bool) -> tuple[bool, Any]:
        from hypersweep.space import Categorical

        if all(is_jsonable(v) for v in values) and not (missing and any(v is None for v in values)):
            try:
                return False, Categorical(values + ([None] if missing else []))
            except (TypeError, ValueError):  # duplicates once written as JSON
                pass
        return True, Categorical(list(range(len(values))) + ([-1] if missing else []))

    def space(self) -> dict[str, Any]:
        """The engine search space: one Categorical per parameter (``{"candidate": ...}`` for an empty grid)."""
        if not self.names:
            from hypersweep.space import Categorical

            return {"candidate": Categorical(list(range(len(self.candidates))))}
        return dict(self.choices)

    def config(self, index: int) -> dict[str, Any]:
        """The engine config of candidate ``index``."""
        if not self.names:
            return {"candidate": index}
        row, out = self.positions[index], {}
        for name in self.names:
            pos = row.get(name)
            if self.by_position[name]:
                out[name] = -1 if pos is None else pos
            else:
                out[name] = None if pos is None else self.values[name][pos]
        return out

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The candidate's parameters (the very objects given) from an engine config, e.g. a stored trial's."""
        if not self.names:
            return dict(self.candidates[int(config["candidate"])])
        out = {}
        for name in self.names:
            recorded = config[name]
            if self.by_position[name]:
                if recorded != -1:
                    out[name] = self.values[name][int(recorded)]
                continue
            choices = self.choices[name]
            position = choices.index(recorded)
            if position < len(self.values[name]):  # the last choice is "not set" when some candidate lacks it
                out[name] = self.values[name][position]
        return out

    def token(self, name: str, position: int) -> str:
        """A deterministic hash of one parameter value (for task keys)."""
        key = (name, position)
        if key not in self._tokens:
            value = self.values[name][position]
            text = _value_key(value)
            self._tokens[key] = tokenize(name, text if text[0] == "json" else value)
        return self._tokens[key]

    def signature(self, index: int, names: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """``((name, position), ...)`` of candidate ``index`` over ``names`` it sets."""
        row = self.positions[index]
        return tuple((name, row[name]) for name in names if name in row)


def _value_key(value: Any) -> tuple:
    """What makes two parameter values the same value: type, JSON text and repr; identity for the rest."""
    try:
        text = json.dumps(to_json_value(value), sort_keys=True)
    except (TypeError, ValueError):
        return ("object", id(value))
    return ("json", type(value).__module__, type(value).__qualname__, text, repr(value))


# --- data, folds and the tasks ------------------------------------------------------------------------------
@dataclass(eq=False)
class _Data:
    """The search's data, as one object (scattered once to a cluster)."""

    X: Any
    y: Any
    fit_params: dict[str, Any]
    pairwise: bool
    token: str

    def __dask_tokenize__(self) -> str:
        return self.token


@dataclass(eq=False)
class _Fold:
    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any
    fit_params: dict[str, Any]


def _make_fold(data: _Data, train: np.ndarray, test: np.ndarray) -> _Fold:
    """One fold's train and test rows (and the fit parameters indexed by its train rows)."""
    X, n = data.X, n_rows(data.X)
    if data.pairwise:
        X_train, X_test = X[np.ix_(train, train)], X[np.ix_(test, train)]
    else:
        X_train, X_test = take_rows(X, train), take_rows(X, test)
    fit_params = {}
    for key, value in data.fit_params.items():
        per_row = not isinstance(value, str) and (hasattr(value, "__len__") or hasattr(value, "shape"))
        fit_params[key] = take_rows(value, train) if per_row and n_rows(value) == n else value
    return _Fold(X_train, take_rows(data.y, train), X_test, take_rows(data.y, test), fit_params)


@dataclass(eq=False)
class _Stage:
    """What a fitted pipeline prefix hands on: the transformed train / test (/ train-for-scoring) data."""

    X_fit: Any = None
    X_test: Any = None
    X_train: Any = None
    fitted: tuple = ()
    fit_time: float = 0.0
    score_time: float = 0.0
    fit_error: str | None = None
    test_error: str | None = None
    train_error: str | None = None


@dataclass(eq=False)
class _StepTask:
    """Fit step ``index`` of the pipeline configured by ``params`` (the parameters of steps up to it)."""

    name: str
    index: int
    params: dict[str, Any]
    error_score: Any
    train_scores: bool
    transform_test: bool


def _step_params(fit_params: Mapping[str, Any], name: str) -> dict[str, Any]:
    prefix = name + "__"
    return {k[len(prefix):]: v for k, v in fit_params.items() if k.startswith(prefix)}


def _configured_step(base: Pipeline, index: int, params: Mapping[str, Any]) -> Any:
    """Step ``index`` of ``clone(base).set_params(**params)``, unfitted, without cloning the other steps."""
    name, step = base.steps[index]
    prefix, own = name + "__", {}
    for key, value in params.items():
        if key == name:
            step = value
        elif key.startswith(prefix):
            own[key[len(prefix):]] = value
    if step is None or isinstance(step, str):
        return step
    step = clone(step)
    return step.set_params(**clone(own, safe=False)) if own else step


def _fit_step(task: _StepTask, base: Any, fold: _Fold, parent: _Stage | None) -> _Stage:
    """A Dask task: fit one pipeline step on its parent's output; transform the test (and train) rows."""
    if parent is None:
        parent = _Stage(X_fit=fold.X_train, X_test=fold.X_test, X_train=fold.X_train)
    if parent.fit_error is not None:
        return parent
    step = _configured_step(base, task.index, task.params)
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return _Stage(parent.X_fit, parent.X_test, parent.X_train, (*parent.fitted, step), parent.fit_time,
                      parent.score_time, None, parent.test_error, parent.train_error)
    start = time.time()
    try:
        params = _step_params(fold.fit_params, task.name)
        if hasattr(step, "fit_transform"):
            X_fit = step.fit_transform(parent.X_fit, fold.y_train, **params)
        else:
            X_fit = step.fit(parent.X_fit, fold.y_train, **params).transform(parent.X_fit)
    except Exception:
        if task.error_score == "raise":
            raise
        return _Stage(fit_time=parent.fit_time + time.time() - start, fit_error=format_exc())
    fit_time = parent.fit_time + time.time() - start
    stage = _Stage(X_fit=X_fit, fitted=(*parent.fitted, step), fit_time=fit_time, score_time=parent.score_time,
                   test_error=parent.test_error, train_error=parent.train_error)
    if task.transform_test:
        start = time.time()
        stage.X_test, stage.test_error = _transform(step, parent.X_test, parent.test_error, task.error_score)
        stage.score_time += time.time() - start
        if task.train_scores:
            stage.X_train, stage.train_error = _transform(step, parent.X_train, parent.train_error,
                                                          task.error_score)
    return stage


def _transform(step: Any, X: Any, error: str | None, error_score: Any) -> tuple[Any, str | None]:
    if error is not None:
        return None, error
    try:
        return step.transform(X), None
    except Exception:
        if error_score == "raise":
            raise
        return None, format_exc()


@dataclass(eq=False)
class _ScoreTask:
    """Fit the candidate's final step (``index``; None: the whole estimator) and score it."""

    index: int | None
    params: dict[str, Any]
    scorers: Any
    error_score: Any
    return_train_score: bool
    assemble: bool  # score the reassembled fitted pipeline on the raw rows (a scorer of the user's own)


def _fit_and_score_batch(tasks: list[_ScoreTask], base: Any, fold: _Fold, stage: _Stage | None) -> list[dict]:
    """A Dask task: the final fits of several candidates that share a fitted prefix and a fold."""
    return [_fit_and_score(task, base, fold, stage) for task in tasks]


def _fit_and_score(task: _ScoreTask, base: Any, fold: _Fold, stage: _Stage | None) -> dict[str, Any]:
    """One (candidate, fold) fit and its scores, as scikit-learn's ``_fit_and_score`` gives them."""
    if task.index is None or task.assemble:
        estimator = clone(base).set_params(**clone(task.params, safe=False))
        final = estimator if task.index is None else estimator.steps[task.index][1]
    else:
        estimator, final = base, _configured_step(base, task.index, task.params)
    stage = stage or _Stage(X_fit=fold.X_train, X_test=fold.X_test, X_train=fold.X_train)
    out: dict[str, Any] = {"fit_error": stage.fit_error, "warnings": []}
    start = time.time()
    if stage.fit_error is None:
        try:
            if task.index is None:
                params = fold.fit_params
            else:
                params = _step_params(fold.fit_params, estimator.steps[task.index][0])
            if fold.y_train is None and task.index is None:
                final.fit(stage.X_fit, **params)
            else:
                final.fit(stage.X_fit, fold.y_train, **params)
        except Exception:
            if task.error_score == "raise":
                raise
            out["fit_error"] = format_exc()
    out["fit_time"] = stage.fit_time + time.time() - start
    if out["fit_error"] is not None:
        out["score_time"] = 0.0
        out["test_scores"] = _error_scores(task.scorers, task.error_score)
        if task.return_train_score:
            out["train_scores"] = _error_scores(task.scorers, task.error_score)
        return out
    if task.assemble:
        steps = estimator.steps
        estimator.steps = [(name, fitted) for (name, _), fitted in zip(steps[:-1], stage.fitted, strict=True)]
        estimator.steps.append(steps[-1])
        scored, X_test, X_train = estimator, fold.X_test, fold.X_train
    else:
        scored, X_test, X_train = final, stage.X_test, stage.X_train
    start = time.time()
    out["test_scores"] = _score(task, scored, X_test, fold.y_test, stage.test_error, out["warnings"])
    out["score_time"] = stage.score_time + time.time() - start
    if task.return_train_score:
        out["train_scores"] = _score(task, scored, X_train, fold.y_train, stage.train_error, out["warnings"])
    return out


def _error_scores(scorers: Any, error_score: Any) -> Any:
    return dict.fromkeys(scorers, error_score) if isinstance(scorers, dict) else error_score


def _score(task: _ScoreTask, estimator: Any, X: Any, y: Any, error: str | None, notes: list[str]) -> Any:
    """The score(s) on one split; ``error_score`` (and a note for a warning) where scoring failed."""
    if error is not None:  # a shared transform of these rows failed
        notes.append(error)
        return _error_scores(task.scorers, task.error_score)
    named = task.scorers if isinstance(task.scorers, dict) else {None: task.scorers}
    scores = {}
    for name, scorer in named.items():
        try:
            value = scorer(estimator, X) if y is None else scorer(estimator, X, y)
        except Exception:
            if task.error_score == "raise":
                raise
            notes.append(format_exc())
            value = task.error_score
        if isinstance(value, dict):
            value = {k: _number(v, scorer) for k, v in value.items()}
        else:
            value = _number(value, name or scorer)
        scores[name] = value
    return scores if isinstance(task.scorers, dict) else scores[None]


def _number(value: Any, scorer: Any) -> Any:
    if hasattr(value, "item"):
        with suppress(ValueError):
            value = value.item()
    if not isinstance(value, numbers.Number):
        raise ValueError(f"scoring must return a number, got {value!r} ({type(value).__name__}) instead. "
                         f"(scorer={scorer!r})")
    return value


# --- the graph ----------------------------------------------------------------------------------------------
@dataclass
class _Graph:
    """The search's task graph: ``dsk``, and for each (candidate, fold) the key of its score task."""

    dsk: dict[str, Any]
    score_keys: dict[str, list[tuple[int, int]]]  # score task -> the (candidate, fold) pairs it evaluates
    step_keys: dict[str, list[str]] = field(default_factory=dict)  # step name -> its fit tasks

    def keys(self) -> list[str]:
        return list(self.score_keys)


def _targets(base: Any, names: Sequence[str]) -> dict[str, int]:
    """The pipeline step each parameter configures (-1: the pipeline itself, so every step)."""
    index = {name: i for i, (name, _) in enumerate(base.steps)}
    return {name: index.get(name.split("__", 1)[0], -1) for name in names}


def _build_graph(
    base: Any,
    codes: _ParamCodes,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    data: _Data,
    data_ref: Any,
    *,
    decompose: bool,
    scorers: Any,
    assemble: bool,
    error_score: Any,
    return_train_score: bool,
    cache_cv: bool,
    n_workers: int = 1,
) -> _Graph:
    """One graph for the whole search: each distinct (step prefix, its parameters, fold) is one fit task.

    The final fits that share a fitted prefix and a fold run in batches (one task each), so that the prefix's
    output moves between workers once per batch, not once per candidate: as many batches as keep every worker
    busy (``8 * n_workers`` tasks at least), never fewer than one per (prefix, fold).
    """
    base_token, data_token = tokenize(base), data.token
    settings = tokenize(base_token, data_token, error_score, return_train_score, assemble)
    dsk: dict[str, Any] = {}
    est_key = f"hs-estimator-{base_token}"
    dsk[est_key] = base
    if data_ref is None:  # a local scheduler: the data is a value of the graph
        data_ref = f"hs-data-{data_token}"
        dsk[data_ref] = data
    folds: list[Any] = []
    for f, (train, test) in enumerate(splits):
        task = (_make_fold, data_ref, train, test)
        if cache_cv:
            key = f"hs-fold-{tokenize(data_token, f, train, test)}"
            dsk[key] = task
            folds.append(key)
        else:
            folds.append(task)  # an inline task: each fit extracts its rows itself
    fold_tokens = [tokenize(f, train, test) for f, (train, test) in enumerate(splits)]
    n_prefix = len(base.steps) - 1 if decompose else 0
    targets = _targets(base, codes.names) if decompose else {}
    upto = [[n for n in codes.names if targets[n] <= i] for i in range(n_prefix)]
    graph = _Graph(dsk, {}, {base.steps[i][0]: [] for i in range(n_prefix)})
    made: dict[tuple, str] = {}
    score_token = tokenize(scorers)
    groups: dict[Any, list[tuple[int, int, _ScoreTask, tuple]]] = {}  # (parent, fold) -> final fits
    for c, params in enumerate(codes.candidates):
        parents: list[Any] = [None] * len(splits)
        for i in range(n_prefix):
            signature = codes.signature(c, upto[i])
            name = base.steps[i][0]
            step_params = {n: params[n] for n, _ in signature}
            values = tuple(codes.token(n, p) for n, p in signature)
            for f in range(len(splits)):
                key = made.get((i, signature, f))
                if key is None:
                    key = f"hs-fit-{name}-{tokenize(settings, i, values, fold_tokens[f])}"
                    made[(i, signature, f)] = key
                    spec = _StepTask(name, i, step_params, error_score, return_train_score, not assemble)
                    dsk[key] = (_fit_step, spec, est_key, folds[f], parents[f])
                    graph.step_keys[name].append(key)
                parents[f] = key
        values = tuple(codes.token(n, p) for n, p in codes.signature(c, codes.names))
        spec = _ScoreTask(len(base.steps) - 1 if decompose else None, dict(params), scorers, error_score,
                          return_train_score, assemble)
        for f in range(len(splits)):
            groups.setdefault((parents[f], f), []).append((c, f, spec, values))
    n_fits = len(codes.candidates) * len(splits)
    size = max(1, -(-n_fits // max(len(groups), 8 * n_workers)))
    for (parent, f), fits in groups.items():
        for start in range(0, len(fits), size):
            batch = fits[start:start + size]
            token = tokenize(settings, score_token, fold_tokens[f], [(c, values) for c, _, _, values in batch])
            key = f"hs-score-{token}"
            dsk[key] = (_fit_and_score_batch, [spec for _, _, spec, _ in batch], est_key, folds[f], parent)
            graph.score_keys[key] = [(c, f) for c, f, _, _ in batch]
    return graph


# --- where it runs ------------------------------------------------------------------------------------------
_SCHEDULER_EXPECTED = "None, a distributed.Client, a scheduler address such as 'tcp://host:8786', 'threads' or 'sync'"


def _active_client() -> Any:
    if "distributed" not in sys.modules:  # nothing imported distributed: no client can be running
        return None
    from distributed import Client

    try:
        client = Client.current(allow_global=True)  # a `with client.as_current():` block, else the default
    except ValueError:
        return None
    return client if getattr(client, "status", "running") in ("running", "connecting", "newly-created") else None


def _n_threads(n_jobs: Any) -> int:
    if n_jobs is None:
        return 1
    cpus = os.cpu_count() or 1
    return max(1, cpus + 1 + n_jobs) if n_jobs < 0 else int(n_jobs)


class _Runner:
    """Runs a graph on a distributed Client or on a local Dask scheduler; scatters the data."""

    def __init__(self, scheduler: Any, n_jobs: Any) -> None:
        self.client, self.owned, self.local = None, False, None
        if scheduler is None:
            self.client = _active_client()
            if self.client is None:
                self.local = "threads"
        elif isinstance(scheduler, str):
            word = scheduler.strip().lower()
            if word in ("threads", "threading", "threaded"):
                self.local = "threads"
            elif word in ("sync", "synchronous", "single-threaded"):
                self.local = "sync"
            elif "://" in word or re.fullmatch(r"[\w.\-]+:\d+", word):
                from distributed import Client

                self.client, self.owned = Client(scheduler), True
            else:
                raise invalid("scheduler", scheduler, _SCHEDULER_EXPECTED,
                              "leave it None to use the active Client (or threads without one)")
        elif hasattr(scheduler, "scatter") and hasattr(scheduler, "get") and hasattr(scheduler, "submit"):
            self.client = scheduler
        else:
            raise invalid("scheduler", scheduler, _SCHEDULER_EXPECTED, "e.g. scheduler=Client(cluster)")
        self.n_threads = _n_threads(n_jobs)

    def compute(self, *objs: Any) -> tuple:
        """Dask collections among ``objs`` (and in dicts among them) computed into memory."""
        import dask

        if not any(is_dask(o) or (isinstance(o, dict) and any(map(is_dask, o.values()))) for o in objs):
            return objs
        scheduler = self.client if self.client is not None else ("sync" if self.local == "sync" else "threads")
        return dask.compute(*objs, scheduler=scheduler)

    def scatter(self, data: _Data) -> Any:
        """The data scattered to the cluster once (its Future); None for a local scheduler."""
        if self.client is None:
            return None
        return self.client.scatter(data, hash=True)

    def run(self, dsk: dict[str, Any], keys: list[str], on_result: Any) -> None:
        """Compute ``keys``; ``on_result(key, value)`` for each as it finishes (a failure is raised)."""
        if self.client is None:
            import dask.local
            import dask.threaded

            if self.local == "sync":
                values = dask.local.get_sync(dsk, keys)
            else:
                values = dask.threaded.get(dsk, keys, num_workers=self.n_threads)
            for key, value in zip(keys, values, strict=True):
                on_result(key, value)
            return
        from distributed import as_completed

        futures = self.client.get(dsk, keys, sync=False)
        try:
            for future in as_completed(futures, loop=self.client.loop):
                on_result(future.key, future.result())
        finally:
            self.client.cancel(futures)

    def n_workers(self) -> int:
        """How many tasks run at once."""
        if self.client is not None:
            with suppress(Exception):
                return max(1, sum(self.client.nthreads().values()))
            return 1
        return 1 if self.local == "sync" else self.n_threads

    def close(self) -> None:
        if self.owned and self.client is not None:
            self.client.close()


# --- argument checks ----------------------------------------------------------------------------------------
def _check_scoring(estimator: Any, scoring: Any, refit: Any) -> tuple[Any, bool, str]:
    """``(scorers, multimetric, refit_metric)``: a scorer (or the user's callable), or a dict name -> scorer."""
    from sklearn.metrics import check_scoring, get_scorer, get_scorer_names

    expected = ("None, a scorer name (sklearn.metrics.get_scorer_names()), a callable, or a list / tuple / set "
                "of names or a dict of name -> name or callable")

    def named(value: Any, where: str) -> Any:
        if callable(value):
            return value
        if isinstance(value, str):
            try:
                return get_scorer(value)
            except (ValueError, KeyError):
                close = difflib.get_close_matches(value, get_scorer_names(), n=3)
                hint = f"did you mean {' or '.join(map(repr, close))}?" if close else "see get_scorer_names()"
                raise invalid(where, value, "a scorer name", hint) from None
        raise invalid(where, value, "a scorer name or a callable", "e.g. 'accuracy' or make_scorer(f1_score)")

    if scoring is None or isinstance(scoring, str):
        if isinstance(scoring, str):
            named(scoring, "scoring")
        try:
            return check_scoring(estimator, scoring), False, "score"
        except TypeError as exc:
            raise invalid("scoring", scoring, expected, f"{exc}") from None
    if callable(scoring):
        return scoring, False, "score"
    if isinstance(scoring, (list, tuple, set, frozenset)):
        names = list(scoring)
        if not names or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise invalid("scoring", scoring, "a non-empty list of distinct scorer names",
                          "e.g. scoring=['accuracy', 'f1_macro'], or a dict of name -> scorer")
        scorers = {n: named(n, "scoring") for n in names}
    elif isinstance(scoring, Mapping):
        if not scoring or not all(isinstance(n, str) for n in scoring):
            raise invalid("scoring", scoring, "a non-empty dict of str name -> scorer name or callable",
                          "e.g. scoring={'acc': 'accuracy'}")
        scorers = {n: named(s, f"scoring[{n!r}]") for n, s in scoring.items()}
    else:
        raise invalid("scoring", scoring, expected, "e.g. scoring='accuracy'")
    _check_multimetric_refit(refit, scorers)
    return scorers, True, refit


def _check_multimetric_refit(refit: Any, names: Iterable[str]) -> None:
    names = list(names)
    if refit is False or callable(refit) or (isinstance(refit, str) and refit in names):
        return
    raise invalid("refit", refit, f"False, a callable, or one of the metric names {names} when scoring has "
                  "several metrics", f"e.g. refit={names[0]!r} to pick and refit the best by that metric")


def _check_grid(spec: Any, name: str, distributions: bool) -> None:
    """Clear errors for a malformed ``param_grid`` / ``param_distributions``."""
    shape = "a dict of parameter name -> list of values" + (" or scipy.stats distribution" if distributions else "")
    grids = [spec] if isinstance(spec, Mapping) else spec
    if isinstance(spec, (str, bytes)) or not isinstance(grids, Sequence) or not grids:
        raise invalid(name, spec, f"{shape}, or a non-empty list of such dicts", "e.g. {'C': [0.1, 1.0, 10.0]}")
    for b, grid in enumerate(grids):
        where = name if isinstance(spec, Mapping) else f"{name}[{b}]"
        if not isinstance(grid, Mapping):
            raise invalid(where, grid, shape, "e.g. {'C': [0.1, 1.0, 10.0]}")
        for key, values in grid.items():
            if not isinstance(key, str):
                raise invalid(f"{where} key", key, "a parameter name (str)", "e.g. 'clf__alpha'")
            if distributions and hasattr(values, "rvs"):
                continue
            if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
                raise invalid(f"{where}[{key!r}]", values, "a list of values" + (
                    " or a scipy.stats distribution" if distributions else ""),
                    f"wrap a single value in a list: {key!r}: [{values!r}]")
            if isinstance(values, np.ndarray) and values.ndim > 1:
                raise invalid(f"{where}[{key!r}]", values, "a one-dimensional list of values",
                              "give a list of the values, e.g. list(array)")
            if len(values) == 0:
                raise invalid(f"{where}[{key!r}]", values, "a non-empty list of values", "give at least one value")


def _check_candidate(base: Any, params: Mapping[str, Any], where: str) -> Any:
    """``base`` configured as the candidate (a clear error naming a parameter the estimator does not have)."""
    try:
        return clone(base).set_params(**params)
    except (ValueError, TypeError, AttributeError) as exc:
        estimator = clone(base)
        with suppress(Exception):  # step replacements first, so that their own parameters count
            estimator.set_params(**{k: v for k, v in params.items() if "__" not in k})
        known = estimator.get_params(deep=True)
        for key in params:
            if key not in known:
                options = difflib.get_close_matches(key, list(known), n=3)
                hint = f"did you mean {' or '.join(map(repr, options))}?" if options else (
                    f"the estimator's parameters are {sorted(known)[:12]}{'...' if len(known) > 12 else ''} "
                    "(estimator.get_params().keys())")
                raise InvalidParameterError(
                    f"{where} names the parameter {key!r}, which {type(base).__name__} does not have; {hint}"
                ) from None
        raise InvalidParameterError(f"{where}: set_params({params!r}) failed: {exc}") from exc


def _pairwise(estimator: Any) -> bool:
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).input_tags.pairwise)
    except ImportError:  # scikit-learn < 1.6
        return bool(getattr(estimator, "_get_tags", dict)().get("pairwise", False))


def _is_sklearn_scorer(scorer: Any) -> bool:
    """scikit-learn's scorer objects call only predict / predict_proba / decision_function / score, which a
    pipeline's final step answers the same on transformed rows; a callable of the user's own may not."""
    return type(scorer).__module__.startswith("sklearn.metrics")


def _search_estimator_has(attr: str) -> Any:
    def check(self: Any) -> bool:
        _check_refit(self, attr)
        getattr(self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator, attr)
        return True

    return check


def _check_refit(search: Any, attr: str) -> None:
    if not search.refit:
        raise AttributeError(
            f"This {type(search).__name__} was made with refit=False: {attr} is available only after refitting "
            "on the best parameters; pass refit=True (or a metric name), or fit an estimator on best_params_ yourself"
        )


# --- the searches -------------------------------------------------------------------------------------------
class _DaskSearchCV(MetaEstimatorMixin, BaseEstimator):
    """What GridSearchCV and RandomizedSearchCV share: the graph, its run, ``cv_results_`` and refit."""

    _space_name = "param_grid"
    _distributions = False

    def _candidates(self) -> list[dict[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    # scikit-learn's estimator type and tags follow the searched estimator's
    @property
    def _estimator_type(self) -> str | None:
        if is_classifier(self.estimator):
            return "classifier"
        if is_regressor(self.estimator):
            return "regressor"
        return getattr(self.estimator, "_estimator_type", None)

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        sub = get_tags(self.estimator)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = deepcopy(sub.classifier_tags)
        tags.regressor_tags = deepcopy(sub.regressor_tags)
        tags.input_tags.pairwise = sub.input_tags.pairwise
        tags.input_tags.sparse = sub.input_tags.sparse
        return tags

    def _check_arguments(self) -> None:
        if not (hasattr(self.estimator, "fit") and hasattr(self.estimator, "get_params")):
            raise invalid("estimator", self.estimator, "a scikit-learn estimator (with fit and get_params)",
                          "e.g. LogisticRegression() or a Pipeline")
        if not (self.error_score == "raise" or (isinstance(self.error_score, numbers.Real)
                                                and not isinstance(self.error_score, bool))):
            raise invalid("error_score", self.error_score, "'raise' or a number",
                          "e.g. error_score=np.nan to score failed fits NaN and warn")
        if not (isinstance(self.refit, (bool, str)) or callable(self.refit)):
            raise invalid("refit", self.refit, "a bool, a metric name or a callable", "e.g. refit=True")
        for name in ("return_train_score", "cache_cv"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise invalid(name, getattr(self, name), "a bool", f"{name}=True or {name}=False")
        if self.n_jobs is not None and (isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, numbers.Integral)
                                        or self.n_jobs == 0):
            raise invalid("n_jobs", self.n_jobs, "a non-zero int or None", "n_jobs=-1 uses every core")

    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> _DaskSearchCV:
        """Evaluate every candidate on every fold (on the cluster), then refit the best on all of ``X``.

        ``groups`` goes to the splitter; ``fit_params`` to the estimator's ``fit`` (``"<step>__<name>"`` for a
        Pipeline), those with one value per sample split by the folds.
        """
        import hypersweep as hs

        self._check_arguments()
        scorers, multimetric, refit_metric = _check_scoring(self.estimator, self.scoring, self.refit)
        _check_grid(getattr(self, self._space_name), self._space_name, self._distributions)
        candidates = [dict(c) for c in self._candidates()]
        base = clone(self.estimator)
        configured = [_check_candidate(base, c, f"{self._space_name} (candidate {i})")
                      for i, c in enumerate(candidates)]
        runner = _Runner(self.scheduler, self.n_jobs)
        try:
            X, y, groups, fit_params = runner.compute(X, y, groups, fit_params)
            X, y = indexable(X, y)
            fit_params = dict(fit_params)
            self._check_fit_params(base, fit_params)
            cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
            self.n_splits_ = cv.get_n_splits(X, y, groups)
            splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
            if len(splits) != self.n_splits_:
                raise ValueError(f"cv.split and cv.get_n_splits return inconsistent results: expected "
                                 f"{self.n_splits_} splits, got {len(splits)}")
            decompose = (
                isinstance(base, Pipeline) and len(base.steps) > 1
                and getattr(base, "transform_input", None) is None
                and not any("steps" in c for c in candidates)
                and all(not (p.steps[-1][1] is None or isinstance(p.steps[-1][1], str)) for p in configured)
            )
            named = scorers.values() if isinstance(scorers, dict) else [scorers]
            assemble = decompose and not all(_is_sklearn_scorer(s) for s in named)
            codes = _ParamCodes(candidates)
            data = _Data(X, y, fit_params, _pairwise(base), tokenize(X, y, fit_params))
            self.study_ = hs.create_study(codes.space(), direction="maximize", sampler="random")
            self._codes = codes
            graph = _build_graph(
                base, codes, splits, data, runner.scatter(data), decompose=decompose, scorers=scorers,
                assemble=assemble, error_score=self.error_score, return_train_score=self.return_train_score,
                cache_cv=self.cache_cv, n_workers=runner.n_workers(),
            )
            outs = self._evaluate(runner, graph, codes, multimetric, refit_metric)
        finally:
            runner.close()
        self.step_fits_ = {name: len(keys) for name, keys in graph.step_keys.items()}
        self._report_failures(outs, self.error_score)
        if callable(self.scoring):
            first = next((o["test_scores"] for o in outs if o["fit_error"] is None), outs[0]["test_scores"])
            multimetric = isinstance(first, dict)
            if multimetric:
                _check_multimetric_refit(self.refit, first)
                refit_metric = self.refit
                _insert_error_scores(outs, self.error_score)
        self.multimetric_ = multimetric
        results = _format_results(candidates, self.n_splits_, outs, self.return_train_score)
        if self.refit or not multimetric:
            self.best_index_ = _best_index(self.refit, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(base).set_params(**clone(self.best_params_, safe=False))
            start = time.time()
            if y is None:
                self.best_estimator_.fit(X, **fit_params)
            else:
                self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.time() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = scorers
        self.cv_results_ = results
        return self

    def _check_fit_params(self, base: Any, fit_params: dict[str, Any]) -> None:
        if not isinstance(base, Pipeline):
            return
        names = [name for name, _ in base.steps]
        for key in fit_params:
            step = key.split("__", 1)[0]
            if "__" not in key or step not in names:
                raise InvalidParameterError(
                    f"fit parameter {key!r} does not name a step of the Pipeline: name it '<step>__<parameter>' "
                    f"with a step among {names}, e.g. {names[-1] + '__sample_weight'!r}"
                )

    def _evaluate(self, runner: _Runner, graph: _Graph, codes: _ParamCodes, multimetric: bool,
                  refit_metric: Any) -> list[dict[str, Any]]:
        """Run the graph, recording each candidate as a trial of ``study_`` once its folds are in."""
        n_candidates, n_splits = len(codes.candidates), self.n_splits_
        handles = [self.study_.start_trial(codes.config(c), system_attrs={"candidate": c})
                   for c in range(n_candidates)]
        found: list[list[Any]] = [[None] * n_splits for _ in range(n_candidates)]
        left = [n_splits] * n_candidates
        metric = refit_metric if isinstance(refit_metric, str) else None

        def on_result(key: str, outs: list[dict[str, Any]]) -> None:
            for (c, f), out in zip(graph.score_keys[key], outs, strict=True):
                if found[c][f] is None:
                    left[c] -= 1
                found[c][f] = out
                if left[c] == 0:
                    self._tell(handles[c], c, found[c], metric)

        try:
            runner.run(graph.dsk, graph.keys(), on_result)
        except BaseException as exc:
            for c, handle in enumerate(handles):
                if left[c] > 0:
                    self.study_.tell(handle, state="failed", fail_reason=f"search stopped: {type(exc).__name__}")
            raise
        notes = [note for row in found for out in row for note in out["warnings"]]
        for note in dict.fromkeys(notes):
            warnings.warn(f"Scoring failed. The score on this train-test partition for these parameters will be "
                          f"set to {self.error_score}. Details: \n{note}", UserWarning, stacklevel=3)
        return [out for row in found for out in row]

    def _tell(self, handle: Any, c: int, outs: list[dict[str, Any]], metric: str | None) -> None:
        tests = [o["test_scores"] for o in outs]
        first = next((t for t in tests if isinstance(t, dict)), None)
        if first is not None:
            names = list(first)
            by_name = {n: [float(t[n]) if isinstance(t, dict) else float(t) for t in tests] for n in names}
            value_name = metric if metric in by_name else names[0]
        else:
            by_name = {"score": [float(t) for t in tests]}
            value_name = "score"
        metadata: dict[str, Any] = {"candidate": c}
        for n, scores in by_name.items():
            metadata[f"mean_test_{n}"] = float(np.mean(scores))
            metadata[f"split_test_{n}"] = scores
        metadata["mean_fit_time"] = float(np.mean([o["fit_time"] for o in outs]))
        metadata["mean_score_time"] = float(np.mean([o["score_time"] for o in outs]))
        errors = [o["fit_error"] for o in outs if o["fit_error"] is not None]
        if errors:
            last = errors[0].strip().splitlines()[-1]
            self.study_.tell(handle, state="failed", metadata=metadata,
                             fail_reason=f"{len(errors)} of {len(outs)} fits failed: {last}")
        else:
            self.study_.tell(handle, metadata[f"mean_test_{value_name}"], metadata=metadata)

    @staticmethod
    def _report_failures(outs: list[dict[str, Any]], error_score: Any) -> None:
        errors = [o["fit_error"] for o in outs if o["fit_error"] is not None]
        if not errors:
            return
        summary = "\n".join(f"{'-' * 80}\n{n} fits failed with the following error:\n{e}"
                            for e, n in Counter(errors).items())
        if len(errors) == len(outs):
            raise ValueError(f"\nAll the {len(outs)} fits failed.\nIt is very likely that your model is "
                             "misconfigured.\nYou can try to debug the error by setting error_score='raise'.\n\n"
                             f"Below are more details about the failures:\n{summary}")
        warnings.warn(f"\n{len(errors)} fits failed out of a total of {len(outs)}.\nThe score on these "
                      f"train-test partitions for these parameters will be set to {error_score}.\nIf these "
                      "failures are not expected, you can try to debug them by setting error_score='raise'.\n\n"
                      f"Below are more details about the failures:\n{summary}", FitFailedWarning, stacklevel=3)

    # --- the fitted search, as scikit-learn's ---
    def score(self, X: Any, y: Any = None) -> float:
        """The refit estimator's score on ``X``: by ``scoring`` (its refit metric), else its own ``score``."""
        _check_refit(self, "score")
        check_is_fitted(self)
        if isinstance(self.scorer_, dict):
            return self.scorer_[self.refit](self.best_estimator_, X, y)
        score = self.scorer_(self.best_estimator_, X, y)
        return score[self.refit] if self.multimetric_ else score

    @available_if(_search_estimator_has("score_samples"))
    def score_samples(self, X: Any) -> Any:
        """``best_estimator_.score_samples(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.score_samples(X)

    @available_if(_search_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_search_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_proba(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_search_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_log_proba(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_search_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """``best_estimator_.decision_function(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @available_if(_search_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    @available_if(_search_estimator_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        """``best_estimator_.inverse_transform(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.inverse_transform(X)

    @property
    def n_features_in_(self) -> int:
        """Number of features the refit estimator saw (only with ``refit``)."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(f"{type(self).__name__} object has no n_features_in_ attribute.") from exc
        return self.best_estimator_.n_features_in_

    @property
    def classes_(self) -> Any:
        """Class labels of the refit classifier (only with ``refit``)."""
        _search_estimator_has("classes_")(self)
        return self.best_estimator_.classes_

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "cv_results_")


def _insert_error_scores(outs: list[dict[str, Any]], error_score: Any) -> None:
    """Failed fits of a callable multi-metric scoring get one error score per metric (known only now)."""
    first = next((o["test_scores"] for o in outs if o["fit_error"] is None), None)
    if not isinstance(first, dict):
        return
    for out in outs:
        if out["fit_error"] is not None:
            out["test_scores"] = dict.fromkeys(first, error_score)
            if "train_scores" in out:
                out["train_scores"] = dict.fromkeys(first, error_score)


def _best_index(refit: Any, refit_metric: Any, results: dict[str, Any]) -> int:
    if callable(refit):
        best = refit(results)
        if not isinstance(best, numbers.Integral):
            raise TypeError(f"refit returned {best!r}: a callable refit must return the int index of the best "
                            "candidate in cv_results_")
        if best < 0 or best >= len(results["params"]):
            raise IndexError(f"refit returned {best}, outside the {len(results['params'])} candidates")
        return int(best)
    return int(results[f"rank_test_{refit_metric}"].argmin())


def _format_results(candidates: list[dict[str, Any]], n_splits: int, outs: list[dict[str, Any]],
                    return_train_score: bool) -> dict[str, Any]:
    """``cv_results_`` with scikit-learn's keys, order, values and warnings."""
    n = len(candidates)
    results: dict[str, Any] = {}

    def store(key: str, values: list[Any], splits: bool = False, ranked: bool = False) -> None:
        array = np.array(values, dtype=np.float64).reshape(n, n_splits)
        if splits:
            for i in range(n_splits):
                results[f"split{i}_{key}"] = array[:, i]
        means = np.average(array, axis=1)
        results[f"mean_{key}"] = means
        if key.startswith(("train_", "test_")) and np.any(~np.isfinite(means)):
            warnings.warn(f"One or more of the {key.split('_')[0]} scores are non-finite: {means}", UserWarning,
                          stacklevel=4)
        results[f"std_{key}"] = np.sqrt(np.average((array - means[:, np.newaxis]) ** 2, axis=1))
        if ranked:
            results[f"rank_{key}"] = rank(means)

    store("fit_time", [o["fit_time"] for o in outs])
    store("score_time", [o["score_time"] for o in outs])
    columns = param_columns(candidates)
    order = dict.fromkeys(f"param_{name}" for params in candidates for name in params)  # first use, as sklearn
    results.update((key, columns[key]) for key in order)
    results["params"] = candidates
    tests = _by_metric([o["test_scores"] for o in outs])
    trains = _by_metric([o["train_scores"] for o in outs]) if return_train_score else {}
    for name, scores in tests.items():
        store(f"test_{name}", scores, splits=True, ranked=True)
        if return_train_score:
            store(f"train_{name}", trains[name], splits=True)
    return results


def _by_metric(scores: list[Any]) -> dict[str, list[Any]]:
    if isinstance(scores[0], dict):
        return {name: [s[name] for s in scores] for name in scores[0]}
    return {"score": scores}


class GridSearchCV(_DaskSearchCV):
    """Exhaustive search over ``param_grid`` (scikit-learn's ``GridSearchCV``), on Dask, sharing the fits of
    upstream pipeline steps between candidates.

    ``scheduler``: None (the active distributed Client, else ``n_jobs`` threads), a Client, an address,
    "threads" or "sync"; ``n_jobs`` only sizes the local thread pool (a cluster uses all its workers).
    ``cache_cv``: keep each fold's rows on the cluster once (True) or extract them in every
    task (False, less memory). ``error_score``: "raise", or the score failed fits get (with a FitFailedWarning).
    After ``fit``: ``cv_results_``, ``best_estimator_``, ``best_params_``, ``best_score_``, ``best_index_``,
    ``scorer_``, ``n_splits_``, ``multimetric_``, ``refit_time_``, ``study_`` (the engine's record) and
    ``step_fits_`` (``{pipeline step: fits it took}``, one per distinct prefix and fold, shared by candidates).

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), SVC())
    >>> search = GridSearchCV(pipe, {"svc__C": [0.1, 1.0, 10.0]}, cv=3, scheduler="sync").fit(X, y)
    >>> search.best_params_, len(search.study_.trials), search.step_fits_  # the scaler: once per fold
    ({'svc__C': 10.0}, 3, {'standardscaler': 3})
    """

    _space_name = "param_grid"

    def __init__(
        self,
        estimator: Any,
        param_grid: Any,
        *,
        scoring: Any = None,
        refit: Any = True,
        cv: Any = None,
        error_score: Any = "raise",
        return_train_score: bool = False,
        n_jobs: int | None = -1,
        cache_cv: bool = True,
        scheduler: Any = None,
    ) -> None:
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.n_jobs = n_jobs
        self.cache_cv = cache_cv
        self.scheduler = scheduler

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterGrid(self.param_grid))


class RandomizedSearchCV(_DaskSearchCV):
    """``n_iter`` candidates drawn from ``param_distributions`` (lists, or scipy.stats distributions), the
    same ones scikit-learn's ``RandomizedSearchCV`` draws for ``random_state``; otherwise as `GridSearchCV`.

    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomizedSearchCV(LogisticRegression(max_iter=500), {"C": loguniform(1e-2, 1e2)}, n_iter=3,
    ...                             random_state=0, cv=3, scheduler="sync").fit(X, y)
    >>> len(search.cv_results_["params"]), bool(search.best_score_ > 0.9)
    (3, True)
    """

    _space_name = "param_distributions"
    _distributions = True

    def __init__(
        self,
        estimator: Any,
        param_distributions: Any,
        *,
        n_iter: int = 10,
        random_state: Any = None,
        scoring: Any = None,
        refit: Any = True,
        cv: Any = None,
        error_score: Any = "raise",
        return_train_score: bool = False,
        n_jobs: int | None = -1,
        cache_cv: bool = True,
        scheduler: Any = None,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.n_jobs = n_jobs
        self.cache_cv = cache_cv
        self.scheduler = scheduler

    def _candidates(self) -> list[dict[str, Any]]:
        check_int("n_iter", self.n_iter, minimum=1, fix="draw at least one candidate, e.g. n_iter=10")
        return list(ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state))
