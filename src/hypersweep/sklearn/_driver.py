"""The multi-fidelity driver of the ``partial_fit`` searches: the engine decides, the backend trains.

Every decision comes from the engine through the study's driver API: configurations from its sampler
(`Study.start_trial`), which models to train further and by how much from its scheduler (`Study.next_steps`
over a `Brackets` plan), scores recorded with `Study.report`, ends with `Study.tell`, models saved with
`Study.save_checkpoint`. This module only keeps the models busy: each instruction becomes one task (a chain of
``partial_fit`` calls on the next data blocks, then a score) on the backend, and as soon as any task
finishes the study is asked again, so a free worker never waits for a slow bracket.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hypersweep.schedulers import Bracket
from hypersweep.sklearn import _tasks
from hypersweep.sklearn._backend import Backend, _cores
from hypersweep.sklearn._params import ParamSpace
from hypersweep.trial import TrialState

__all__ = ["Data", "Driver", "ModelRun"]

logger = logging.getLogger("hypersweep.sklearn")


@dataclass
class Data:
    """Training blocks and test folds, as backend handles: ``train[j][f]`` is fold f's ``(X, y)`` of block j,
    ``test[f]`` fold f's test ``(X, y)``. Each fold of a model trains as a task of its own."""

    train: list[Any]
    test: Any
    n_folds: int


@dataclass
class ModelRun:
    """One model of the search (one trial of the study) and what happened to it."""

    number: int
    model_id: Hashable
    bracket: int
    params: dict[str, Any]
    handle: Any = None  # the model: per fold, where it lives
    calls: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    pending: Any = None  # per fold, the record of the task in flight
    pending_model: Any = None
    target: int = 0  # steps the model will hold when the task in flight finishes
    goal: int = 0  # steps at which it is scored next
    mode: str = "alone"  # how its task in flight runs: alone, beside others on threads, or on a helper process
    state: str = "alive"  # alive, done (finished its bracket or converged), pruned, failed

    @property
    def score(self) -> float:
        return self.records[-1]["score"] if self.records else -math.inf

    def values(self, objectives: Sequence[str]) -> tuple[float, ...]:
        """The latest score of each metric in ``objectives`` (NaN where it has none)."""
        last = self.records[-1] if self.records else {}
        return tuple(float(last.get(f"score_{name}", math.nan)) for name in objectives)


