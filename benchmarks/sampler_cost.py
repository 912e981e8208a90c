"""Suggestion cost of the default sampler (``sampler="auto"``) against Optuna's GP and TPE samplers.

Seconds per ask, measured where the issue asks: around trial 50 (hs-auto vs Optuna's GPSampler, each running
its own ask/tell loop from the first trial) and around trial 5,000 (hs-auto vs Optuna's TPESampler, each
given the same 5,000 completed random trials, then asked and told a few more). The objective is a cheap
quadratic over the unit cube, so only the samplers' own cost is measured. The machine may be shared: the
ratios (lower is better; the target is <= 0.5) are what matter.

Run: python benchmarks/sampler_cost.py            (add --quick for fewer repeats)
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, as a worker would have
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from hypersweep.samplers import get_sampler  # noqa: E402
from hypersweep.space import Float, Space  # noqa: E402
from hypersweep.trial import Trial, TrialState  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sampler_quality import TASKS, _optuna_distributions  # noqa: E402

SPACES: dict[str, Any] = {
    "5d": lambda: Space({f"x{i}": Float(0.0, 1.0) for i in range(5)}),
    "svc (mixed)": lambda: TASKS["svc-cancer"]().space,
    "20d": lambda: TASKS["styblinski-20d"]().space,
}


def _objective(space: Space, config: dict[str, Any]) -> float:
    u = space.encode(config)
    return float(np.sum((u - 0.3) ** 2))


# --- around trial 50: each sampler's own loop -------------------------------------------------------------
def hs_loop(space: Space, seed: int, n: int, window: tuple[int, int]) -> float:
    sampler = get_sampler("auto", seed=seed)
    trials: list[Trial] = []
    times = []
    for number in range(n):
        start = time.perf_counter()
        config = sampler.ask(space, trials, [], "minimize")
        times.append(time.perf_counter() - start)
        trials.append(Trial(number, config, TrialState.COMPLETE, value=_objective(space, config)))
    return float(np.mean(times[window[0] : window[1]]))


def optuna_loop(space: Space, seed: int, n: int, window: tuple[int, int]) -> float:
    import optuna

    dists, constants = _optuna_distributions(space)
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        trial = study.ask(dists)
        times.append(time.perf_counter() - start)
        study.tell(trial, _objective(space, {**trial.params, **constants}))
    return float(np.mean(times[window[0] : window[1]]))


# --- around trial 5,000: the same completed history for both ----------------------------------------------
def _history(space: Space, n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def hs_big(space: Space, configs: list[dict[str, Any]], n_asks: int) -> float:
    sampler = get_sampler("auto", seed=0)
    trials = [Trial(i, c, TrialState.COMPLETE, value=_objective(space, c)) for i, c in enumerate(configs)]
    times = []
    for _ in range(n_asks + 1):  # the first ask encodes the whole history once: a warm-up, not counted
        start = time.perf_counter()
        config = sampler.ask(space, trials, [], "minimize")
        times.append(time.perf_counter() - start)
        trials.append(Trial(len(trials), config, TrialState.COMPLETE, value=_objective(space, config)))
    assert sampler.current == "tpe", sampler.current
    return float(np.mean(times[1:]))


def optuna_big(space: Space, configs: list[dict[str, Any]], n_asks: int) -> float:
    import optuna

    dists, constants = _optuna_distributions(space)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={k: v for k, v in c.items() if k in dists},
                distributions=dists,
                value=_objective(space, c),
            )
            for c in configs
        ]
    )
    times = []
    for _ in range(n_asks + 1):
        start = time.perf_counter()
        trial = study.ask(dists)
        times.append(time.perf_counter() - start)
        study.tell(trial, _objective(space, {**trial.params, **constants}))
    return float(np.mean(times[1:]))


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="seeds of the trial-50 loops (default 3)")
    parser.add_argument("--asks", type=int, default=10, help="asks measured at 5,000 trials (default 10)")
    parser.add_argument("--big", type=int, default=5000, help="history size of the second measure")
    parser.add_argument("--spaces", nargs="+", choices=list(SPACES), default=list(SPACES))
    parser.add_argument("--quick", action="store_true", help="1 repeat, 5 asks")
    args = parser.parse_args(argv)
    repeats, asks = (1, 5) if args.quick else (args.repeats, args.asks)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("optuna").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    out: dict[str, dict[str, float]] = {}
    print(f"Seconds per ask (median of {repeats} runs at trial 45-55; mean of {asks} asks after {args.big} trials)")
    print(f"{'space':<14}{'hs-auto@50':>12}{'optuna-gp@50':>14}{'ratio':>8}"
          f"{'hs-auto@' + str(args.big):>15}{'optuna-tpe@' + str(args.big):>17}{'ratio':>8}")
    for name in args.spaces:
        space = SPACES[name]()
        hs50 = float(np.median([hs_loop(space, s, 56, (45, 56)) for s in range(repeats)]))
        gp50 = float(np.median([optuna_loop(space, s, 56, (45, 56)) for s in range(repeats)]))
        configs = _history(space, args.big, seed=0)
        hs_n = hs_big(space, configs, asks)
        tpe_n = optuna_big(space, configs, asks)
        out[name] = {"hs50": hs50, "gp50": gp50, "ratio50": hs50 / gp50, "hsN": hs_n, "tpeN": tpe_n,
                     "ratioN": hs_n / tpe_n}
        print(f"{name:<14}{hs50:>12.4f}{gp50:>14.4f}{hs50 / gp50:>8.3f}{hs_n:>15.4f}{tpe_n:>17.4f}"
              f"{hs_n / tpe_n:>8.3f}", flush=True)
    ok50 = all(r["ratio50"] <= 0.5 for r in out.values())
    okN = all(r["ratioN"] <= 0.5 for r in out.values())
    print(f"\nTargets: hs-auto <= 0.5 x Optuna GP at 50 trials: {'YES' if ok50 else 'no'}; "
          f"hs-auto <= 0.5 x Optuna TPE at {args.big} trials: {'YES' if okN else 'no'}")
    print("Reproduce: python benchmarks/sampler_cost.py " + " ".join(sys.argv[1:] if argv is None else argv))
    return out


if __name__ == "__main__":
    main()
