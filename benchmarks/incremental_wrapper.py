"""Incremental(SGDClassifier).fit against a hand-written partial_fit loop over the same blocks, in the same order.

usage: python benchmarks/incremental_wrapper.py [--blocks 20] [--rows 20000] [--features 100] [--repeats 5]
                                                [--skip-memory]

Rows (each the best of ``--repeats`` rounds; ours and the loop alternate within a round, so load hits both):

- NumPy blocks: the data in memory; the loop calls ``partial_fit`` on NumPy slices, Incremental gets
  ``da.from_array`` of the same array;
- a Dask array generated lazily (``make_classification``); the loop computes each block then fits it;
- each of them without a Client (Dask's local scheduler) and with ``Client(processes=False)``, where the loop
  computes blocks through the Client and Incremental chains the fits on the worker.

Prints the time ratio Incremental / loop (target: <= 1.15), then the peak memory of a larger-than-memory run:
a worker with a memory limit ten times smaller than a lazily generated array, its peak RSS growth during
``Incremental.fit`` in blocks (Linux).
"""

from __future__ import annotations

import argparse
import os
import pickle
import time

import dask
import dask.array as da
import numpy as np
from sklearn.linear_model import SGDClassifier

from hypersweep.sklearn import Incremental, make_classification

TARGET = 1.15


def _model() -> SGDClassifier:
    return SGDClassifier(loss="log_loss", penalty="l2", tol=1e-3, random_state=0)


def _loop_numpy(X: np.ndarray, y: np.ndarray, rows: int, order: list[int]) -> SGDClassifier:
    model = _model()
    for i in order:
        model.partial_fit(X[i * rows : (i + 1) * rows], y[i * rows : (i + 1) * rows], classes=[0, 1])
    return model


def _loop_dask(X: da.Array, y: da.Array, order: list[int]) -> SGDClassifier:
    model = _model()
    xs, ys = X.to_delayed().ravel(), y.to_delayed().ravel()
    for i in order:
        xb, yb = dask.compute(xs[i], ys[i])
        model.partial_fit(xb, yb, classes=[0, 1])
    return model


def _ours(X: da.Array, y: da.Array) -> Incremental:
    return Incremental(_model(), random_state=0).fit(X, y, classes=[0, 1])


def _best(pairs: list[tuple[str, object]], repeats: int) -> dict[str, float]:
    best = {name: float("inf") for name, _ in pairs}
    for _ in range(repeats):
        for name, run in pairs:
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _timings(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    n = args.blocks * args.rows
    Xg, yg = make_classification(n_samples=n, n_features=args.features, chunks=args.rows, random_state=0)
    Xn, yn = dask.compute(Xg, yg)
    Xd, yd = da.from_array(Xn, chunks=(args.rows, args.features)), da.from_array(yn, chunks=args.rows)
    order = _ours(Xd, yd).block_order_
    # the same model either way: the wrapper adds no work, only data management
    np.testing.assert_array_equal(_ours(Xd, yd).coef_, _loop_numpy(Xn, yn, args.rows, order).coef_)
    rows = []

    def measure(label: str) -> None:
        best = _best(
            [
                ("ours numpy", lambda: _ours(Xd, yd)),
                ("loop numpy", lambda: _loop_numpy(Xn, yn, args.rows, order)),
                ("ours lazy", lambda: _ours(Xg, yg)),
                ("loop lazy", lambda: _loop_dask(Xg, yg, order)),
            ],
            args.repeats,
        )
        rows.append((f"NumPy blocks, {label}", best["ours numpy"], best["loop numpy"]))
        rows.append((f"lazy Dask array, {label}", best["ours lazy"], best["loop lazy"]))

    measure("no Client")
    from distributed import Client

    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"):
        np.testing.assert_array_equal(_ours(Xd, yd).coef_, _loop_numpy(Xn, yn, args.rows, order).coef_)
        measure("Client(processes=False)")
    return rows


def _peak_memory(args: argparse.Namespace) -> tuple[float, float, float, float]:
    """(data / memory limit, the worker's peak RSS growth in blocks, seconds, the model in blocks) of a fit."""
    import distributed

    def status(field: str) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    def reset() -> int:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return status("VmRSS")

    def peak() -> int:
        return status("VmHWM")

    rows, features, memory_limit = 20_000, 100, 300_000_000
    block_bytes = rows * features * 8
    n_blocks = -(-10 * memory_limit // block_bytes)
    X, y = make_classification(n_samples=rows * n_blocks, n_features=features, chunks=rows, random_state=1)
    unmanaged = {"distributed.worker.memory.spill": False, "distributed.worker.memory.target": False,
                 "distributed.worker.memory.pause": False, "distributed.scheduler.allowed-failures": 0}
    with dask.config.set(unmanaged), distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, memory_limit=memory_limit, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        Incremental(_model()).fit(X[: 2 * rows], y[: 2 * rows], classes=[0, 1])  # warm up
        (baseline,) = client.run(reset).values()
        start = time.perf_counter()
        model = Incremental(_model(), random_state=0).fit(X, y, classes=[0, 1])
        elapsed = time.perf_counter() - start
        (top,) = client.run(peak).values()
    model_blocks = len(pickle.dumps(model.estimator_)) / block_bytes
    return X.nbytes / memory_limit, (top - baseline) / block_bytes, elapsed, model_blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--rows", type=int, default=20_000, help="rows per block")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5, help="rounds; each row keeps its best")
    parser.add_argument("--skip-memory", action="store_true", help="skip the larger-than-memory run")
    args = parser.parse_args()
    mb = args.rows * args.features * 8 / 1e6
    print(f"{args.blocks} blocks of {args.rows} x {args.features} ({mb:.0f} MB each), SGDClassifier(log_loss), "
          f"best of {args.repeats}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    worst = 0.0
    for label, ours, loop in _timings(args):
        ratio = ours / loop
        worst = max(worst, ratio)
        print(f"{label:<42} Incremental {ours:6.3f} s  loop {loop:6.3f} s  ratio {ratio:.2f}"
              f"{'' if ratio <= TARGET else f'  above {TARGET}'}")
    print(f"worst ratio {worst:.2f} (target <= {TARGET})")
    if not args.skip_memory:
        times, blocks, elapsed, model_blocks = _peak_memory(args)
        print(f"larger than memory: {times:.1f}x a worker's memory limit, fit in {elapsed:.1f} s, peak RSS growth "
              f"{blocks:.2f} blocks (the model: {model_blocks:.4f} blocks)")
    print(f"reproduce: python benchmarks/incremental_wrapper.py --blocks {args.blocks} --rows {args.rows} "
          f"--features {args.features} --repeats {args.repeats}")


if __name__ == "__main__":
    main()