class Driver:
    """Runs a planned set of brackets to the end (or to an interrupt) on one study; see the module doc."""

    def __init__(
        self,
        *,
        study: Any,
        plan: Mapping[int, Bracket],
        model_id: Callable[[int, int], Hashable],
        estimator: Any,
        space: ParamSpace,
        data: Data,
        backend: Backend,
        scorers: dict[str, Any],
        refit: str,
        fit_params: dict[str, Any],
        resource: str,
        max_iter: int,
        patience: int,
        tol: float | None,
        score_every: int | None,
        seed: int,
        lazy: bool,
        checkpoint: bool,
        error_score: Any,
        model_seeds: bool,
        log_every: int = 0,
        prefix: str = "",
        objectives: Sequence[str] = (),
    ) -> None:
        self.study, self.plan, self.model_id = study, dict(plan), model_id
        self.estimator, self.space, self.data, self.backend = estimator, space, data, backend
        self.scorers, self.refit, self.fit_params = scorers, refit, fit_params
        self.resource, self.max_iter = resource, max_iter
        self.patience, self.tol, self.score_every = patience, tol, score_every
        self.lazy, self.checkpoint, self.error_score = lazy, checkpoint, error_score
        self.model_seeds = model_seeds
        self.log_every, self.prefix = log_every, prefix
        self.objectives = tuple(objectives)  # several metrics searched as objectives (a study of several)
        self.seed = seed
        self.models: dict[int, ModelRun] = {}
        self.history: list[dict[str, Any]] = []
        self._order: list[int] = []
        self._rng = np.random.RandomState(seed)
        self._started: set[int] = set()
        self._start = time.monotonic()
        self._queue: list[ModelRun] = []  # models ready for their next task, waiting for a free slot
        here = backend.threads_here()
        self.concurrency = _Concurrency(backend.n_slots, adaptive=here >= 2 and _cores() // here <= 1,
                                        helpers=backend.max_helpers)
        self._helpers_since: float | None = None

    # --- the loop -------------------------------------------------------------------------------------------
    def run(self) -> None:
        self._adopt_existing()
        brackets = [s for s in self.plan if s not in self._started]
        if not self.lazy:
            for s in brackets:
                self._start_bracket(s)
        try:
            while True:
                self._dispatch()
                self._pump()
                pending = {f: m for m in self.models.values() if m.pending is not None for f in m.pending}
                unstarted = [s for s in self.plan if s not in self._started]
                if unstarted and len(pending) + len(self._queue) < self.backend.n_slots:
                    self._start_bracket(unstarted[0])  # a learning sampler proposes as late as it can
                    continue
                if not pending:
                    break
                done = self.backend.wait_any(pending)
                for model in {id(m): m for m in pending.values()}.values():
                    if all(f in done for f in model.pending):  # every fold of it is done
                        self._collect(model)
        except BaseException:
            self._interrupted()
            raise
        stuck = [m.number for m in self.models.values() if m.state == "alive"]
        if stuck:
            raise RuntimeError(f"the search stopped with models {stuck} neither finished nor pruned (a bug)")

    def _dispatch(self) -> None:
        """Ask the study what to do, and do it: prune, finish, or train further."""
        todo = self.study.next_steps()
        for model in self.models.values():
            if model.state != "alive" or model.pending is not None or model in self._queue:
                continue
            n_more = todo.get(model.number)
            if n_more is None:  # waits for its rung, or has finished its bracket
                if model.calls >= self.plan[model.bracket].max_resource:
                    self._finish(model)
            elif n_more == 0:
                self._prune(model)
            else:
                self._submit(model, n_more)

    def _submit(self, model: ModelRun, n_more: int) -> None:
        """Start training ``model`` toward ``n_more`` steps past its last score (the scheduler's view)."""
        scored = model.records[-1]["partial_fit_calls"] if model.records else 0
        if self.score_every:  # scored after the first call, then every score_every calls (dask-ml's rhythm)
            n_more = min(n_more, self.score_every if scored else 1)
        model.goal = scored + n_more
        self._send(model)

    def _send(self, model: ModelRun) -> None:
        """Queue ``model`` for its next task (`_pump` starts it when a slot is free)."""
        self._queue.append(model)

    def _pump(self) -> None:
        """Start queued tasks while slots are free: the model with the longest path left on its bracket
        first (LPT), so that the long chains never end up as the tail."""
        self._mind_helpers()
        in_flight = sum(len(m.pending) for m in self.models.values() if m.pending is not None)
        while self._queue and (in_flight == 0 or in_flight < self.concurrency.limit):
            model = max(self._queue, key=lambda m: self.plan[m.bracket].max_resource - m.calls)
            self._queue.remove(model)
            if self.concurrency.offload:
                mode = "processes"
            else:
                overlapped = in_flight > 0 or (bool(self._queue) and self.concurrency.limit > 1)
                mode = "threads" if overlapped else "alone"
            self._launch(model, mode)
            in_flight += len(model.pending)

    def _mind_helpers(self) -> None:
        """Start the helper processes the concurrency asks for; tell it when they are up, or gone."""
        c = self.concurrency
        if c.wants_helpers and self._helpers_since is None:
            self._helpers_since = time.monotonic()
            planned = sum(b.partial_fit_calls for b in self.plan.values()) * self.data.n_folds
            done = sum(m.calls for m in self.models.values()) * self.data.n_folds
            left = (planned - done) * c.seconds_per_call / c.slots  # at the pace so far, on threads
            if left < _HELPERS_WORTH:  # starting them (imports) would cost about as much as they save
                logger.debug("no helper processes: about %.1f s of training left", left)
                c.helpers_down()
                return
            shared = [h for block in self.data.train for h in block] + list(self.data.test)
            preload = ["sklearn.metrics", type(self.estimator).__module__]
            if not self.backend.start_helpers(shared, preload):
                c.helpers_down()
            return
        if not (c.waiting or c.offload):
            return
        status = self.backend.helpers
        if status == "ready":
            c.helpers_up()
        elif status != "starting" or time.monotonic() - self._helpers_since > 60:
            logger.debug("helper processes not used: %s", status)
            c.helpers_down()

    def _launch(self, model: ModelRun, mode: str) -> None:
        """One task toward ``model.goal``: all the remaining calls, or one call when checkpointing (so a
        crash loses at most one call per model); the task that reaches the goal also scores."""
        model.mode = mode
        n_calls = max(0, model.goal - model.calls)
        if self.checkpoint and self.resource == "partial_fit":
            n_calls = min(n_calls, 1)
        target = model.calls + n_calls
        if self.resource == "partial_fit":
            steps = [self._block(i) for i in range(model.calls, target)]
        else:
            steps = list(range(len(self.data.train)))
        scorers = self.scorers if target >= model.goal else {}
        results = [
            self.backend.submit(
                _tasks.advance, model.handle[f], [[self.data.train[b][f]] for b in steps], [self.data.test[f]],
                scorers, self.fit_params, self.resource, target, self.max_iter,
                # longest remaining path first (LPT): the models that go on longest must not end up as the tail
                priority=self.plan[model.bracket].max_resource - model.calls, offload=mode == "processes",
            )
            for f in range(self.data.n_folds)
        ]
        model.pending = [self.backend.item(r, 1) for r in results]
        model.pending_model = results  # (model, record) where it ran: the next task takes the model from it
        model.target = target

    def _collect(self, model: ModelRun) -> None:
        """A task finished: record its score, checkpoint the model, tell the study."""
        try:
            folds = [self.backend.fetch(p) for p in model.pending]
        except Exception as error:
            self._failed(model, error)
            return
        for r in folds:  # a model's first call also builds it: not comparable with its others
            self.concurrency.observe(model.number, model.target - model.calls, r["task_time"], model.mode,
                                     r.get("cpu_time"), first=not model.calls)
        model.handle, model.calls = model.pending_model, model.target
        model.pending = model.pending_model = None
        result = {
            "partial_fit_time": sum(r["partial_fit_time"] for r in folds),
            "score_time": sum(r["score_time"] for r in folds),
            "scores": {name: [s for r in folds for s in r["scores"][name]] for name in folds[0]["scores"]},
        }
        scores = result["scores"]
        if not scores:  # a step on the way to the goal: keep it, go on
            self.study.save_checkpoint(model.number, self.fetch_model(model), step=model.calls)
            self._send(model)
            return
        score = float(np.mean(scores[self.refit]))
        record = {
            "model_id": model.model_id,
            "params": model.params,
            "partial_fit_calls": model.calls,
            "partial_fit_time": result["partial_fit_time"],
            "score": score,
            "score_time": result["score_time"],
            "elapsed_wall_time": time.monotonic() - self._start,
            "bracket": model.bracket,
        }
        if self.data.n_folds > 1:
            record.update({f"split{f}_score": s for f, s in enumerate(scores[self.refit])})
        if len(self.scorers) > 1:
            record.update({f"score_{name}": float(np.mean(v)) for name, v in scores.items()})
        model.records.append(record)
        self.history.append(record)
        if self.log_every and len(self.history) % self.log_every == 0:
            best = max((m for m in self.models.values() if m.records), key=lambda m: m.score)
            logger.info("%s[%s] score %.4f after %d partial_fit calls; best so far %.4f (model %s, %d calls)",
                        self.prefix, model.model_id, score, model.calls, best.score, best.model_id, best.calls)
        if self.checkpoint:
            self.study.save_checkpoint(model.number, self.fetch_model(model), step=model.calls)
        if self.objectives:
            self.study.report(model.number, model.values(self.objectives), step=model.calls)
        else:
            self.study.report(model.number, score if math.isfinite(score) else math.nan, step=model.calls)
        if self._plateaued(model):
            self._finish(model)

    def _plateaued(self, model: ModelRun) -> bool:
        """dask-ml's patience rule: no score within the last ``patience`` calls beat the first of them by
        more than ``tol`` (with several objectives: none of them did)."""
        if not self.patience or self.tol is None or math.isnan(self.tol) or model.calls < self.patience:
            return False
        recent = [r for r in model.records if model.calls - r["partial_fit_calls"] <= self.patience]
        if len(recent) < 2:
            return False
        for key in [f"score_{name}" for name in self.objectives] or ["score"]:
            window = np.array([r.get(key, math.nan) for r in recent], dtype=float)
            if max(window[1:] - window[0]) > self.tol:
                return False
        return True

    # --- trial ends -----------------------------------------------------------------------------------------
    def _finish(self, model: ModelRun) -> None:
        model.state = "done"
        if self.objectives:
            self.study.tell(model.number, model.values(self.objectives))
        else:
            self.study.tell(model.number, model.score if math.isfinite(model.score) else math.nan)

    def _prune(self, model: ModelRun) -> None:
        model.state, model.handle = "pruned", None
        self.study.tell(model.number, state="pruned")

    def _failed(self, model: ModelRun, error: BaseException) -> None:
        model.pending = model.pending_model = None
        if isinstance(self.error_score, str) and self.error_score == "raise":
            raise error
        logger.warning("model %s failed (%s: %s); it scores error_score=%r", model.model_id,
                       type(error).__name__, error, self.error_score)
        model.state, model.handle = "failed", None
        model.records.append({"model_id": model.model_id, "params": model.params, "partial_fit_calls": model.calls,
                              "partial_fit_time": math.nan, "score": float(self.error_score),
                              "score_time": math.nan, "elapsed_wall_time": time.monotonic() - self._start,
                              "bracket": model.bracket})
        self.study.tell(model.number, state="failed", fail_reason=f"{type(error).__name__}: {error}")

    def _interrupted(self) -> None:
        """Keep what is done: cancel the tasks in flight and pause the live trials (they resume later)."""
        self._queue.clear()
        pending = [m for m in self.models.values() if m.pending is not None]
        self.backend.cancel([h for m in pending for h in [*m.pending, *m.pending_model]])
        for model in self.models.values():
            model.pending = model.pending_model = None
            if model.state == "alive":
                try:
                    self.study.pause(model.number)
                except Exception:  # storage gone: the trial is re-queued when the study is opened again
                    logger.debug("could not pause trial %d", model.number, exc_info=True)

    # --- models ---------------------------------------------------------------------------------------------
    def _start_bracket(self, s: int) -> None:
        self._started.add(s)
        have = sum(1 for m in self.models.values() if m.bracket == s)
        for index in range(have, self.plan[s].n_models):
            handle = self.study.start_trial(system_attrs={"bracket": s, "model_id": self.model_id(s, index)})
            self._add(handle.number, s, self.model_id(s, index), handle.config, None, 0)

    def _add(self, number: int, bracket: int, model_id: Hashable, config: dict, saved: Any, calls: int) -> ModelRun:
        params = self.space.to_params(config)
        built = dict(params)
        if self.model_seeds and "random_state" not in built:
            built["random_state"] = int((self.seed + 7919 * (number + 1)) % (2**31 - 1))
        model = ModelRun(number, model_id, bracket, params, calls=calls)
        fresh = saved if saved is not None else _tasks.create(self.estimator, built, self.data.n_folds)
        model.handle = [self.backend.put([estimator]) for estimator in fresh]
        self.models[number] = model
        return model

    def _adopt_existing(self) -> None:
        """Resume: take over the models of an earlier, interrupted fit of this study."""
        for trial in self.study.trials:
            s, model_id = trial.system_attrs.get("bracket"), trial.system_attrs.get("model_id")
            if s not in self.plan:
                continue
            self._started.add(s)
            records = [self._old_record(trial, model_id, s, step, value) for step, value in
                       sorted(trial.intermediate.items())]
            if trial.state.is_finished:
                model = ModelRun(trial.number, model_id, s, self.space.to_params(trial.config),
                                 calls=max(trial.intermediate, default=0), records=records)
                model.state = {TrialState.COMPLETE: "done", TrialState.PRUNED: "pruned"}.get(trial.state, "failed")
                self.models[trial.number] = model
                self.history.extend(records)
                continue
            try:
                handle = self.study.resume(trial.number)
            except RuntimeError as error:
                raise RuntimeError(
                    f"cannot resume model {model_id}: {error}. Another process still holds it (or held it until "
                    "it was killed, and its heartbeat has not expired yet); wait for that process to end, or "
                    "until the study re-queues its trials, then fit again with resume=True"
                ) from None
            saved, calls = None, 0
            if handle.checkpoint is not None:
                saved, calls = self.study.load_checkpoint(trial.number), handle.last_step
            model = self._add(trial.number, s, model_id, handle.config, saved, calls)
            model.records = [r for r in records if r["partial_fit_calls"] <= calls]
            self.history.extend(model.records)
        for s in list(self._started):
            self._start_bracket(s)  # a bracket whose start was interrupted gets its missing models

    def _old_record(self, trial: Any, model_id: Hashable, s: int, step: int, value: float) -> dict[str, Any]:
        record = {"model_id": model_id, "params": self.space.to_params(trial.config), "partial_fit_calls": step,
                  "partial_fit_time": math.nan, "score": value, "score_time": math.nan,
                  "elapsed_wall_time": math.nan, "bracket": s}
        several = trial.intermediate_values.get(step, ())
        record.update({f"score_{name}": v for name, v in zip(self.objectives, several, strict=False)})
        return record

    def _block(self, call: int) -> int:
        """The block of a model's ``call``-th partial_fit (0-based): all models see the blocks in the same
        shuffled order, a new shuffle each pass."""
        n = len(self.data.train)
        while call >= len(self._order):
            self._order.extend(self._rng.permutation(n).tolist())
        return self._order[call]

    def fetch_model(self, model: ModelRun) -> Any:
        """The fitted estimators of a model (a list over folds), from wherever it lives."""
        if model.handle is None:
            return self.study.load_checkpoint(model.number)
        return [_tasks.model_of(self.backend.fetch(h))[0] for h in model.handle]


