"""ASHA with promotions against synchronous Hyperband and stopping ASHA, on the real Study loop with a virtual
clock (hypersweep.testing.simulator): tabulated learning curves, straggling configurations, many workers.

usage: python benchmarks/scheduler_simulation.py [--seeds 10] [--workers 4 16] [--configs 1000]

For each seed, a pool of learning curves (81 epochs; curves cross, some configurations are 4x slower per epoch)
is searched in the same random order by
  - synchronous Hyperband (max_resource=81, eta=3, one iteration: 143 trials, 1,581 epochs), whose best final
    value V and virtual makespan T are the reference;
  - ASHA with promotions (promote=True) and ASHA without (stopping), same rungs, until 1.5 T.
Printed per worker count (medians over seeds): the time ASHA takes to finish a trial whose final value is at
least as good as V, as a fraction of T (target for promotions: <= 0.6), and the epochs it ran by then, as a
ratio promotions / stopping (target: <= 1).
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import time

import numpy as np

from hypersweep.schedulers import ASHA, Hyperband
from hypersweep.testing.simulator import SimulationResult, simulate

R, ETA = 81, 3


def curve_pool(n: int, seed: int) -> tuple[list[list[float]], list[float]]:
    """Learning curves (validation loss per epoch) and seconds per epoch for ``n`` configurations.

    loss(t) = final + gap * t**-rate + noise: finals, gaps and rates vary independently, so curves cross
    (a slow starter may end best) and early rankings are informative but not exact. One configuration in ten is a
    straggler (4x slower per epoch); the others vary by +-25%.
    """
    rng = np.random.default_rng(seed)
    final = rng.gamma(2.0, 0.1, n)
    gap = rng.uniform(0.2, 1.5, n)
    rate = rng.uniform(0.3, 1.2, n)
    t = np.arange(1, R + 1)
    table = final[:, None] + gap[:, None] * t[None, :] ** -rate[:, None]
    table += 0.005 * rng.standard_normal(table.shape)
    seconds = rng.lognormal(0.0, 0.25, n) * np.where(rng.random(n) < 0.1, 4.0, 1.0)
    return table.tolist(), seconds.tolist()


def first_reach(result: SimulationResult, target: float) -> tuple[float, int]:
    """(virtual time, epochs run by then) when a trial first finished all R epochs with a value <= target."""
    for count, event in enumerate(result.events, 1):
        if event.step == R and event.value <= target:
            return event.time, count
    return math.inf, len(result.events)


def one_seed(seed: int, workers: int, n_configs: int) -> dict[str, float]:
    curves, seconds = curve_pool(n_configs, seed)
    hb = simulate(Hyperband(R, ETA, synchronous=True), curves, n_workers=workers, step_times=seconds, n_trials=143)
    target = min(e.value for e in hb.events if e.step == R)
    horizon = 1.5 * hb.makespan
    out = {"hb_time": hb.makespan, "hb_epochs": hb.total_steps}
    for label, promote in (("promo", True), ("stop", False)):
        run = simulate(ASHA(max_resource=R, reduction_factor=ETA, promote=promote), curves, n_workers=workers,
                       step_times=seconds, timeout=horizon)
        reached, epochs = first_reach(run, target)
        out[f"{label}_time"] = reached / hb.makespan
        out[f"{label}_epochs"] = epochs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--configs", type=int, default=1000, help="configurations in each seed's pool")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    start = time.perf_counter()
    for workers in args.workers:
        rows = [one_seed(seed, workers, args.configs) for seed in range(args.seeds)]
        promo_time = statistics.median(r["promo_time"] for r in rows)
        stop_time = statistics.median(r["stop_time"] for r in rows)
        epoch_ratio = statistics.median(r["promo_epochs"] / r["stop_epochs"] for r in rows)
        reached = sum(math.isfinite(r["promo_time"]) for r in rows)
        print(f"{workers:>2} workers, {args.seeds} seeds: synchronous Hyperband best final value V in "
              f"{statistics.median(r['hb_time'] for r in rows):.0f} virtual s, {rows[0]['hb_epochs']} epochs")
        print(f"   ASHA with promotions reaches V in {promo_time:.2f} of Hyperband's time (target <= 0.6; "
              f"reached in {reached}/{args.seeds} seeds); stopping ASHA in {stop_time:.2f}")
        promo_epochs = statistics.median(r["promo_epochs"] for r in rows)
        stop_epochs = statistics.median(r["stop_epochs"] for r in rows)
        print(f"   epochs run until then, promotions / stopping: {epoch_ratio:.2f} (target <= 1; medians "
              f"{promo_epochs:.0f} vs {stop_epochs:.0f}; per seed: "
              + ", ".join(f"{r['promo_epochs'] / r['stop_epochs']:.2f}" for r in rows) + ")")
        print("   time fraction per seed, promotions: " + ", ".join(f"{r['promo_time']:.2f}" for r in rows))
    print(f"({time.perf_counter() - start:.0f} s wall) reproduce: python benchmarks/scheduler_simulation.py "
          f"--seeds {args.seeds} --workers {' '.join(map(str, args.workers))} --configs {args.configs}")


if __name__ == "__main__":
    main()
