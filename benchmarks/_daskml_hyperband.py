"""dask-ml's side of the Hyperband comparisons: the Hyperband tutorial's search, timed.

usage (inside the dask-ml 2025.1.0 environment, see ``_peers.run_peer``):
    python benchmarks/_daskml_hyperband.py --seed 0 --max-iter 8 --passes 4 [--threads 2] [--search hyperband]

Builds the tutorial's workload (``_circles.py``, beside this file), starts
``Client(processes=False, threads_per_worker=THREADS, n_workers=1)``, chunks the training arrays as the
tutorial does (``da.from_array(X_train, chunks=chunks)``), runs
``HyperbandSearchCV(MLPClassifier(), params, max_iter=M, patience=True, random_state=S)
.fit(X_train2, y_train2, classes=[0, 1, 2, 3])`` and prints one JSON line::

    {"fit_seconds": wall time of fit, "test_accuracy": best_estimator_.score(X_test, y_test),
     "best_params": {name: repr}, "best_score": validation score, "n_models": ..., "partial_fit_calls": ...,
     "planned_n_models": ..., "planned_partial_fit_calls": ..., "max_iter": M, "chunks": ..., "seed": S,
     "threads": ..., "search": ..., "versions": {...}}

``n_models`` and ``partial_fit_calls`` are what the fit did (``metadata_``; ``patience=True`` stops models early),
the ``planned_`` ones what Hyperband planned (``metadata``). The tutorial's ``MLPClassifier()`` has no
``random_state``, so weights and shuffling differ from run to run: scores, the winner and the number of
``partial_fit`` calls vary between runs even with the same ``--seed`` (which fixes the data and the sampled
configurations only).

**The tuple-valued ``hidden_layer_sizes``.** In this environment dask-ml's incremental searches cannot fit the
tutorial's space as it is: at the end of each bracket ``_get_cv_results`` does ``np.array(values)`` on every
parameter column, and NumPy >= 1.24 (dask-ml 2025.1.0 itself requires >= 1.24) refuses a list of tuples of
different lengths ("setting an array element with a sequence ... inhomogeneous shape"), so ``fit`` raises
before any attribute (``best_estimator_``, ``model_history_``) exists. The script therefore hands dask-ml each
layer tuple wrapped in :class:`_Layers`, which ``MLPClassifier`` accepts as the tuple it holds (it only
iterates it: ``list(hidden_layer_sizes)``) and which NumPy stores as one object (it has no ``__getitem__``,
so NumPy does not see a sequence). dask-ml's code runs unpatched, samples the same configurations (its
``ParameterSampler`` indexes the lists) and trains the same networks; only ``cv_results_`` holds the wrapped
values, and the script reads nothing from it: it uses ``best_estimator_``, ``best_params_``, ``best_score_``
and ``metadata_``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import logging
import sys
import time
import warnings
from pathlib import Path


def _load_sibling(name: str):
    """Import ``name``.py from this script's folder, by path (``benchmarks`` is not a package)."""
    path = Path(__file__).resolve().with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Layers:
    """A layer-size tuple that NumPy keeps as one object and scikit-learn uses as the tuple itself."""

    __slots__ = ("sizes",)

    def __init__(self, sizes):
        self.sizes = tuple(sizes)

    def __iter__(self):
        return iter(self.sizes)

    def __len__(self):
        return len(self.sizes)

    def __eq__(self, other):
        return self.sizes == (other.sizes if isinstance(other, _Layers) else other)

    def __hash__(self):
        return hash(self.sizes)

    def __repr__(self):
        return repr(self.sizes)


def _numpy_safe(space: dict) -> dict:
    """``space`` with every tuple choice wrapped in :class:`_Layers` (see the module docstring)."""
    out = {}
    for name, choices in space.items():
        if isinstance(choices, list) and any(isinstance(c, tuple) for c in choices):
            choices = [_Layers(c) if isinstance(c, tuple) else c for c in choices]
        out[name] = choices
    return out


def _plain(value):
    """The value a search was given, unwrapped and as a Python scalar, so reprs match across NumPy versions."""
    if isinstance(value, _Layers):
        return value.sizes
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ("dask", "distributed", "dask-ml", "scikit-learn", "numpy", "pandas", "scipy")
    return {name: version(name) for name in names}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iter", type=int, default=8, help="the tutorial's n_params (and max_iter)")
    parser.add_argument("--passes", type=int, default=4, help="n_examples = passes * len(X_train)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the one in-process worker")
    parser.add_argument("--search", choices=["hyperband"], default="hyperband")
    args = parser.parse_args(argv)

    import dask.array as da
    from dask_ml.model_selection import HyperbandSearchCV
    from distributed import Client
    from sklearn.neural_network import MLPClassifier

    circles = _load_sibling("_circles")
    X_train, X_test, y_train, y_test = circles.data(args.seed)
    plan = circles.budget(args.max_iter, args.passes, len(X_train))

    # count every partial_fit dask-ml really runs (its speculative calls included) and the time they take
    invocations, busy = itertools.count(), []
    original = MLPClassifier.partial_fit

    def counted(self, *a, **kw):
        next(invocations)
        t0 = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            busy.append(time.perf_counter() - t0)

    MLPClassifier.partial_fit = counted

    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    with Client(processes=False, threads_per_worker=args.threads, n_workers=1, dashboard_address=None):
        X_train2 = da.from_array(X_train, chunks=plan["chunks"])
        y_train2 = da.from_array(y_train, chunks=plan["chunks"])
        search = HyperbandSearchCV(
            MLPClassifier(),
            _numpy_safe(circles.params()),
            max_iter=plan["max_iter"],
            patience=True,
            random_state=args.seed,
        )
        start = time.perf_counter()
        search.fit(X_train2, y_train2, classes=list(circles.CLASSES))
        fit_seconds = time.perf_counter() - start
        test_accuracy = float(search.best_estimator_.score(X_test, y_test))
        return {
            "fit_seconds": fit_seconds,
            "test_accuracy": test_accuracy,
            "best_params": {k: repr(_plain(v)) for k, v in sorted(search.best_params_.items())},
            "best_score": float(search.best_score_),
            "n_models": int(search.metadata_["n_models"]),
            "partial_fit_calls": int(search.metadata_["partial_fit_calls"]),
            "partial_fit_invocations": next(invocations),
            "partial_fit_seconds": float(sum(busy)),
            "planned_n_models": int(search.metadata["n_models"]),
            "planned_partial_fit_calls": int(search.metadata["partial_fit_calls"]),
            "max_iter": plan["max_iter"],
            "chunks": plan["chunks"],
            "seed": args.seed,
            "threads": args.threads,
            "search": args.search,
            "versions": _versions(),
        }


if __name__ == "__main__":
    result = main()
    print(json.dumps(result), flush=True)
