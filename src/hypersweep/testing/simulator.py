"""Replays of tabulated learning curves that test schedulers in milliseconds: a virtual-clock trial-mode
simulator (N virtual workers driving a scheduler as the Study does) and driver-mode runners for brackets.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hypersweep.schedulers import BaseScheduler, Bracket, Decision, Hyperband
from hypersweep.trial import Trial, TrialState

__all__ = [
    "DriverRun",
    "Event",
    "HyperbandRun",
    "SimulationResult",
    "run_bracket",
    "run_hyperband",
    "simulate",
    "synthetic_curves",
]

#: curves[config][step - 1] is the value config reports at `step` (steps 1..len(curve)).
Curves = Sequence[Sequence[float]]


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
    """One report in a simulation: at virtual `time`, trial `number` reported `value` at `step`."""

    time: float
    number: int
    step: int
    value: float
    decision: Decision


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation did: final `trials` (by number), every report in order, and the virtual end time."""

    trials: list[Trial]
    events: list[Event]
    makespan: float

    @property
    def total_steps(self) -> int:
        """Resource consumed: the number of steps run over all trials."""
        return len(self.events)

    @property
    def steps(self) -> dict[int, int]:
        """trial number -> the last step it reached."""
        return {t.number: t.last_step or 0 for t in self.trials}


def simulate(
    scheduler: BaseScheduler,
    curves: Curves,
    *,
    n_workers: int = 1,
    direction: str = "minimize",
    step_times: Sequence[float] | None = None,
    n_trials: int | None = None,
) -> SimulationResult:
    """Replay `curves` through `scheduler` with `n_workers` virtual workers and a virtual clock.

    Trial i replays ``curves[i]``; each of its steps takes ``step_times[i]`` virtual seconds (default 1).
    A free worker first resumes the first trial of ``scheduler.promotable(...)``, else starts the next
    trial (``on_trial_start`` gives its system attrs), else idles. After every step the trial is shown
    to ``decide`` with all trials, as the Study would: CONTINUE runs the next step (the trial is COMPLETE
    after its last one), STOP and PAUSE record it as PRUNED. Ties in time go to the earlier event.

    >>> from hypersweep.schedulers import NoScheduler
    >>> simulate(NoScheduler(), [[3.0, 2.0], [1.0, 0.5]], n_workers=2).total_steps
    4
    """
    n = len(curves) if n_trials is None else min(n_trials, len(curves))
    times = [1.0] * len(curves) if step_times is None else list(step_times)
    return _Replay(scheduler, curves, n_workers, direction, times, n).run()


class _Replay:
    """The event loop of `simulate`: a heap of (time the next step ends, tie-break, trial number)."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        curves: Curves,
        n_workers: int,
        direction: str,
        step_times: list[float],
        n_trials: int,
    ) -> None:
        self.scheduler, self.curves, self.direction = scheduler, curves, direction
        self.step_times, self.n_trials = step_times, n_trials
        self.idle = n_workers
        self.trials: dict[int, Trial] = {}
        self.events: list[Event] = []
        self.queue: list[tuple[float, int, int]] = []
        self.order = itertools.count()
        self.started = 0

    def run(self) -> SimulationResult:
        time = 0.0
        self._fill(time)
        while self.queue:
            time, _, number = heapq.heappop(self.queue)
            if not self._step(number, time):
                self.idle += 1
            self._fill(time)
        return SimulationResult(sorted(self.trials.values(), key=lambda t: t.number), self.events, time)

    def _fill(self, time: float) -> None:
        while self.idle:
            number = self._next_job()
            if number is None:
                return
            self.idle -= 1
            self._push(number, time)

    def _next_job(self) -> int | None:
        for number in self.scheduler.promotable(list(self.trials.values()), self.direction):
            trial = self.trials[number]
            if trial.state is TrialState.PRUNED and trial.last_step < len(self.curves[number]):
                self.trials[number] = trial.evolve(state=TrialState.RUNNING)
                return number
        if self.started >= self.n_trials:
            return None
        number, self.started = self.started, self.started + 1
        attrs = self.scheduler.on_trial_start(number, list(self.trials.values()))
        self.trials[number] = Trial(
            number, {"curve": number}, TrialState.RUNNING, system_attrs=dict(attrs), trial_id=number
        )
        return number

    def _push(self, number: int, time: float) -> None:
        heapq.heappush(self.queue, (time + self.step_times[number], next(self.order), number))

    def _step(self, number: int, time: float) -> bool:
        """Report the next step of trial `number`; True if it keeps its worker."""
        trial = self.trials[number]
        step = (trial.last_step or 0) + 1
        value = float(self.curves[number][step - 1])
        trial = self.trials[number] = trial.evolve(intermediate={**trial.intermediate, step: value})
        decision = self.scheduler.decide(trial, list(self.trials.values()), self.direction)
        self.events.append(Event(time, number, step, value, decision))
        if decision is Decision.CONTINUE and step < len(self.curves[number]):
            self._push(number, time)
            return True
        state = TrialState.COMPLETE if decision is Decision.CONTINUE else TrialState.PRUNED
        self.trials[number] = trial.evolve(state=state, value=value)
        return False


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
