"""Parallel speed-up of a CPU-bound objective: 2 workers (process pool, Dask LocalCluster, Ray) against serial.

usage: python benchmarks/parallel.py [--trials 24] [--seconds 0.25] [--workers 2] [--repeats 5]
                                     [--executors process,dask]

The speed-up is the serial search's time over the parallel search's wall time, ``study.optimize`` each
(target: >= 1.85 with 2 workers on 2 cores, first call). How it is measured, so that noise does not decide:

- every trial does the same pure-Python integer work whatever its config, sized from the CPU time of a few
  timings so that a trial takes ``--seconds`` of CPU;
- each timed search runs in a fresh Python process, as a user's script does: "first call" pays everything
  a first ``optimize`` pays (forkserver start and preload, worker start; the LocalCluster; ``ray.init``),
  "second call" is another ``optimize`` in the same process (forkserver, cached cluster, Ray reused);
- serial and parallel runs alternate, round after round, and each keeps its best of ``--repeats``;
- the serial time is the CPU time of the serial search: that is its wall time on an idle machine, and
  unlike its wall time it does not grow when other work takes the cores, which would flatter the
  speed-up (a disturbed parallel run only lowers it). The load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time

import hypersweep as hs

TARGET = 1.85


def burn(config):
    """``config["work"]`` additions of small integers: the same cost whatever ``x``, in any process."""
    total = 0
    for i in range(int(config["work"])):
        total += i % 7
    return total * 1e-9 + config["x"]


def _calibrate(seconds: float, tries: int = 7) -> tuple[int, float]:
    """Work per trial for ``seconds`` of CPU, from the least CPU time of ``tries`` timings; and that rate."""
    n = 100_000
    while True:
        start = time.process_time()
        burn({"work": n, "x": 0.5})
        if time.process_time() - start > 0.05:
            break
        n *= 2
    best = float("inf")
    for _ in range(tries):
        start = time.process_time()
        burn({"work": n, "x": 0.5})
        best = min(best, time.process_time() - start)
    return int(n * seconds / best), n / best


def _child(executor: str, workers: int, work: int, trials: int, calls: int) -> None:
    """Time ``calls`` searches in this (fresh) process; print their wall times (CPU times, serial) as JSON."""
    logging.disable(logging.WARNING)
    space = {"x": (0.0, 1.0), "work": work}
    n_workers = 1 if executor == "serial" else workers
    clock = time.process_time if executor == "serial" else time.perf_counter
    times = []
    for _ in range(calls):
        study = hs.create_study(space, sampler="random", seed=0)
        start = clock()
        study.optimize(burn, n_trials=trials, n_workers=n_workers, executor=executor, progress=False)
        times.append(clock() - start)
        failed = [t for t in study.trials if t.state != hs.TrialState.COMPLETE]
        assert not failed, f"{executor}: trial {failed[0].number} {failed[0].state}: {failed[0].fail_reason}"
    print(json.dumps(times))


def _run_child(executor: str, args: argparse.Namespace, work: int, calls: int) -> list[float]:
    command = [sys.executable, __file__, "--child", executor, "--workers", str(args.workers), "--work", str(work),
               "--trials", str(args.trials), "--calls", str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{executor} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=0.25, help="CPU time of one trial")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="rounds; each row keeps its best")
    parser.add_argument("--executors", default="process,dask", help="comma-separated: process, dask, ray")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.workers, args.work, args.trials, args.calls)
        return
    executors = [name.strip() for name in args.executors.split(",") if name.strip()]
    work, rate = _calibrate(args.seconds)
    load = os.getloadavg()[0]
    print(f"{args.trials} trials of {args.seconds} s CPU ({work:,} additions at {rate / 1e6:.1f} M/s), "
          f"{args.workers} workers, {os.cpu_count()} CPUs, load average {load:.2f}, best of {args.repeats} rounds")
    best: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for executor in ["serial", *executors]:
            times = _run_child(executor, args, work, 1 if executor == "serial" else 2)
            best[executor] = [min(pair) for pair in zip(best.get(executor, times), times, strict=True)]
    serial = best["serial"][0]
    ideal = serial / args.workers
    print(f"{'serial (CPU time)':<31} {serial:6.2f} s  ({serial / args.trials:.3f} s a trial; "
          f"a perfect split: {ideal:.2f} s)")
    for executor in executors:
        for label, elapsed in zip(("first call", "second call"), best[executor], strict=True):
            ratio = serial / elapsed
            verdict = "" if label == "second call" else ("  OK" if ratio >= TARGET else f"  below {TARGET}")
            print(f"{executor + ', ' + label:<31} {elapsed:6.2f} s  speed-up {ratio:.2f}  "
                  f"(+{elapsed - ideal:.2f} s over a perfect split){verdict}")
    if any(serial / elapsed > args.workers for times in best.values() for elapsed in times):
        print(f"a speed-up above {args.workers} means the serial runs were disturbed: rerun on an idle machine")
    print(f"reproduce: python benchmarks/parallel.py --trials {args.trials} --seconds {args.seconds} "
          f"--workers {args.workers} --repeats {args.repeats} --executors {','.join(executors)}")


if __name__ == "__main__":
    main()
