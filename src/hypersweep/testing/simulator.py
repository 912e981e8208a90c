"""Replays of tabulated learning curves that test schedulers in seconds: `simulate` runs the real `Study`
loop on a virtual clock (`hypersweep.testing.clock`), and driver-mode runners drive brackets directly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hypersweep.schedulers import BaseScheduler, Bracket, Decision, Hyperband
from hypersweep.testing.clock import SimulatedExecutor, now, sleep
from hypersweep.trial import Trial

__all__ = [
    "DriverRun",
    "Event",
    "HyperbandRun",
    "SimulationResult",
    "replay_objective",
    "run_bracket",
    "run_hyperband",
    "simulate",
    "synthetic_curves",
]

#: curves[config][step - 1] is the value config reports at `step` (steps 1..len(curve)); a tuple of values,
#: one per objective, for a study of several objectives.
Curves = Sequence[Sequence[Any]]


def synthetic_curves(
    n_configs: int, max_steps: int, *, seed: int = 0, noise: float = 0.0, crossing: bool = True
) -> list[list[float]]:
    """Decreasing loss curves ``final + gap * step**-rate`` (+ Gaussian noise), seeded.

    With ``crossing=False`` every curve has gap 1 and rate 0.5, so (without noise) the ranking of the
    configs is the same at every step; otherwise gaps and rates vary and curves may cross.

    >>> curves = synthetic_curves(3, 5, crossing=False)
    >>> all(c[0] > c[-1] for c in curves)
    True
    """
    rng = np.random.default_rng(seed)
    final = rng.uniform(0.0, 1.0, n_configs)
    gap = rng.uniform(0.2, 2.0, n_configs) if crossing else np.ones(n_configs)
    rate = rng.uniform(0.2, 1.0, n_configs) if crossing else np.full(n_configs, 0.5)
    steps = np.arange(1, max_steps + 1)
    table = final[:, None] + gap[:, None] * steps[None, :] ** -rate[:, None]
    table += noise * rng.standard_normal(table.shape)
    return table.tolist()


@dataclass(frozen=True)
class Event:
    """One report in a simulation: at virtual `time`, trial `number` reported `value` at `step`, and the
    scheduler decided `decision`."""

    time: float
    number: int
    step: int
    value: float | tuple[float, ...]
    decision: Decision


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation did: final `trials` (by number), every report in order, and the virtual end time."""

    trials: list[Trial]
    events: list[Event]
    makespan: float

    @property
    def total_steps(self) -> int:
        """Resource consumed: the number of steps run over all trials (a step run again counts again)."""
        return len(self.events)

    @property
    def steps(self) -> dict[int, int]:
        """trial number -> the last step it reached."""
        return {t.number: t.last_step or 0 for t in self.trials}


def replay_objective(
    curves: Curves, step_times: Sequence[float] | None = None, events: list[Event] | None = None
) -> Callable[[dict[str, Any], Any], float]:
    """An objective that replays ``curves[config["curve"]]`` one step at a time, each step taking
    ``step_times[curve]`` virtual seconds (1 by default), as a training script would: it resumes after its
    checkpoint, reports every step, saves a checkpoint when told to pause, and stops when told to.
    Each report is appended to ``events``. A curve of tuples reports (and returns) one value per objective.
    """
    times = [1.0] * len(curves) if step_times is None else list(step_times)
    log = events if events is not None else []

    def replay(config: dict[str, Any], trial: Any) -> float:
        index = int(config["curve"])
        curve = curves[index]
        start = trial.load_checkpoint() if trial.checkpoint is not None else 0
        value = _as_value(curve[start - 1]) if start else float("nan")
        for step in range(start + 1, len(curve) + 1):
            sleep(times[index])
            value = _as_value(curve[step - 1])
            trial.report(value, step=step)
            log.append(Event(now(), trial.number, step, value, Decision(trial.decision)))
            if trial.should_stop():
                if trial.decision == Decision.PAUSE:
                    trial.save_checkpoint(step, step=step)
                break
        return value

    return replay


def _as_value(x: Any) -> float | tuple[float, ...]:
    return tuple(float(v) for v in x) if isinstance(x, (list, tuple)) else float(x)


