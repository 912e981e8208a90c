"""Sampler quality: median simple regret of hypersweep's default (`auto`), `tpe` and `bo` against Optuna's TPE and
GP samplers and random search, on seven single-objective tasks (five oracles up to 20 dimensions, two
scikit-learn tuning problems with log-scale, integer and categorical parameters).

Run: python benchmarks/sampler_quality.py --seeds 10 --budgets 50 100   (add --quick for a 3-seed smoke check)
--held-out runs six other tasks instead (Hartmann3, six-hump camel, Levy-4d, Griewank-8d, a synthetic
network-tuning surface, five integers), on which no sampler setting was ever chosen: a change should hold there too.
A 10-seed median is a coin flip between samplers of about equal quality (over 100 seeds our TPE and Optuna's are
within 10 % of each other on most tasks, yet 1.5x apart on single tasks over seeds 0-9): judge a change on more
seeds, and on seeds other than the reported ones, e.g. --seeds 40 --first-seed 10.
The suggestion cost at 50 and 5,000 trials is measured by benchmarks/sampler_cost.py.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core per worker process
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from hypersweep.samplers import get_sampler  # noqa: E402
from hypersweep.space import Categorical, Constant, Float, Int, Space  # noqa: E402
from hypersweep.testing.functions import (  # noqa: E402
    Ackley,
    Branin,
    Griewank,
    Hartmann3,
    Hartmann6,
    Levy,
    Rosenbrock,
    SixHumpCamel,
    StyblinskiTang,
)
from hypersweep.trial import Trial, TrialState  # noqa: E402

METHODS = ("hs-auto", "hs-tpe", "hs-bo", "optuna-tpe", "optuna-gp", "random")
HYPERSWEEP = ("hs-auto", "hs-tpe", "hs-bo")
OPTUNA = ("optuna-tpe", "optuna-gp")
SLOW = ("optuna-gp", "hs-auto", "hs-bo")  # started first, for better packing
MATCH_TOLERANCE = 1.05  # "matches" Optuna: median regret at most 5 % above Optuna's


# ---------------------------------------------------------------------------------------------------------
# scikit-learn tuning tasks: CV error (1 - accuracy) on bundled data, folds computed once per process
# ---------------------------------------------------------------------------------------------------------
class _CVTask:
    """Misclassification error of a small model on breast_cancer (569 rows, standardized), averaged over
    ``repeats`` x 3-fold stratified CV (repeats make the error finer-grained than 1/569)."""

    optimum = None  # unknown: regret is measured against the best error any method found in the run
    repeats = 2
    _data: tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]] | None = None

    def _folds(self) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        if _CVTask._data is None:
            from sklearn.datasets import load_breast_cancer
            from sklearn.model_selection import RepeatedStratifiedKFold
            from sklearn.preprocessing import StandardScaler

            X, y = load_breast_cancer(return_X_y=True)
            X = StandardScaler().fit_transform(X)
            cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=self.repeats, random_state=0)
            folds = list(cv.split(X, y))
            _CVTask._data = (X, y, folds)
        return _CVTask._data

    def model(self, config: dict[str, Any]) -> Any:
        raise NotImplementedError

    def __call__(self, config: dict[str, Any]) -> float:
        X, y, folds = self._folds()
        wrong = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings of capped solvers
            for train, test in folds:
                model = self.model(config).fit(X[train], y[train])
                wrong += int(np.sum(model.predict(X[test]) != y[test]))
        return wrong / (self.repeats * len(y))


class SVCTask(_CVTask):
    """SVC: C and gamma (log scales), kernel, polynomial degree, class weights."""

    name = "svc-cancer"
    space = Space(
        {
            "C": Float(1e-3, 1e3, log=True),
            "gamma": Float(1e-5, 10.0, log=True),
            "kernel": Categorical(["rbf", "poly", "sigmoid"]),
            "degree": Int(2, 5),
            "class_weight": Categorical([None, "balanced"]),
            "max_iter": Constant(5000),
        }
    )

    def model(self, config):
        from sklearn.svm import SVC

        return SVC(**config)


class SGDTask(_CVTask):
    """Linear model trained by SGD: loss, penalty, alpha, l1_ratio, learning-rate schedule and eta0, epochs."""

    name = "sgd-cancer"
    space = Space(
        {
            "loss": Categorical(["hinge", "log_loss", "modified_huber"]),
            "penalty": Categorical(["l2", "l1", "elasticnet"]),
            "alpha": Float(1e-6, 1.0, log=True),
            "l1_ratio": Float(0.0, 1.0),
            "learning_rate": Categorical(["optimal", "invscaling", "adaptive"]),
            "eta0": Float(1e-4, 1.0, log=True),
            "max_iter": Int(5, 50, log=True),
        }
    )

    def model(self, config):
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(**config, tol=None, random_state=0)


# ---------------------------------------------------------------------------------------------------------
# held-out tasks: never used to tune a sampler; run them (--held-out) to check that a change generalizes
# ---------------------------------------------------------------------------------------------------------
class TrainingSurface:
    """A synthetic network-tuning response with a known optimum of 0: the best learning rate depends on the
    optimizer (an interaction across a categorical and a log-scale float), plus weight decay (log), depth and
    width (integers, width on a log scale) and the activation (a categorical with unequal costs)."""

    name = "training-surface"
    optimum = 0.0
    space = Space(
        {
            "lr": Float(1e-5, 1.0, log=True),
            "weight_decay": Float(1e-6, 1e-1, log=True),
            "layers": Int(1, 8),
            "units": Int(16, 1024, log=True),
            "activation": Categorical(["relu", "tanh", "gelu", "sigmoid"]),
            "optimizer": Categorical(["sgd", "adam", "rmsprop"]),
        }
    )
    _BEST_LOG_LR = {"sgd": -1.5, "adam": -3.0, "rmsprop": -3.5}
    _OPTIMIZER_COST = {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.3}
    _ACTIVATION_COST = {"relu": 0.1, "tanh": 0.4, "gelu": 0.0, "sigmoid": 1.2}

    def __call__(self, c: dict[str, Any]) -> float:
        value = (np.log10(c["lr"]) - self._BEST_LOG_LR[c["optimizer"]]) ** 2
        value += 0.3 * (np.log10(c["weight_decay"]) + 4) ** 2 + 0.2 * (c["layers"] - 4) ** 2
        value += 0.125 * (np.log2(c["units"]) - 8) ** 2
        return float(value + self._OPTIMIZER_COST[c["optimizer"]] + self._ACTIVATION_COST[c["activation"]])


class IntegerTargets:
    """Five integers in [0, 20] and a target for each: ``sum |k_i - t_i| ** 1.5``, minimum 0."""

    name = "integer-targets"
    optimum = 0.0
    space = Space({f"k{i}": Int(0, 20) for i in range(5)})
    _TARGETS = (3, 17, 8, 12, 5)

    def __call__(self, c: dict[str, Any]) -> float:
        return float(sum(abs(c[f"k{i}"] - t) ** 1.5 for i, t in enumerate(self._TARGETS)))


TASKS: dict[str, Callable[[], Any]] = {
    "branin": Branin,
    "hartmann6": Hartmann6,
    "rosenbrock-5d": lambda: Rosenbrock(dim=5),
    "ackley-10d": lambda: Ackley(dim=10),
    "svc-cancer": SVCTask,
    "sgd-cancer": SGDTask,
    "styblinski-20d": lambda: StyblinskiTang(dim=20),
}
HELD_OUT: dict[str, Callable[[], Any]] = {
    "hartmann3": Hartmann3,
    "six-hump-camel": SixHumpCamel,
    "levy-4d": lambda: Levy(dim=4),
    "griewank-8d": lambda: Griewank(dim=8),
    "training-surface": TrainingSurface,
    "integer-targets": IntegerTargets,
}
QUICK_TASKS = ("branin", "hartmann6", "svc-cancer")
ALL_TASKS = {**TASKS, **HELD_OUT}


# ---------------------------------------------------------------------------------------------------------
# one run: a plain ask/tell loop, the same for every method
# ---------------------------------------------------------------------------------------------------------
def _optuna_distributions(space: Space) -> tuple[dict[str, Any], dict[str, Any]]:
    import optuna.distributions as od

    dists, constants = {}, {}
    for name, p in space.items():
        if isinstance(p, Float):
            dists[name] = od.FloatDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, Int):
            dists[name] = od.IntDistribution(p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, Categorical):
            dists[name] = od.CategoricalDistribution(p.choices)
        else:
            constants[name] = p.value
    return dists, constants


def run_one(job: tuple[str, str, int, int]) -> tuple[str, str, int, list[float], float]:
    """(method, task, seed, objective values in order, seconds spent asking)."""
    method, task_name, seed, budget = job
    task = ALL_TASKS[task_name]()
    values: list[float] = []
    asking = 0.0
    if method in OPTUNA:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        warnings.filterwarnings("ignore")  # GPSampler is marked experimental
        make = optuna.samplers.TPESampler if method == "optuna-tpe" else optuna.samplers.GPSampler
        study = optuna.create_study(sampler=make(seed=seed))
        dists, constants = _optuna_distributions(task.space)
        for _ in range(budget):
            start = time.perf_counter()
            trial = study.ask(dists)
            asking += time.perf_counter() - start
            value = task({**trial.params, **constants})
            study.tell(trial, value)
            values.append(value)
    else:
        name = {"hs-auto": "auto", "hs-tpe": "tpe", "hs-bo": "bo", "random": "random"}[method]
        sampler = get_sampler(name, seed=seed)
        trials: list[Trial] = []
        for number in range(budget):
            start = time.perf_counter()
            config = sampler.ask(task.space, trials, [], "minimize")
            asking += time.perf_counter() - start
            value = task(config)
            trials.append(Trial(number, config, TrialState.COMPLETE, value=value))
            values.append(value)
    return method, task_name, seed, values, asking


# ---------------------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------------------
def _ratio(a: float, b: float) -> float:
    if a == b:
        return 1.0
    return a / b if b > 0 else float("inf")


def report(
    results: list[tuple[str, str, int, list[float], float]], tasks: list[str], budgets: list[int], methods: list[str]
) -> dict[str, Any]:
    """Print the table of median regrets and ratios; return the medians and the verdicts."""
    medians: dict[tuple[str, str, int], float] = {}
    ask_time: dict[str, list[float]] = {m: [] for m in methods}
    for task_name in tasks:
        runs = [r for r in results if r[1] == task_name]
        optimum = ALL_TASKS[task_name]().optimum
        reference = optimum if optimum is not None else min(min(r[3]) for r in runs)
        for method in methods:
            mine = [r for r in runs if r[0] == method]
            best = np.array([np.minimum.accumulate(r[3]) for r in mine])
            for b in budgets:
                medians[task_name, method, b] = float(np.median(best[:, b - 1] - reference))
            ask_time[method] += [r[4] / len(r[3]) for r in mine]

    # the better of Optuna's samplers on each task and budget: the peer the default is held to
    optuna_in = [m for m in OPTUNA if m in methods]
    for key in {(t, b) for t in tasks for b in budgets}:
        if optuna_in:
            medians[key[0], "optuna-best", key[1]] = min(medians[key[0], m, key[1]] for m in optuna_in)
    ratio_cols = [
        (m, peer)
        for m, peers in (("hs-auto", ("optuna-best", "random")), ("hs-tpe", ("optuna-tpe", "random")),
                         ("hs-bo", ("optuna-best",)))
        if m in methods
        for peer in peers
        if peer in methods or (peer == "optuna-best" and optuna_in)
    ]
    head = f"{'task':<15}{'budget':>7}" + "".join(f"{m:>12}" for m in methods)
    print("\nMedian simple regret (lower is better); ratios: ours / peer's median (optuna-best: the better of "
          + " and ".join(optuna_in) + ")")
    print(head + "".join(f"{m + '/' + peer:>24}" for m, peer in ratio_cols))
    print("-" * (len(head) + 24 * len(ratio_cols)))
    for task_name in tasks:
        for b in budgets:
            row = f"{task_name:<15}{b:>7}" + "".join(f"{medians[task_name, m, b]:>12.4g}" for m in methods)
            for m, peer in ratio_cols:
                row += f"{_ratio(medians[task_name, m, b], medians[task_name, peer, b]):>24.3f}"
            print(row)
    print("\nMean seconds per ask: " + ", ".join(f"{m} {np.mean(t):.4f}" for m, t in ask_time.items()))

    def count(method: str, peer: str, b: int, strict: bool) -> list[str]:
        if strict:
            return [t for t in tasks if medians[t, method, b] < medians[t, peer, b]]
        return [t for t in tasks if medians[t, method, b] <= MATCH_TOLERANCE * medians[t, peer, b]]

    verdicts: dict[Any, Any] = {}
    n = len(tasks)
    targets = [("hs-auto", "optuna-best", max(n - 1, 1)), ("hs-tpe", "optuna-tpe", max(n - 2, 1)),
               ("hs-bo", "optuna-best", max(n - 1, 1))]
    print(f"\nTargets (match = median regret <= {MATCH_TOLERANCE:.2f} x the peer's; beat random = strictly lower):")
    for method, peer, need in targets:
        if method not in methods or "random" not in methods or (peer != "optuna-best" and peer not in methods):
            continue
        if peer == "optuna-best" and not optuna_in:
            continue
        for b in budgets:
            beats, matches = count(method, "random", b, True), count(method, peer, b, False)
            ok = (len(beats) == n, len(matches) >= need)
            verdicts[method, b] = ok
            print(
                f"  budget {b:>4} {method:<8} beats random on all {n}: {'YES' if ok[0] else 'no'} ({len(beats)}/{n}); "
                f"matches or beats {peer} on >= {need}: {'YES' if ok[1] else 'no'} ({len(matches)}/{n}; misses: "
                f"{', '.join(t for t in tasks if t not in matches) or 'none'})"
            )
    return {"medians": medians, "verdicts": verdicts}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="runs per method and task (default 10)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds are first-seed .. first-seed + seeds - 1 (default 0): check a change on seeds "
                             "other than the reported ones, since 10-seed medians of equal samplers often differ")
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100], help="evaluations to report at")
    parser.add_argument("--tasks", nargs="+", choices=list(ALL_TASKS),
                        help="subset of tasks (default: the seven of the targets)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--quick", action="store_true", help=f"3 seeds on {', '.join(QUICK_TASKS)}")
    parser.add_argument("--held-out", action="store_true",
                        help=f"the tasks no sampler was tuned on instead: {', '.join(HELD_OUT)}")
    args = parser.parse_args(argv)
    seeds = 3 if args.quick else args.seeds
    tasks = args.tasks or list(HELD_OUT if args.held_out else QUICK_TASKS if args.quick else TASKS)
    budgets = sorted(set(args.budgets))
    if seeds < 1 or budgets[0] < 1:
        parser.error("--seeds and --budgets must be positive")

    logging.getLogger("optuna").setLevel(logging.ERROR)
    jobs = [(m, t, s, budgets[-1]) for m in args.methods for t in tasks
            for s in range(args.first_seed, args.first_seed + seeds)]
    jobs.sort(key=lambda job: job[0] not in SLOW)
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        results = pool.map(run_one, jobs, chunksize=1)
    elapsed = time.perf_counter() - start
    report(results, tasks, budgets, list(args.methods))
    print(f"\n{len(jobs)} runs in {elapsed:.0f} s on {args.processes} processes.")
    print("Reproduce: python benchmarks/sampler_quality.py " + " ".join(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
