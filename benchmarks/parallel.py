"""Parallel speed-up of a CPU-bound objective: 2 workers (process pool, Dask LocalCluster) against serial.

usage: python benchmarks/parallel.py [--trials 16] [--seconds 0.5] [--workers 2]
Each trial burns ``--seconds`` of pure-Python CPU; the ratio is serial wall time / parallel wall time (best
of ``--repeats`` runs each), startup of the workers included, and for Dask also on an already running cluster
(target: >= 1.85 with 2 workers on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
import time

import hypersweep as hs


def burn(config):
    """Pure-Python CPU work for a fixed number of operations (same work whatever the executor)."""
    total, n = 0.0, int(config["work"])
    for i in range(n):
        total += (i * config["x"]) % 7
    return total


def _calibrate(seconds: float) -> int:
    n = 200_000
    while True:
        start = time.perf_counter()
        burn({"work": n, "x": 0.5})
        elapsed = time.perf_counter() - start
        if elapsed > 0.2:
            return int(n * seconds / elapsed)
        n *= 2


def _timed(executor, n_workers, space, trials, repeats):
    """Best wall time of `repeats` searches (the least disturbed by other load on the machine)."""
    best = float("inf")
    for _ in range(repeats):
        study = hs.create_study(space, sampler="random", seed=0)
        start = time.perf_counter()
        study.optimize(burn, n_trials=trials, n_workers=n_workers, executor=executor, progress=False)
        best = min(best, time.perf_counter() - start)
        assert all(t.state == hs.TrialState.COMPLETE for t in study.trials), "a trial failed"
    return best


def _report(label: str, serial: float, elapsed: float, workers: int) -> None:
    ratio = serial / elapsed
    verdict = "OK" if ratio >= 1.85 else "below 1.85"
    print(f"{label:<42} x{workers}: {elapsed:5.2f} s  speed-up {ratio:.2f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs per executor")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    work = _calibrate(args.seconds)
    space = {"x": (0.0, 1.0), "work": work}
    serial = _timed("serial", 1, space, args.trials, args.repeats)
    print(f"serial: {serial:.2f} s for {args.trials} trials of ~{args.seconds} s CPU each")
    import dask
    from distributed import Client, LocalCluster

    runs = [("process (pool started in the call)", "process"), ("dask (LocalCluster started in the call)", "dask")]
    for label, executor in runs:
        _report(label, serial, _timed(executor, args.workers, space, args.trials, args.repeats), args.workers)
    with dask.config.set({"distributed.worker.profile.enabled": False}):  # as DaskExecutor's own clusters
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster) as client:
        client.submit(burn, {"work": 1, "x": 0.0}).result()  # workers up and warm, as on a running cluster
        elapsed = _timed(client, args.workers, space, args.trials, args.repeats)
        _report("dask (cluster already running)", serial, elapsed, args.workers)
    print(f"reproduce: python benchmarks/parallel.py --trials {args.trials} --seconds {args.seconds} "
          f"--repeats {args.repeats}")


if __name__ == "__main__":
    main()
