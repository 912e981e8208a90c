"""Several objectives: median hypervolume of hypersweep's samplers against Optuna's (NSGA-II, TPE) and random, in
one run, on ZDT1, ZDT2 (2 objectives, 10 parameters), DTLZ2 (3 objectives, 7 parameters) and BNH (2 objectives,
2 parameters, 2 constraints: only feasible trials count, and every trial of our returned front must be feasible),
against Optuna's NSGA-II, TPE and GP (the GP, seconds per trial by 300 evaluations, runs --gp-budget of them).

Hypervolumes are computed by the same function (`hypersweep.multi_objective.hypervolume`) for every method, with a
fixed reference point per problem; higher is better. Prints, per problem and budget, each method's median over the
seeds and its ratio to the best Optuna sampler's median.

    python benchmarks/multi_objective.py --seeds 10 --budgets 100 300 [--gp-budget 100] [--processes 2]
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np

import hypersweep as hs
from hypersweep.multi_objective import hypervolume


def zdt1(x: np.ndarray) -> tuple[float, float]:
    g = 1 + 9 * x[1:].mean()
    return float(x[0]), float(g * (1 - math.sqrt(x[0] / g)))


def zdt2(x: np.ndarray) -> tuple[float, float]:
    g = 1 + 9 * x[1:].mean()
    return float(x[0]), float(g * (1 - (x[0] / g) ** 2))


def dtlz2(x: np.ndarray) -> tuple[float, float, float]:
    g = float(((x[2:] - 0.5) ** 2).sum())
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return ((1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a))


def bnh(x: np.ndarray) -> tuple[float, float]:
    a, b = 5 * x[0], 3 * x[1]  # x in [0, 5], y in [0, 3]
    return 4 * a * a + 4 * b * b, (a - 5) ** 2 + (b - 5) ** 2


def bnh_constraints(x: np.ndarray) -> list[float]:
    a, b = 5 * x[0], 3 * x[1]
    return [(a - 5) ** 2 + b * b - 25, 7.7 - (a - 8) ** 2 - (b + 3) ** 2]


#: name -> (function, number of parameters, reference point, constraints or None)
PROBLEMS: dict[str, tuple[Callable[[np.ndarray], tuple[float, ...]], int, list[float], Callable | None]] = {
    "ZDT1": (zdt1, 10, [1.1, 11.0], None),
    "ZDT2": (zdt2, 10, [1.1, 11.0], None),
    "DTLZ2": (dtlz2, 7, [2.5, 2.5, 2.5], None),
    "BNH": (bnh, 2, [140.0, 50.0], bnh_constraints),
}
INFEASIBLE = (math.inf,)  # what a run returns for an infeasible trial: no hypervolume


def _counted(values: tuple[float, ...], constraints: list[float] | None) -> tuple[float, ...]:
    return values if constraints is None or all(c <= 0 for c in constraints) else INFEASIBLE * len(values)


def ours(sampler: str, problem: str, seed: int, n_trials: int) -> list[tuple[float, ...]]:
    fn, d, ref, constraints = PROBLEMS[problem]
    study = hs.create_study({f"x{i}": (0.0, 1.0) for i in range(d)}, directions=["minimize"] * len(ref),
                            sampler=sampler, seed=seed)

    def objective(config: dict) -> dict:
        x = np.array([config[f"x{i}"] for i in range(d)])
        return {"objective": fn(x), **({"constraints": constraints(x)} if constraints else {})}

    study.optimize(objective, n_trials=n_trials, progress=False)
    if constraints is not None:
        assert all(t.feasible for t in study.best_trials), "an infeasible trial on the returned front"
    return [_counted(t.values, list(t.constraints) if t.constraints else None)
            for t in study.trials if t.values is not None]


def optuna_run(sampler: str, problem: str, seed: int, n_trials: int) -> list[tuple[float, ...]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fn, d, ref, constraints = PROBLEMS[problem]
    options = {"constraints_func": lambda t: t.user_attrs["c"]} if constraints else {}
    make = {"nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed, **options),
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed, **options),
            "gp": lambda: optuna.samplers.GPSampler(seed=seed, **options)}[sampler]
    study = optuna.create_study(directions=["minimize"] * len(ref), sampler=make())

    def objective(trial: optuna.Trial) -> tuple[float, ...]:
        x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(d)])
        if constraints:
            trial.set_user_attr("c", constraints(x))
        return fn(x)

    study.optimize(objective, n_trials=n_trials)
    return [_counted(tuple(t.values), t.user_attrs.get("c")) for t in study.trials if t.values is not None]


def optuna_gp(problem: str, seed: int, n_trials: int) -> list[tuple[float, ...]]:
    return optuna_run("gp", problem, seed, n_trials)


METHODS: dict[str, Callable[[str, int, int], list[tuple[float, ...]]]] = {
    "hs-auto": lambda p, s, n: ours("auto", p, s, n),
    "hs-mobo": lambda p, s, n: ours("mobo", p, s, n),
    "hs-tpe": lambda p, s, n: ours("tpe", p, s, n),
    "hs-random": lambda p, s, n: ours("random", p, s, n),
    "optuna-nsga2": lambda p, s, n: optuna_run("nsga2", p, s, n),
    "optuna-tpe": lambda p, s, n: optuna_run("tpe", p, s, n),
    "optuna-gp": optuna_gp,
}
OPTUNA = ("optuna-nsga2", "optuna-tpe", "optuna-gp")


def _run(job: tuple[str, str, int, int]) -> tuple[str, str, int, list[tuple[float, ...]], float]:
    method, problem, seed, n_trials = job
    logging.getLogger("hypersweep").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")  # Optuna's experimental-feature warnings, GP convergence warnings
    start = time.perf_counter()
    values = METHODS[method](problem, seed, n_trials)
    return method, problem, seed, values, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--gp-budget", type=int, default=100,
                        help="evaluations Optuna's GP sampler runs (it costs seconds per trial by 300; default 100)")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    budgets, top = sorted(args.budgets), max(args.budgets)
    jobs = [(m, p, s, min(top, args.gp_budget) if m == "optuna-gp" else top)
            for p in args.problems for s in range(args.seeds) for m in args.methods]
    jobs.sort(key=lambda job: job[0] not in ("optuna-gp", "hs-mobo", "hs-auto"))  # the slowest first
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        results = pool.map(_run, jobs, chunksize=1)
    wins: dict[int, int] = dict.fromkeys(budgets, 0)
    for problem in args.problems:
        ref = PROBLEMS[problem][2]
        print(f"\n{problem} (reference point {ref}), {args.seeds} seeds: median hypervolume")
        seconds: dict[str, list[float]] = {}
        for budget in budgets:
            medians = {}
            for method in args.methods:
                runs = [r for r in results if r[0] == method and r[1] == problem]
                if any(len(r[3]) < budget for r in runs):
                    continue  # not run that far (Optuna's GP beyond --gp-budget)
                volumes = [hypervolume(np.array([v for v in r[3][:budget] if v[0] != math.inf]).reshape(-1, len(ref)),
                                       ref) for r in runs]
                medians[method] = statistics.median(volumes)
                seconds[method] = [r[4] / len(r[3]) for r in runs]
            peers = [m for m in OPTUNA if m in medians]
            best = max(peers, key=lambda m: medians[m]) if peers else None
            line = "  ".join(f"{m} {v:.4f}" for m, v in medians.items())
            verdict = ""
            if best is not None and "hs-auto" in medians:
                ratio = medians["hs-auto"] / medians[best] if medians[best] else math.inf
                wins[budget] += ratio >= 1.0
                verdict = f"  | hs-auto / best Optuna ({best}) {ratio:.4f}"
            print(f"  {budget:>4} evaluations: {line}{verdict}")
        print("  seconds per trial: " + "  ".join(f"{m} {statistics.mean(v):.3f}" for m, v in seconds.items()))
    for budget in budgets:
        print(f"at {budget} evaluations: hs-auto at least the best Optuna sampler's median on {wins[budget]} of "
              f"{len(args.problems)} problems (target: >= 3 of 4)")
    print(f"({time.perf_counter() - start:.0f} s wall) reproduce: python benchmarks/multi_objective.py --seeds "
          f"{args.seeds} --budgets {' '.join(map(str, budgets))} --gp-budget {args.gp_budget}")


if __name__ == "__main__":
    main()