def simulate(
    scheduler: BaseScheduler,
    curves: Curves,
    *,
    n_workers: int = 1,
    direction: str = "minimize",
    directions: Sequence[str] | None = None,
    step_times: Sequence[float] | None = None,
    n_trials: int | None = None,
    timeout: float | None = None,
) -> SimulationResult:
    """Replay `curves` through `scheduler` on the real `Study` loop, with `n_workers` virtual workers.

    Trial i replays ``curves[i]`` (`replay_objective`); each of its steps takes ``step_times[i]`` virtual
    seconds (default 1). A free worker first resumes a paused trial the scheduler promotes, else starts the
    next trial, exactly as ``study.optimize`` does with any executor; checkpoints go to an in-memory store.
    ``timeout`` (virtual seconds) stops starting trials then, as ``optimize(timeout=...)`` does.
    ``directions`` (one per objective) replays curves of tuples in a study of several objectives.

    >>> from hypersweep.schedulers import NoScheduler
    >>> simulate(NoScheduler(), [[3.0, 2.0], [1.0, 0.5]], n_workers=2).total_steps
    4
    """
    import hypersweep as hs
    from hypersweep.artifacts import MemoryArtifactStore

    n = len(curves) if n_trials is None else min(n_trials, len(curves))
    events: list[Event] = []
    study = hs.create_study(
        {"curve": hs.Int(0, max(len(curves) - 1, 1))},
        direction=direction,
        directions=directions,
        sampler="random",
        scheduler=scheduler,
        artifacts=MemoryArtifactStore(),
    )
    for i in range(n):
        study.enqueue({"curve": i})
    executor = SimulatedExecutor(n_workers)
    try:
        study.optimize(replay_objective(curves, step_times, events), n_trials=n, timeout=timeout,
                       executor=executor, progress=False)
    finally:
        executor.shutdown()
    return SimulationResult(study.trials, events, executor.time())


# --------------------------------------------------------------------------------------------------------
# Driver mode: a driver that obeys `instructions` one step (one partial_fit call) at a time.

Score = Callable[[Hashable, int], float]  # score(model_id, step), higher is better


@dataclass(frozen=True)
class DriverRun:
    """What a driver did in one bracket: ``info`` (model -> [(step, score), ...]) and the bracket's rung
    ``resources``; `metadata` has the shape of `Bracket.metadata`, counted from what actually ran."""

    info: dict[Hashable, list[tuple[int, float]]]
    resources: tuple[int, ...]
    steps: dict[Hashable, int]

    @property
    def metadata(self) -> dict[str, Any]:
        """Actual ``n_models`` (models run), ``partial_fit_calls`` and models reaching each rung."""
        return {
            "n_models": sum(1 for s in self.steps.values() if s > 0),
            "partial_fit_calls": sum(self.steps.values()),
            "rungs": [
                {"resource": r, "n_models": sum(1 for s in self.steps.values() if s >= r)}
                for r in self.resources
            ],
        }


@dataclass(frozen=True)
class HyperbandRun:
    """Per-bracket `DriverRun` of a Hyperband driver; `metadata` has the shape of `Hyperband.metadata`."""

    runs: dict[int, DriverRun]

    @property
    def metadata(self) -> dict[str, Any]:
        brackets = [{"bracket": s, **run.metadata} for s, run in self.runs.items()]
        return {
            "n_models": sum(b["n_models"] for b in brackets),
            "partial_fit_calls": sum(b["partial_fit_calls"] for b in brackets),
            "brackets": brackets,
        }


def run_bracket(
    bracket: Bracket,
    score: Score,
    model_ids: Sequence[Hashable] | None = None,
    *,
    score_every_step: bool = True,
) -> DriverRun:
    """Drive `bracket` to the end on a deterministic fake model whose score is ``score(model_id, step)``.

    ``score_every_step=False`` records a score only after each batch of steps (as dask-ml does).

    >>> from hypersweep.schedulers import SuccessiveHalving
    >>> run = run_bracket(SuccessiveHalving(max_resource=9).bracket(9), lambda m, step: m)
    >>> run.steps
    {0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 3, 7: 3, 8: 9}
    """
    info = {m: [] for m in (range(bracket.n_models) if model_ids is None else model_ids)}
    steps = dict.fromkeys(info, 0)
    while todo := bracket.instructions(info):
        _obey(todo, info, steps, score, score_every_step)
    return DriverRun(info, tuple(r.resource for r in bracket.rungs), steps)


def run_hyperband(hyperband: Hyperband, score: Score, *, score_every_step: bool = True) -> HyperbandRun:
    """Drive all brackets of `hyperband` together through `Hyperband.instructions`; model ids are
    ``(bracket, i)``."""
    brackets = hyperband.brackets()
    info = {s: {(s, i): [] for i in range(b.n_models)} for s, b in brackets.items()}
    steps = {s: dict.fromkeys(models, 0) for s, models in info.items()}
    while todo := hyperband.instructions(info):
        for s, instructions in todo.items():
            _obey(instructions, info[s], steps[s], score, score_every_step)
    return HyperbandRun(
        {s: DriverRun(info[s], tuple(r.resource for r in b.rungs), steps[s]) for s, b in brackets.items()}
    )


def _obey(
    instructions: Mapping[Hashable, int],
    info: dict[Hashable, list[tuple[int, float]]],
    steps: dict[Hashable, int],
    score: Score,
    every: bool,
) -> None:
    if not any(n > 0 for n in instructions.values()):
        raise RuntimeError(f"instructions {dict(instructions)} advance no model yet do not say done ({{}})")
    for model, n in instructions.items():
        for _ in range(n):
            steps[model] += 1
            if every:
                info[model].append((steps[model], score(model, steps[model])))
        if n and not every:
            info[model].append((steps[model], score(model, steps[model])))
