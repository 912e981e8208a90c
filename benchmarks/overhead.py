"""Engine overhead against Optuna, measured in one run: ask+tell cost, SQL storage cost, flatness.

usage: python benchmarks/overhead.py [--trials 1000] [--big 20000] [--postgres URL] [--skip-postgres]
Prints ratios hypersweep / Optuna (lower is better) and per-trial costs.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import uuid

import hypersweep as hs

SPACE5 = {f"x{i}": (-5.0, 5.0) for i in range(5)}


def sphere(config):
    return float(sum(v * v for v in config.values()))


def _timed_loop(one_trial, n, window):
    """Seconds per trial over the last `window` of `n` calls of `one_trial`, and the total time."""
    window = min(window, n)
    start = time.perf_counter()
    mark = start
    for i in range(n):
        if i == n - window:
            mark = time.perf_counter()
        one_trial()
    end = time.perf_counter()
    return (end - mark) / window, end - start


# --- hypersweep --------------------------------------------------------------------------------------------
def hs_ask_tell(n, sampler, storage=None, window=100):
    """Seconds per ask+tell over the last `window` of `n` trials, and the total time."""
    study = hs.create_study(SPACE5, sampler=sampler, storage=storage, seed=0, name=f"b-{uuid.uuid4().hex[:8]}")

    def one_trial():
        trial = study.ask()
        study.tell(trial, sphere(trial.config))

    return _timed_loop(one_trial, n, window)


# --- optuna --------------------------------------------------------------------------------------------------
def optuna_ask_tell(n, sampler_name, storage=None, window=100):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=0) if sampler_name == "tpe" else optuna.samplers.RandomSampler(seed=0)
    if storage and storage.startswith("postgresql://"):  # same driver as hypersweep (psycopg2)
        storage = storage.replace("postgresql://", "postgresql+psycopg2://", 1)
    study = optuna.create_study(sampler=sampler, storage=storage, study_name=f"b-{uuid.uuid4().hex[:8]}")

    def one_trial():
        trial = study.ask()
        config = {name: trial.suggest_float(name, -5.0, 5.0) for name in SPACE5}
        study.tell(trial, sphere(config))

    return _timed_loop(one_trial, n, window)


def _curve(config, trial):
    value = None
    for step in range(1, 28):
        value = sphere(config) + 1.0 / step
        trial.report(value, step)
        if trial.should_stop():
            break
    return value


def cost_per_report(n, scheduler):
    """Seconds per trial.report under ``scheduler`` (serial, in memory), each trial reporting 27 steps unless
    stopped, over the last tenth of ``n`` trials (so the cost at that size, not the average up to it)."""
    study = hs.create_study(SPACE5, sampler="random", seed=0, scheduler=scheduler)
    study.optimize(_curve, n_trials=n - n // 10, progress=False)
    reports_before = sum(len(t.intermediate) for t in study.trials)
    start = time.perf_counter()
    study.optimize(_curve, n_trials=n // 10, progress=False)
    elapsed = time.perf_counter() - start
    return elapsed / (sum(len(t.intermediate) for t in study.trials) - reports_before)


def optuna_cost_per_report(n):
    """The same for Optuna's SuccessiveHalvingPruner (what its users have for ASHA-style stopping)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=optuna.pruners.SuccessiveHalvingPruner())

    def objective(trial):
        config = {f"x{i}": trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(5)}
        value = None
        for step in range(1, 28):
            value = sphere(config) + 1.0 / step
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=n - n // 10)
    before = sum(len(t.intermediate_values) for t in study.trials)
    start = time.perf_counter()
    study.optimize(objective, n_trials=n // 10)
    elapsed = time.perf_counter() - start
    return elapsed / (sum(len(t.intermediate_values) for t in study.trials) - before)


def _row(label, ours, theirs, target=None):
    ratio = ours / theirs
    verdict = "" if target is None else ("  OK" if ratio <= target else f"  MISSES target <= {target}")
    print(f"{label:<46} hypersweep {ours * 1e3:9.2f} ms   optuna {theirs * 1e3:9.2f} ms   ratio {ratio:5.2f}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--big", type=int, default=20000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--tpe-sql", action="store_true", help="also time TPE on SQLite (Optuna takes minutes)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    n = args.trials

    print(f"== ask+tell per trial at trial {n} (5-D, in memory, TPE)")
    ours, _ = hs_ask_tell(n, "tpe")
    theirs, _ = optuna_ask_tell(n, "tpe")
    _row(f"TPE ask+tell at trial {n}", ours, theirs, target=0.5)

    print(f"== {n} trials on SQL storage (random sampler on both sides, so storage cost is what differs)")
    with tempfile.TemporaryDirectory() as tmp:
        _, ours = hs_ask_tell(n, "random", f"sqlite:///{tmp}/hs.db")
        _, theirs = optuna_ask_tell(n, "random", f"sqlite:///{tmp}/optuna.db")
        _row(f"{n} trials total, SQLite", ours, theirs, target=0.25)
    if not args.skip_postgres:
        _, ours = hs_ask_tell(n, "random", args.postgres)
        _, theirs = optuna_ask_tell(n, "random", args.postgres)
        _row(f"{n} trials total, PostgreSQL", ours, theirs, target=0.25)
    if args.tpe_sql:
        print(f"== {n} trials on SQL storage with TPE on both sides")
        with tempfile.TemporaryDirectory() as tmp:
            _, ours = hs_ask_tell(n, "tpe", f"sqlite:///{tmp}/hs.db")
            _, theirs = optuna_ask_tell(n, "tpe", f"sqlite:///{tmp}/optuna.db")
            _row(f"{n} trials total, SQLite, TPE", ours, theirs)

    print(f"== flatness: engine cost per trial at trial {n} vs trial {args.big} (random sampler)")
    for label, storage in (("in memory", None), ("SQLite", "sqlite")):
        with tempfile.TemporaryDirectory() as tmp:
            url = None if storage is None else f"sqlite:///{os.path.join(tmp, 'flat.db')}"
            small, _ = hs_ask_tell(n, "random", url)
            url = None if storage is None else f"sqlite:///{os.path.join(tmp, 'flat2.db')}"
            big, _ = hs_ask_tell(args.big, "random", url, window=1000)
        print(f"{label:<12} {small * 1e3:7.3f} ms/trial at {n}, {big * 1e3:7.3f} ms/trial at {args.big}: "
              f"ratio {big / small:4.2f} ({'flat' if big / small < 1.5 else 'GROWS'})")
    print("== scheduler cost per report (serial, in memory), at 500 and 5,000 trials: flat means O(1) in trials")
    schedulers = {
        "asha": lambda: hs.schedulers.ASHA(max_resource=27),
        "asha promote": lambda: hs.schedulers.ASHA(max_resource=27, promote=True),
        "hyperband": lambda: hs.schedulers.Hyperband(max_resource=27),
        "hyperband sync": lambda: hs.schedulers.Hyperband(max_resource=27, synchronous=True),
        "median": lambda: hs.schedulers.MedianStopping(),
    }
    for label, make in schedulers.items():
        small, big = cost_per_report(500, make()), cost_per_report(5000, make())
        print(f"{label:<15} {small * 1e3:7.3f} ms at 500, {big * 1e3:7.3f} ms at 5,000: ratio {big / small:4.2f} "
              f"({'flat' if big / small < 1.5 else 'GROWS'})")
    small, big = optuna_cost_per_report(500), optuna_cost_per_report(5000)
    print(f"{'optuna SHA':<15} {small * 1e3:7.3f} ms at 500, {big * 1e3:7.3f} ms at 5,000: ratio {big / small:4.2f}")
    ours = cost_per_report(5000, schedulers["asha"]())
    _row("ASHA report at trial 5,000", ours, big)
    print("reproduce: python benchmarks/overhead.py", f"--trials {n} --big {args.big}")


if __name__ == "__main__":
    main()
