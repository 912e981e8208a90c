"""Several objectives: median hypervolume of hypersweep's samplers against Optuna's (NSGA-II, TPE) and random, in
one run, on ZDT1, ZDT2 (2 objectives, 10 parameters), DTLZ2 (3 objectives, 7 parameters) and BNH (2 objectives,
2 parameters, 2 constraints: only feasible trials count, and every trial of our returned front must be feasible).

Hypervolumes are computed by the same function (`hypersweep.multi_objective.hypervolume`) for every method, with a
fixed reference point per problem; higher is better. Prints, per problem and budget, each method's median over the
seeds and its ratio to the best Optuna sampler's median.

    python benchmarks/multi_objective.py --seeds 10 --budgets 100 300
"""

from __future__ import annotations

import argparse
import logging
import math
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
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed, **options)}[sampler]
    study = optuna.create_study(directions=["minimize"] * len(ref), sampler=make())

    def objective(trial: optuna.Trial) -> tuple[float, ...]:
        x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(d)])
        if constraints:
            trial.set_user_attr("c", constraints(x))
        return fn(x)

    study.optimize(objective, n_trials=n_trials)
    return [_counted(tuple(t.values), t.user_attrs.get("c")) for t in study.trials if t.values is not None]


METHODS: dict[str, Callable[[str, int, int], list[tuple[float, ...]]]] = {
    "hs-auto": lambda p, s, n: ours("auto", p, s, n),
    "hs-tpe": lambda p, s, n: ours("tpe", p, s, n),
    "hs-random": lambda p, s, n: ours("random", p, s, n),
    "optuna-nsga2": lambda p, s, n: optuna_run("nsga2", p, s, n),
    "optuna-tpe": lambda p, s, n: optuna_run("tpe", p, s, n),
}
OPTUNA = ("optuna-nsga2", "optuna-tpe")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    args = parser.parse_args()
    logging.getLogger("hypersweep").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=UserWarning)  # Optuna's experimental-feature warnings
    wins = 0
    for problem in args.problems:
        ref = PROBLEMS[problem][2]
        top = max(args.budgets)
        volumes: dict[str, dict[int, list[float]]] = {m: {b: [] for b in args.budgets} for m in METHODS}
        seconds: dict[str, float] = dict.fromkeys(METHODS, 0.0)
        for seed in range(args.seeds):
            for method, run in METHODS.items():
                start = time.perf_counter()
                values = run(problem, seed, top)
                seconds[method] += time.perf_counter() - start
                for budget in args.budgets:
                    points = np.array([v for v in values[:budget] if v[0] != math.inf]).reshape(-1, len(ref))
                    volumes[method][budget].append(hypervolume(points, ref))
        print(f"\n{problem} (reference point {ref}), {args.seeds} seeds: median hypervolume")
        for budget in args.budgets:
            medians = {m: statistics.median(v[budget]) for m, v in volumes.items()}
            best_optuna = max(medians[m] for m in OPTUNA)
            line = "  ".join(f"{m} {medians[m]:.4f}" for m in METHODS)
            ratio = medians["hs-auto"] / best_optuna if best_optuna else math.inf
            wins += ratio >= 1.0
            print(f"  {budget:>4} evaluations: {line}  | hs-auto / best Optuna {ratio:.3f}")
        per_trial = "  ".join(f"{m} {1000 * s / (args.seeds * top):.1f} ms" for m, s in seconds.items())
        print(f"  time per trial: {per_trial}")
    print(f"\nhs-auto at least the best Optuna sampler's median in {wins} of "
          f"{len(args.problems) * len(args.budgets)} (problem, budget) cases")


if __name__ == "__main__":
    main()
