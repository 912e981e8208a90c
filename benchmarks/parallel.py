"""Parallel speed-up of a CPU-bound objective: 2 workers (process pool, Dask LocalCluster) against serial.

usage: python benchmarks/parallel.py [--trials 16] [--seconds 0.5] [--workers 2]
Each trial burns ``--seconds`` of pure-Python CPU; the ratio is serial wall time / parallel wall time,
startup of the workers included (target: >= 1.85 with 2 workers on 2 cores).
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


def _timed(executor, n_workers, space, trials):
    study = hs.create_study(space, sampler="random", seed=0)
    start = time.perf_counter()
    study.optimize(burn, n_trials=trials, n_workers=n_workers, executor=executor, progress=False)
    elapsed = time.perf_counter() - start
    assert all(t.state == hs.TrialState.COMPLETE for t in study.trials), "a trial failed"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    work = _calibrate(args.seconds)
    space = {"x": (0.0, 1.0), "work": work}
    serial = _timed("serial", 1, space, args.trials)
    print(f"serial: {serial:.2f} s for {args.trials} trials of ~{args.seconds} s CPU each")
    for executor in ("process", "dask"):
        elapsed = _timed(executor, args.workers, space, args.trials)
        ratio = serial / elapsed
        verdict = "OK" if ratio >= 1.85 else "MISSES target >= 1.85"
        print(f"{executor:<8} x{args.workers}: {elapsed:.2f} s  speed-up {ratio:.2f}  {verdict}")
    print(f"reproduce: python benchmarks/parallel.py --trials {args.trials} --seconds {args.seconds}")


if __name__ == "__main__":
    main()