#: The least training time (seconds, at the pace on threads) left in a search for helper processes to pay off:
#: each takes a few seconds of one core to start (importing scikit-learn).
_HELPERS_WORTH = 10.0


class _Concurrency:
    """How to run the tasks when the task threads share this process (and so its GIL): ``"threads"`` (every
    slot busy), ``"alone"`` (one task at a time: for estimators whose ``partial_fit`` is mostly Python, such as
    an MLP on small batches, two threads side by side take longer than one thread doing both) or
    ``"processes"`` (every slot busy, on helper processes: `hypersweep.sklearn._helpers`).

    With helpers possible, the search starts on threads: tasks held back by the GIL spend part of their wall
    time waiting for it, so their threads' CPU time falls short of it (two MLPs on small batches: about 60%;
    models that release the GIL: 95-100%). Short of 90%, the search asks for helpers (`wants_helpers`), runs
    alone until they are up, then measures them against alone. Without helpers it measures alone, then threads.
    Comparing two modes, each model is its own benchmark: its calls cost about the same each time, so the time
    per call of the same models both ways gives the gain (a model's first call, which also builds it, is left
    out of that). Each measure takes ``2 * slots`` tasks; the better mode then runs for ``16 * slots`` tasks
    (``64 * slots`` when it won by 1.3 times or more) and the measuring starts again, since the models change.
    """

    def __init__(self, slots: int, adaptive: bool, helpers: int = 0) -> None:
        self.slots = slots
        self.adaptive = adaptive and slots > 1
        self.helpers = helpers if self.adaptive and helpers >= 2 else 0  # helper processes that could run
        self.wants_helpers = False  # set when the driver should start the helpers
        self.waiting = False  # running alone until the helpers are up
        self._per_call: dict[int, dict[str, list[float]]] = {}  # model -> mode -> seconds per call
        self._busy: list[tuple[float, float, int]] = []  # (wall, thread CPU, calls) of the tasks measured on threads
        self.seconds_per_call = 0.0  # wall per call of the tasks measured on threads
        self._measuring = True
        self._parallel = "threads"  # the parallel mode measured against "alone"
        self.mode = "threads" if self.helpers or not self.adaptive else "alone"
        self._left = 2 * slots  # tasks before the next switch

    @property
    def limit(self) -> int:
        """Tasks to keep in flight."""
        return {"alone": 1, "processes": self.helpers}.get(self.mode, self.slots)

    @property
    def offload(self) -> bool:
        """Whether tasks go to the helper processes now."""
        return self.mode == "processes"

    def helpers_up(self) -> None:
        """The helpers the search asked for are ready: measure them."""
        if self.waiting:
            self.waiting = False
            self._parallel = self.mode = "processes"
            self._left, self._measuring = 2 * self.helpers, True

    def helpers_down(self) -> None:
        """There are no helpers (they could not start, or stopped): threads or alone from now on."""
        self.helpers, self.waiting, self.wants_helpers = 0, False, False
        self._parallel = "threads"
        if self.mode != "threads" or self._measuring:
            self.mode, self._left, self._measuring = "alone", 2 * self.slots, True

    def observe(self, number: int, n_calls: int, wall: float, mode: str, cpu: float | None = None,
                first: bool = False) -> None:
        """A task of ``n_calls`` calls of model ``number``, launched in ``mode``, took ``wall`` seconds, of
        which its thread ran ``cpu``; ``first``: the model's first task."""
        if not self.adaptive:
            return
        if n_calls > 0 and wall > 0:
            if not first:
                self._per_call.setdefault(number, {}).setdefault(mode, []).append(wall / n_calls)
            if mode == "threads" and cpu is not None:
                self._busy.append((wall, cpu, n_calls))
        if self.waiting:
            return
        self._left -= 1
        if self._left > 0:
            return
        if self._measuring and self.mode == "alone":  # measured alone: now the parallel mode
            self.mode, self._left, self._busy = self._parallel, 2 * self.slots, []
            return
        parallel = self._parallel
        if parallel == "threads" and self.helpers and self._busy:  # helpers possible: judge by the CPU share
            share = sum(c for _, c, _ in self._busy) / sum(w for w, _, _ in self._busy)
            self.seconds_per_call = sum(w for w, _, _ in self._busy) / sum(n for _, _, n in self._busy)
            logger.debug("tasks on threads ran %.0f%% of their time", 100 * share)
            self._busy = []
            if share < 0.9:
                self.wants_helpers = self.waiting = True
                self.mode = "alone"
                return
            self._run(parallel, 16)
            return
        both = [t for t in self._per_call.values() if t.get(parallel) and t.get("alone")]
        if self._measuring and len(both) < 2:  # too few models seen both ways to tell: measure longer
            self._left = 2 * self.slots
            return
        if not self._measuring or not both:
            self._per_call, self._busy, self._measuring = {}, [], True
            self.mode, self._left = ("threads" if parallel == "threads" and self.helpers else "alone"), 2 * self.slots
            return
        # the same calls' time in the parallel mode against alone, summed over the models seen both ways
        side = sum(float(np.median(t[parallel])) for t in both)
        alone = sum(float(np.median(t["alone"])) for t in both)
        gain = (self.helpers if parallel == "processes" else self.slots) * alone / side
        logger.debug("tasks on %s: %.2f times one at a time (%d models compared)", parallel, gain, len(both))
        self._run(parallel if gain > 1.1 else "alone", 64 if gain >= 1.3 else 16)

    def _run(self, mode: str, rounds: int) -> None:
        """Go with ``mode`` for ``rounds * slots`` tasks, then measure again."""
        self.mode, self._left, self._measuring = mode, rounds * self.slots, False
