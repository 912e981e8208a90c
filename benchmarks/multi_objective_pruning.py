"""Pruning a search of two objectives: multi-objective ASHA against the unpruned search, on the real Study loop
with a virtual clock (hypersweep.testing.simulator) and tabulated learning curves.

usage: python benchmarks/multi_objective_pruning.py [--seeds 10] [--workers 4] [--unpruned 100] [--configs 1000]

Each seed draws a pool of configurations of a model trading validation loss against latency: a model's size s
sets its latency (constant over epochs, 1 + 9 s ms) and the loss it can reach (larger is better), its other
hyperparameters add a penalty, and its loss falls over 81 epochs along a curve of its own (curves cross). The
configurations are searched in the same random order by
  - the unpruned search: the first --unpruned configurations, every one trained for 81 epochs; the hypervolume
    of its final (loss, latency) values (reference point: loss 1.5, latency 11) is the target H;
  - ASHA (stopping, eta=3, rungs 1, 3, 9, 27, max 81 epochs) ranking each rung by Pareto front and crowding
    distance, on the same virtual time budget;
  - the same ASHA judging the loss alone (a one-objective study of the same curves), to show what ranking by
    both objectives buys.
Printed: the epochs each ASHA ran until the completed trials' hypervolume reached H, as a fraction of the unpruned
search's epochs (target for multi-objective ASHA: <= 0.5), medians and per seed.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import time

import numpy as np

from hypersweep.multi_objective import hypervolume, pareto_front_mask
from hypersweep.schedulers import ASHA, NoScheduler
from hypersweep.testing.simulator import SimulationResult, simulate

R, ETA = 81, 3
REFERENCE = (1.5, 11.0)  # (loss, latency): worse than any configuration's final values


def curve_pool(n: int, seed: int) -> list[list[tuple[float, float]]]:
    """Per configuration, its (loss, latency) at each of R epochs."""
    rng = np.random.default_rng(seed)
    size = rng.random(n)
    latency = 1.0 + 9.0 * size + 0.1 * rng.standard_normal(n)
    final = 0.05 + 0.5 * (1.0 - size) ** 1.5 + rng.gamma(1.0, 0.12, n)  # the penalty of the other settings
    gap = rng.uniform(0.2, 1.0, n)
    rate = rng.uniform(0.3, 1.2, n)
    t = np.arange(1, R + 1)
    loss = final[:, None] + gap[:, None] * t[None, :] ** -rate[:, None]
    loss += 0.005 * rng.standard_normal(loss.shape)
    return [[(float(loss[i, k]), float(latency[i])) for k in range(R)] for i in range(n)]


def _volume(points: list[tuple[float, float]]) -> float:
    if not points:
        return 0.0
    losses = np.asarray(points)
    return hypervolume(losses[pareto_front_mask(losses)], REFERENCE)


def epochs_to_reach(result: SimulationResult, finals: dict[int, tuple[float, float]], target: float) -> int | float:
    """Epochs run until the completed trials' final values first reach hypervolume ``target`` (inf: never).

    ``finals`` maps trial number -> its (loss, latency) at epoch R (read from the curves, so that a
    one-objective study is measured alike)."""
    done: list[tuple[float, float]] = []
    for count, event in enumerate(result.events, 1):
        if event.step == R:
            done.append(finals[event.number])
            if _volume(done) >= target * (1 - 1e-12):
                return count
    return math.inf


def one_seed(seed: int, workers: int, n_unpruned: int, n_configs: int) -> dict[str, float]:
    curves = curve_pool(n_configs, seed)
    directions = ["minimize", "minimize"]
    full = simulate(NoScheduler(), curves, directions=directions, n_workers=workers, n_trials=n_unpruned)
    target = _volume([c[-1] for c in curves[:n_unpruned]])
    out = {"target": target, "unpruned_epochs": full.total_steps}
    runs = {
        "mo": simulate(ASHA(max_resource=R, reduction_factor=ETA), curves, directions=directions,
                       n_workers=workers, timeout=full.makespan),
        "loss": simulate(ASHA(max_resource=R, reduction_factor=ETA), [[v[0] for v in c] for c in curves],
                         n_workers=workers, timeout=full.makespan),
    }
    for label, run in runs.items():
        finals = {t.number: curves[t.config["curve"]][-1] for t in run.trials}
        out[label] = epochs_to_reach(run, finals, target) / full.total_steps
        out[f"{label}_hv"] = _volume([finals[t.number] for t in run.trials if t.last_step == R]) / target
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--unpruned", type=int, default=100, help="configurations the unpruned search trains")
    parser.add_argument("--configs", type=int, default=1000, help="configurations in each seed's pool")
    args = parser.parse_args()
    if min(args.seeds, args.workers, args.unpruned) < 1 or args.configs < args.unpruned:
        parser.error("--seeds, --workers, --unpruned must be positive and --configs >= --unpruned")
    logging.disable(logging.WARNING)
    start = time.perf_counter()
    rows = [one_seed(seed, args.workers, args.unpruned, args.configs) for seed in range(args.seeds)]
    epochs = rows[0]["unpruned_epochs"]
    print(f"{args.seeds} seeds, {args.workers} workers: the unpruned search trains {args.unpruned} configurations "
          f"({epochs} epochs); its hypervolume H is the target")
    for label, name in (("mo", "multi-objective ASHA"), ("loss", "ASHA on the loss alone")):
        fractions = [r[label] for r in rows]
        reached = sum(math.isfinite(f) for f in fractions)
        print(f"  {name:<24} reaches H with {statistics.median(fractions):.2f} of the unpruned epochs "
              f"(reached in {reached}/{args.seeds} seeds; hypervolume at the end of the same time: "
              f"{statistics.median(r[f'{label}_hv'] for r in rows):.3f} H)")
        print("    per seed: " + ", ".join(f"{f:.2f}" for f in fractions))
    verdict = statistics.median(r["mo"] for r in rows) <= 0.5
    print(f"  target (multi-objective ASHA <= 0.5 of the unpruned epochs): {'YES' if verdict else 'no'}")
    print(f"({time.perf_counter() - start:.0f} s wall) reproduce: python benchmarks/multi_objective_pruning.py "
          f"--seeds {args.seeds} --workers {args.workers} --unpruned {args.unpruned} --configs {args.configs}")


if __name__ == "__main__":
    main()
