"""Helper processes for searches on threads of this process (GIL-bound estimators): the pool itself, the
choice of mode, and a search that uses them giving the same results as one that does not."""

from __future__ import annotations

import os
import time
import warnings

import dask.array as da
import numpy as np
import psutil
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import get_scorer
from sklearn.neural_network import MLPClassifier

from hypersweep.sklearn import HyperbandSearchCV, _driver, _helpers, _tasks

pytestmark = pytest.mark.skipif(not _helpers.helpers_allowed(), reason="helper processes need fork (POSIX)")


@pytest.fixture(scope="module")
def blocks():
    X, y = make_classification(n_samples=600, n_features=6, random_state=0)
    return [(X[:200], y[:200]), (X[200:400], y[200:400])], (X[400:], y[400:])


def _wait_ready(pool):
    deadline = time.monotonic() + 60
    while not pool.ready and pool.broken is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.ready, pool.broken


def _warns(x):
    warnings.warn(f"careful with {x}", UserWarning, stacklevel=1)
    return x + 1


def _fails(x):
    raise ValueError(f"bad value {x}")


def test_pool_trains_like_a_thread_and_sends_data_once(blocks):
    train, test = blocks
    model = _tasks.create(MLPClassifier(hidden_layer_sizes=(8,), random_state=0), {}, 1)
    args = ([[train[0]], [train[1]]], [test], {"accuracy": get_scorer("accuracy")}, {"classes": [0, 1]},
            "partial_fit", 2, None)
    here, record_here = _tasks.advance(model, *args)
    pool = _helpers.HelperPool(2, shared=[train[0], train[1], test], preload=["sklearn.neural_network"])
    try:
        _wait_ready(pool)
        there, record = pool.submit(_tasks.advance, [model, *args]).result(timeout=60)
        assert record["scores"] == record_here["scores"]
        np.testing.assert_array_equal(there[0].coefs_[0], here[0].coefs_[0])
        # the blocks went to that helper once: a second task there sends references only
        helper = next(h for h in pool._helpers if h.has)
        assert helper.has == {0, 1, 2}
        with pytest.warns(UserWarning, match="careful with 1"):  # issued again here, under our filters
            assert pool.submit(_warns, [1]).result(timeout=30) == 2
        with pytest.raises(ValueError, match="bad value 3"):  # the estimator's own error is the result
            pool.submit(_fails, [3]).result(timeout=30)
        assert pool.broken is None
        pids = {pool.submit(os.getpid, []).result(timeout=30) for _ in range(6)} | {pool._zygote.pid}
        assert os.getpid() not in pids
        # what cannot be sent runs here instead, and the pool stops taking tasks
        assert pool.submit(lambda x: x * 2, [21]).result(timeout=30) == 42
        assert pool.broken and "pickle" in pool.broken.lower()
        assert pool.submit(abs, [-5]).result() == 5
    finally:
        pool.close()
    for pid in pids:  # the launcher reaped its helpers and ended
        assert not psutil.pid_exists(pid)


def test_closing_stops_a_busy_helper():
    pool = _helpers.HelperPool(2, shared=[])
    _wait_ready(pool)
    busy = pool.submit(time.sleep, [60])
    time.sleep(0.3)
    start = time.monotonic()
    pool.close()
    assert time.monotonic() - start < 10 and not psutil.pid_exists(pool._zygote.pid)
    assert busy.done()


def test_concurrency_asks_for_helpers_when_threads_wait_for_the_gil():
    c = _driver._Concurrency(2, adaptive=True, helpers=2)
    assert c.mode == "threads"
    for m in range(4):  # threads that ran 55% of their wall time: the GIL
        c.observe(m, 1, 1.0, "threads", cpu=0.55, first=True)
    assert c.wants_helpers and c.waiting and c.limit == 1
    for m in (0, 1, 0, 1):  # alone while they start
        c.observe(m, 1, 0.2, "alone", cpu=0.2)
    c.helpers_up()
    assert c.offload and c.limit == 2
    for m in (0, 1, 0, 1):  # on helpers: the same calls take a little longer each, two at a time
        c.observe(m, 1, 0.22, "processes")
    assert c.offload and c.limit == 2  # kept
    c.helpers_down()  # they stopped: measure threads against alone again
    assert not c.offload and c.limit == 1


def test_concurrency_keeps_threads_that_release_the_gil():
    c = _driver._Concurrency(2, adaptive=True, helpers=2)
    for m in range(4):
        c.observe(m, 1, 1.0, "threads", cpu=0.97)
    assert not c.wants_helpers and c.mode == "threads"


class _EagerHelpers(_driver._Concurrency):
    """Asks for helpers at once and stays on them (so that the test does not depend on timings)."""

    def __init__(self, slots, adaptive, helpers=0):
        super().__init__(slots, adaptive=True, helpers=2)
        self.wants_helpers = self.waiting = True
        self.mode = "alone"
        self.seconds_per_call = 1e9  # as if the search had long to go

    def observe(self, *args, **kwargs):
        if self.mode == "processes":
            return
        super().observe(*args, **kwargs)


_mind_helpers = _driver.Driver._mind_helpers


def _waiting_for_helpers(driver):
    """The driver's own, but waiting for the helpers to start (the test's search is over sooner)."""
    _mind_helpers(driver)
    deadline = time.monotonic() + 60
    while driver.backend.helpers == "starting" and time.monotonic() < deadline:
        time.sleep(0.05)
    _mind_helpers(driver)


def _search(X, y, seed=0):
    search = HyperbandSearchCV(MLPClassifier(hidden_layer_sizes=(6,), batch_size=32),
                               {"alpha": np.logspace(-5, -1, 10), "learning_rate_init": [1e-3, 1e-2]},
                               max_iter=9, random_state=seed)
    return search.fit(da.from_array(X, chunks=150), da.from_array(y, chunks=150))


def test_search_on_helpers_matches_a_search_on_threads(monkeypatch):
    from distributed import Client

    X, y = make_classification(n_samples=600, n_features=6, random_state=1)
    sent = []
    submit = _helpers.HelperPool.submit

    def counting(self, fn, args):
        sent.append(fn)
        return submit(self, fn, args)

    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
        monkeypatch.setenv("HYPERSWEEP_HELPER_PROCESSES", "0")
        plain = _search(X, y)
        monkeypatch.delenv("HYPERSWEEP_HELPER_PROCESSES")
        monkeypatch.setattr(_driver, "_Concurrency", _EagerHelpers)
        monkeypatch.setattr(_helpers.HelperPool, "submit", counting)
        monkeypatch.setattr(_driver.Driver, "_mind_helpers", _waiting_for_helpers)
        helped = _search(X, y)
    assert len(sent) > 10  # most of the search ran on the helpers
    key = lambda r: (r["model_id"], r["partial_fit_calls"])  # noqa: E731
    assert [(key(r), r["score"]) for r in sorted(plain.history_, key=key)] == \
        [(key(r), r["score"]) for r in sorted(helped.history_, key=key)]
    assert helped.best_params_ == plain.best_params_ and helped.best_score_ == plain.best_score_
