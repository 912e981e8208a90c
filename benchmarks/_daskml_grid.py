"""dask-ml's side of the grid-search comparison: ``dask_ml.model_selection.GridSearchCV`` on a text pipeline.

usage (inside the dask-ml 2025.1.0 environment, see ``_peers.run_peer``):
    python benchmarks/_daskml_grid.py --workload benchmarks/_text.py --n-docs N --seed S

``--workload`` is the path of a module (imported by path, so it need not be on ``sys.path``; it must import with
only NumPy and scikit-learn, because it runs in the pinned environment) that defines::

    corpus(n_docs, seed) -> (docs: list[str], labels: np.ndarray)
    pipeline() -> sklearn.pipeline.Pipeline
    grid() -> dict    # a parameter grid for the pipeline, as for scikit-learn's GridSearchCV

The script starts ``Client(processes=False, n_workers=2, threads_per_worker=1)``, runs
``GridSearchCV(pipeline(), grid(), cv=3).fit(docs, labels)`` on it, times the fit (wall clock) and prints one
JSON line::

    {"fit_seconds": ..., "mean_test_score": [... in cv_results_ order ...],
     "params": [{name: repr}, ...], "best_params": {name: repr}, "best_score": ..., "n_candidates": ...,
     "n_docs": N, "seed": S, "versions": {...}}

dask-ml's ``GridSearchCV`` builds ``cv_results_`` with object arrays for the parameter columns (as
scikit-learn does), so tuple-valued parameters such as ``ngram_range`` work here, unlike in the incremental
searches (see ``_daskml_hyperband.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
import time
import warnings
from pathlib import Path


def _load(path: str):
    """Import the module at ``path`` under its file name."""
    file = Path(path).resolve()
    if not file.is_file():
        raise SystemExit(f"--workload: no file at {file}")
    spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[file.stem] = module
    spec.loader.exec_module(module)
    return module


def _plain(value):
    """A Python scalar for a NumPy one, so reprs read the same whatever the NumPy version."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _reprs(params: dict) -> dict[str, str]:
    return {k: repr(_plain(v)) for k, v in sorted(params.items())}


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ("dask", "distributed", "dask-ml", "scikit-learn", "numpy", "pandas", "scipy")
    return {name: version(name) for name in names}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, help="path of the module with corpus, pipeline, grid")
    parser.add_argument("--n-docs", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv", type=int, default=3)
    args = parser.parse_args(argv)

    from dask_ml.model_selection import GridSearchCV
    from distributed import Client

    workload = _load(args.workload)
    docs, labels = workload.corpus(args.n_docs, args.seed)

    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None):
        search = GridSearchCV(workload.pipeline(), workload.grid(), cv=args.cv)
        start = time.perf_counter()
        search.fit(docs, labels)
        fit_seconds = time.perf_counter() - start
        results = search.cv_results_
        return {
            "fit_seconds": fit_seconds,
            "mean_test_score": [float(s) for s in results["mean_test_score"]],
            "params": [_reprs(p) for p in results["params"]],
            "best_params": _reprs(search.best_params_),
            "best_score": float(search.best_score_),
            "n_candidates": len(results["params"]),
            "n_docs": args.n_docs,
            "seed": args.seed,
            "cv": args.cv,
            "versions": _versions(),
        }


if __name__ == "__main__":
    result = main()
    print(json.dumps(result), flush=True)
