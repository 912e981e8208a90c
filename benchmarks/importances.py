"""Parameter importances on a function whose importances are known, against Optuna's evaluators on the same
trials, in one run.

f(x) = 4 x0^2 + 2 x1^2 + x2^2 (+ x3, x4 irrelevant) on [-1, 1]^5, ``--trials`` random trials per seed. For each
seed, prints the ranking and time of hypersweep's "fanova" and "ped_anova" and of Optuna's
FanovaImportanceEvaluator and PedAnovaImportanceEvaluator (given exactly the same trials), and whether each
ranked x0 > x1 > x2 > {x3, x4}.

    python benchmarks/importances.py --seeds 5 --trials 400
"""

from __future__ import annotations

import argparse
import time

import hypersweep as hs

WEIGHTS = (4.0, 2.0, 1.0, 0.0, 0.0)
NAMES = [f"x{i}" for i in range(len(WEIGHTS))]


def f(config: dict) -> float:
    return sum(w * config[n] ** 2 for n, w in zip(NAMES, WEIGHTS, strict=True))


def correct(ranked: list[str]) -> bool:
    return ranked[:3] == ["x0", "x1", "x2"]


def main() -> None:
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=400)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    score = {"hypersweep fanova": 0, "hypersweep ped_anova": 0, "optuna fanova": 0, "optuna ped_anova": 0}
    seconds = dict.fromkeys(score, 0.0)
    for seed in range(args.seeds):
        study = hs.create_study({n: (-1.0, 1.0) for n in NAMES}, sampler="random", seed=seed)
        study.optimize(f, n_trials=args.trials, progress=False)
        twin = optuna.create_study()
        dist = {n: optuna.distributions.FloatDistribution(-1.0, 1.0) for n in NAMES}
        twin.add_trials([optuna.trial.create_trial(params=dict(t.config), distributions=dist, value=t.value)
                         for t in study.trials])
        rankings = {}
        for method in ("fanova", "ped_anova"):
            start = time.perf_counter()
            rankings[f"hypersweep {method}"] = list(hs.importances(study, method=method, seed=seed))
            seconds[f"hypersweep {method}"] += time.perf_counter() - start
        for label, evaluator in (("optuna fanova", FanovaImportanceEvaluator(seed=seed)),
                                 ("optuna ped_anova", PedAnovaImportanceEvaluator())):
            start = time.perf_counter()
            rankings[label] = list(optuna.importance.get_param_importances(twin, evaluator=evaluator))
            seconds[label] += time.perf_counter() - start
        for label, ranked in rankings.items():
            score[label] += correct(ranked)
            print(f"seed {seed}  {label:<22} {' > '.join(ranked)}  {'ok' if correct(ranked) else 'WRONG'}")
    print(f"\ncorrect rankings (x0 > x1 > x2 > the irrelevant two) over {args.seeds} seeds, {args.trials} trials:")
    for label in score:
        print(f"  {label:<22} {score[label]}/{args.seeds}   {1000 * seconds[label] / args.seeds:8.1f} ms per study")


if __name__ == "__main__":
    main()
