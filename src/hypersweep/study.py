"""`Study`: the one loop (ask -> run -> tell) and the only writer to storage; `create_study`, `load_study`.

`optimize` is written on top of `ask`/`tell`, so users who drive the loop themselves get the same behaviour.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from hypersweep.execution import BaseExecutor, get_executor
from hypersweep.execution.channel import LocalChannel, ReportServer
from hypersweep.objective import Outcome, TrialHandle, interpret_result, run_trial, takes_trial
from hypersweep.samplers import BaseSampler, SearchExhausted, get_sampler
from hypersweep.schedulers import BaseScheduler, Decision, get_scheduler
from hypersweep.space import Space
from hypersweep.storage import BaseStorage, MultiWriterNotSupported, StudyNotFound, get_storage
from hypersweep.trial import Trial, TrialState

__all__ = ["INTERRUPTED", "Study", "create_study", "load_study"]

logger = logging.getLogger("hypersweep")

#: fail reason of trials cut short by Ctrl-C / SIGTERM (they did not run to the end: not an evaluation)
INTERRUPTED = "interrupted"

_DIRECTIONS = {"minimize": "minimize", "min": "minimize", "maximize": "maximize", "max": "maximize"}

Callback = Callable[["Study", Trial], None]


def _as_space(problem: Any) -> tuple[Space, list[dict[str, Any]]]:
    """Space and starting points from a `Problem`, a `Space` or a dict of shorthand."""
    if isinstance(problem, Space):
        return problem, []
    if hasattr(problem, "space") and isinstance(problem.space, Space):
        return problem.space, list(getattr(problem, "starting_points", []))
    if isinstance(problem, Mapping):
        return Space(problem), []
    raise TypeError(
        f"create_study needs a Problem, a Space or a dict of parameters, got {type(problem).__name__}; "
        "e.g. hs.create_study({'x': (0.0, 1.0)})"
    )


class _TrialCache:
    """This process's view of a study's trials, updated incrementally; every lookup is O(1)."""

    def __init__(self) -> None:
        self.by_number: dict[int, Trial] = {}
        self.numbers: dict[int, int] = {}  # trial_id -> number
        self.finished: list[Trial] = []  # in the order this process learnt of them
        self._finished_pos: dict[int, int] = {}
        self.running: dict[int, Trial] = {}  # number -> RUNNING trial (any process)

    def put(self, trial: Trial) -> None:
        self.by_number[trial.number] = trial
        self.numbers[trial.trial_id] = trial.number
        if trial.state == TrialState.RUNNING:
            self.running[trial.number] = trial
        else:
            self.running.pop(trial.number, None)
        if trial.is_finished:
            if trial.number in self._finished_pos:
                self.finished[self._finished_pos[trial.number]] = trial
            else:
                self._finished_pos[trial.number] = len(self.finished)
                self.finished.append(trial)


class Study:
    """A search: its space, sampler, scheduler and trials in storage.

    Made by `create_study` / `load_study`, not directly.

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (-5.0, 5.0)}, sampler="random", seed=0)
    >>> study.optimize(lambda config: (config["x"] - 1) ** 2, n_trials=20, progress=False)
    >>> len(study.trials), study.best_value < 1.0
    (20, True)
    """

    def __init__(
        self,
        storage: BaseStorage,
        study_id: int,
        name: str,
        direction: str,
        space: Space,
        sampler: BaseSampler,
        scheduler: BaseScheduler,
        heartbeat_interval: float = 10.0,
        grace_period: float | None = None,
    ) -> None:
        self.storage = storage
        self.study_id = study_id
        self.name = name
        self.direction = direction
        self.space = space
        self.sampler = sampler
        self.scheduler = scheduler
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period if grace_period is not None else 4 * heartbeat_interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._lock = threading.RLock()
        self._cursor = 0
        self._cache = _TrialCache()
        self._stopped: set[int] = set()  # trial_ids the scheduler told to stop
        self._mine: dict[int, Trial] = {}  # trial_id -> trials this process is running
        self._last_requeue = 0.0

    # --- reading -------------------------------------------------------------------------------------
    def _sync(self) -> None:
        """Fold the trials changed since our last read into the local cache (one incremental read)."""
        with self._lock:
            changed, self._cursor = self.storage.get_trials(self.study_id, since=self._cursor)
            for trial in changed:
                self._cache.put(trial)

    @property
    def trials(self) -> list[Trial]:
        """All trials, by number (a fresh read of storage)."""
        self._sync()
        with self._lock:
            return [self._cache.by_number[n] for n in sorted(self._cache.by_number)]

    def get_trials(self, states: Iterable[TrialState | str] | None = None) -> list[Trial]:
        """Trials in the given states (all when None)."""
        wanted = None if states is None else {TrialState(s) for s in states}
        return [t for t in self.trials if wanted is None or t.state in wanted]

    @property
    def best_trial(self) -> Trial:
        """The COMPLETE trial with the best value; ValueError while there is none."""
        self._sync()
        with self._lock:
            done = [t for t in self._cache.finished if t.state == TrialState.COMPLETE and t.has_value]
        if not done:
            raise ValueError(f"study {self.name!r} has no completed trial yet; run study.optimize(...) first")
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda t: (t.value, -t.number) if pick is max else (t.value, t.number))

    @property
    def best_value(self) -> float:
        return self.best_trial.value  # type: ignore[return-value]

    @property
    def best_config(self) -> dict[str, Any]:
        return self.best_trial.config

    def trials_dataframe(self) -> Any:
        """A pandas DataFrame: number, state, objective, ``p:<param>``, ``m:<metadata>``, timings, failures."""
        from hypersweep.results import trials_dataframe

        return trials_dataframe(self.trials, list(self.space))

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write `trials_dataframe` to a CSV file (atomically: a crash never leaves half a file)."""
        from hypersweep.results import write_csv

        write_csv(self.trials_dataframe(), path)

    # --- the loop: ask / tell ---------------------------------------------------------------------------
    def enqueue(self, config: Mapping[str, Any], skip_if_exists: bool = False) -> None:
        """Queue a config to be evaluated before any the sampler proposes (e.g. a starting point).

        >>> import hypersweep as hs
        >>> study = hs.create_study({"x": (0, 10)})
        >>> study.enqueue({"x": 3})
        >>> study.ask().config
        {'x': 3}
        """
        config = self.space.validate(config)
        if skip_if_exists:
            self._sync()
            with self._lock:
                if any(t.config == config for t in self._cache.by_number.values()):
                    return
        self.storage.create_trial(self.study_id, config, TrialState.WAITING)

    def ask(self) -> TrialHandle:
        """Start a trial: the oldest queued config, else a new one from the sampler.

        Raises `SearchExhausted` when the sampler has nothing left (e.g. a finished grid).
        """
        self._maybe_requeue()
        trial = self.storage.claim_waiting_trial(self.study_id, self.worker_id)
        if trial is None:
            self._sync()
            with self._lock:
                pending = [t.config for t in self._cache.running.values()]
                config = self.sampler.ask(self.space, self._cache.finished, pending, self.direction)
            config = self.space.validate(config)
            trial = self.storage.create_trial(self.study_id, config, TrialState.RUNNING, worker=self.worker_id)
        attrs = self.scheduler.on_trial_start(trial.number, self._cache.finished)
        for key, value in attrs.items():
            self.storage.set_trial_attr(trial.trial_id, key, value, system=True)
        trial = trial.evolve(system_attrs={**trial.system_attrs, **attrs})
        with self._lock:
            self._mine[trial.trial_id] = trial
            self._cache.put(trial)
        return TrialHandle(trial.number, trial.trial_id, dict(trial.config), LocalChannel(self._on_report))

    def tell(
        self,
        trial: TrialHandle | int,
        value: Any = None,
        state: TrialState | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        fail_reason: str | None = None,
    ) -> Trial:
        """Finish a trial started by `ask`: with its ``value`` (read like an objective's return value), or
        an explicit ``state`` ("pruned", "failed").

        >>> import hypersweep as hs
        >>> study = hs.create_study({"x": (0.0, 1.0)})
        >>> t = study.ask()
        >>> study.tell(t, t.config["x"] ** 2).state
        <TrialState.COMPLETE: 'complete'>
        """
        trial_id = trial.trial_id if isinstance(trial, TrialHandle) else self._trial_id_of(trial)
        if state is None:
            outcome = interpret_result(value)
        else:
            state = TrialState(state)
            if not state.is_finished:
                raise ValueError(f"tell: state must be complete, pruned or failed, got state={state.value!r}")
            if state == TrialState.COMPLETE:
                outcome = interpret_result(value)
            else:
                number = value if value is None else float(value)
                outcome = Outcome(state, value=number, fail_reason=fail_reason)
        if metadata:
            outcome.metadata = {**outcome.metadata, **dict(metadata)}
        if fail_reason and outcome.fail_reason is None:
            outcome.fail_reason = fail_reason
        return self._finish(trial_id, outcome)

    def _trial_id_of(self, number: int) -> int:
        self._sync()
        with self._lock:
            if number not in self._cache.by_number:
                raise KeyError(f"study {self.name!r} has no trial number {number}")
            return self._cache.by_number[number].trial_id

    def _finish(self, trial_id: int, outcome: Outcome) -> Trial:
        value = outcome.value
        if outcome.state == TrialState.PRUNED and value is None:
            latest = self.storage.get_trial(trial_id)  # a pruned trial keeps its last reported value
            if latest.intermediate:
                value = latest.intermediate[max(latest.intermediate)]
        finished = self.storage.finish_trial(
            trial_id, outcome.state, value=value, metadata=outcome.metadata, fail_reason=outcome.fail_reason
        )
        with self._lock:
            self._mine.pop(trial_id, None)
            self._stopped.discard(trial_id)
        self._log_trial(finished)
        return finished

    def _log_trial(self, trial: Trial) -> None:
        if trial.state == TrialState.FAILED:
            logger.warning("trial %d failed: %s", trial.number, (trial.fail_reason or "").splitlines()[0])
        else:
            logger.info("trial %d %s with value %s and config %s", trial.number, trial.state, trial.value,
                        trial.config)

    def _on_report(self, trial_id: int, step: int | None, value: float | None) -> bool:
        """A running trial reported ``value`` at ``step`` (or asked whether to stop, step None)."""
        if step is None:
            return trial_id in self._stopped
        self.storage.report(trial_id, step, value)  # type: ignore[arg-type]
        self._sync()
        with self._lock:
            number = self._cache.numbers.get(trial_id)
            if number is None:
                return False
            trial = self._cache.by_number[number]
            decision = self.scheduler.decide(trial, list(self._cache.by_number.values()), self.direction)
            if decision != Decision.CONTINUE:
                self._stopped.add(trial_id)
            return trial_id in self._stopped

    # --- robustness ---------------------------------------------------------------------------------
    def _maybe_requeue(self, force: bool = False, grace: float | None = None) -> None:
        """Re-queue trials whose process stopped sending heartbeats (persistent storages only).

        ``grace=-1`` re-queues every RUNNING trial: right when a single-writer study (SQLite) resumes, any
        trial still marked running belongs to a process that is gone.
        """
        if not self.storage.persistent:
            return
        now = time.monotonic()
        if force or now - self._last_requeue >= self.heartbeat_interval:
            self._last_requeue = now
            grace = self.grace_period if grace is None else grace
            for trial in self.storage.requeue_stale_trials(self.study_id, grace):
                logger.warning("trial %s lost its worker; re-queued as trial %d",
                               trial.system_attrs.get("retry_of"), trial.number)

    def _heartbeat_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat_interval):
            with self._lock:
                ids = list(self._mine)
            if ids:
                try:
                    self.storage.heartbeat(ids)
                except Exception:  # a transient database error must not kill the search
                    logger.warning("heartbeat failed", exc_info=True)

    # --- optimize ------------------------------------------------------------------------------------
    def optimize(
        self,
        objective: Callable[..., Any],
        n_trials: int | None = None,
        timeout: float | None = None,
        n_workers: int = 1,
        executor: Any = "serial",
        progress: bool = True,
        callbacks: Sequence[Callback] | None = None,
    ) -> None:
        """Evaluate ``objective(config)`` (or ``objective(config, trial)``) on configs from the sampler.

        ``n_trials`` counts the trials this call runs; ``timeout`` (seconds) stops launching new trials
        once passed (running ones finish). ``executor`` is "serial", "thread", "process", "dask", a Dask
        scheduler address, a `distributed.Client` or a `BaseExecutor`, with ``n_workers`` parallel trials.
        A trial whose objective raises, returns NaN/inf or a non-number is recorded FAILED and the search goes
        on; Ctrl-C marks the running trials FAILED and keeps every finished one.
        """
        if not callable(objective):
            raise TypeError(f"objective must be callable, got {type(objective).__name__}")
        if n_trials is not None and (not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 0):
            raise ValueError(f"n_trials must be a non-negative int or None, got n_trials={n_trials!r}")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None, got timeout={timeout!r}")
        callbacks = list(callbacks or [])
        pass_trial = takes_trial(objective)
        executor_obj, owned = get_executor(executor, n_workers)
        from hypersweep.progress import ProgressBar

        bar = ProgressBar(total=n_trials, enabled=progress, direction=self.direction)
        server: ReportServer | None = None
        stop_heartbeat = threading.Event()
        heartbeat = None
        if self.storage.persistent:
            heartbeat = threading.Thread(target=self._heartbeat_loop, args=(stop_heartbeat,), daemon=True)
            heartbeat.start()
        try:
            if not executor_obj.in_process:
                import cloudpickle

                try:
                    payload: Any = cloudpickle.dumps(objective)
                except Exception as exc:
                    raise TypeError(
                        f"the objective cannot be sent to {type(executor_obj).__name__} workers: {exc}. Create "
                        "locks, connections and open files inside the objective, or use executor='thread'"
                    ) from exc
                if pass_trial:
                    server = ReportServer(self._on_report, executor_obj.report_host())
            else:
                payload = objective
            self._run_loop(executor_obj, payload, pass_trial, server, n_trials, timeout, bar, callbacks)
        finally:
            stop_heartbeat.set()
            bar.close()
            if server is not None:
                server.close()
            if owned:
                executor_obj.shutdown(wait=False)

    def _run_loop(
        self,
        executor: BaseExecutor,
        payload: Any,
        pass_trial: bool,
        server: ReportServer | None,
        n_trials: int | None,
        timeout: float | None,
        bar: Any,
        callbacks: list[Callback],
    ) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        running: dict[Future, TrialHandle] = {}
        launched = 0
        exhausted = False

        def can_launch() -> bool:
            if exhausted or (n_trials is not None and launched >= n_trials):
                return False
            return deadline is None or time.monotonic() < deadline

        try:
            while True:
                while len(running) < executor.n_workers and can_launch():
                    try:
                        handle = self.ask()
                    except SearchExhausted:
                        exhausted = True
                        break
                    if server is not None:
                        handle.bind(server.channel())
                    elif not pass_trial:
                        handle.bind(None)  # nothing to report: ship the handle without the study behind it
                    launched += 1
                    future = executor.submit(run_trial, payload, handle, pass_trial)
                    running[future] = handle
                if not running:
                    return
                # until the deadline, wake up in time to stop launching; after it, wait for running trials
                remaining = None
                if deadline is not None and can_launch():
                    remaining = max(deadline - time.monotonic(), 0.0)
                done, _ = wait(list(running), timeout=remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    handle = running.pop(future)
                    trial = self._finish(handle.trial_id, self._outcome_of(future))
                    bar.update(trial)
                    for callback in callbacks:
                        callback(self, trial)
        except BaseException as exc:
            for future in running:
                future.cancel()
            interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
            self._fail_running(INTERRUPTED if interrupted else f"search stopped by {type(exc).__name__}: {exc}")
            raise

    def _fail_running(self, reason: str) -> None:
        """Mark every trial this process started and has not finished as FAILED."""
        with self._lock:
            mine = list(self._mine.values())
            self._mine.clear()
        for trial in mine:
            try:
                self.storage.finish_trial(trial.trial_id, TrialState.FAILED, fail_reason=reason)
            except Exception:  # already finished or storage gone: nothing more to save
                logger.debug("could not mark trial %d %s", trial.number, reason, exc_info=True)

    @staticmethod
    def _outcome_of(future: Future) -> Outcome:
        try:
            return future.result()
        except Exception as exc:  # the worker itself died or the call could not be shipped
            return Outcome(TrialState.FAILED, fail_reason=f"worker failed: {type(exc).__name__}: {exc}")

    def __repr__(self) -> str:
        return f"Study(name={self.name!r}, direction={self.direction!r}, sampler={self.sampler!r})"


def create_study(
    problem: Any,
    direction: str = "minimize",
    sampler: str | BaseSampler | None = "tpe",
    scheduler: str | BaseScheduler | None = None,
    storage: str | BaseStorage | None = None,
    name: str | None = None,
    resume: bool = False,
    seed: int | None = None,
    heartbeat_interval: float = 10.0,
) -> Study:
    """Start a search over ``problem`` (a `Problem`, a `Space`, or a dict of parameters).

    ``storage`` is None (in memory), a SQLAlchemy URL ("sqlite:///results.db", "postgresql://...",
    "mysql+pymysql://...") or a storage object. With ``resume=True`` an existing study of that ``name``
    continues, every earlier trial informing the sampler; otherwise the name must be new. The problem's
    starting points are enqueued so they run first.

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0, 10)}, direction="maximize", sampler="random", seed=1)
    >>> study.direction
    'maximize'
    """
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be 'minimize' or 'maximize', got direction={direction!r}")
    direction = _DIRECTIONS[direction]
    space, starting_points = _as_space(problem)
    if len(space.dims) == 0 and len(space) == 0:
        raise ValueError("the search space is empty; add at least one parameter")
    if resume and name is None:
        raise ValueError("resume=True needs the name= of the study to continue")
    if name is None:
        name = f"study-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    backend = get_storage(storage)
    existed = False
    if resume:
        try:
            record = backend.get_study(name)
            existed = True
        except StudyNotFound:
            record = backend.create_study(name, direction, space.to_dict(), load_if_exists=True)
    else:
        record = backend.create_study(name, direction, space.to_dict())
    if existed:
        if record.direction != direction:
            raise ValueError(
                f"study {name!r} was created with direction={record.direction!r}; resume it with the same "
                "direction or start a new study under another name="
            )
        if record.space is not None and record.space != space.to_dict():
            raise ValueError(
                f"study {name!r} was created with another search space:\n  stored: {record.space}\n  "
                f"given:  {space.to_dict()}\nresume it with the same space or start a new study under another name="
            )
    study = Study(
        backend,
        record.study_id,
        name,
        direction,
        space,
        get_sampler(sampler, seed=seed),
        get_scheduler(scheduler),
        heartbeat_interval=heartbeat_interval,
    )
    if existed and not backend.supports_multiple_writers:
        _refuse_live_writers(study)
        study._maybe_requeue(force=True, grace=-1.0)
    # starting points and the sampler's plan (a grid) are enqueued once per study, by whichever process
    # claims that job first, so each point runs exactly once however many processes share the study
    if not record.user_attrs.get("hs:planned") and backend.set_study_attr(
        record.study_id, "hs:planned", True, only_if_absent=True
    ):
        for config in [*starting_points, *(study.sampler.plan(space) or [])]:
            study.enqueue(config)
    return study


def _refuse_live_writers(study: Study) -> None:
    """On a single-writer storage, refuse to resume a study that a live process on this host is running."""
    host = socket.gethostname()
    for trial in study.get_trials([TrialState.RUNNING]):
        owner_host, _, rest = (trial.worker or "").partition(":")
        pid = rest.partition(":")[0]
        if owner_host == host and pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            raise MultiWriterNotSupported(
                f"study {study.name!r} is being run by process {pid} (trial {trial.number} is running there); "
                f"{type(study.storage).__name__} on SQLite cannot be shared by several processes. Wait for it to "
                "finish, or use a PostgreSQL or MySQL URL for storage= to run several processes on one study."
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_study(name: str, storage: str | BaseStorage, sampler: str | BaseSampler | None = "tpe",
               scheduler: str | BaseScheduler | None = None, seed: int | None = None) -> Study:
    """Open an existing study (its space and direction come from storage), e.g. to read its results.

    >>> import hypersweep as hs
    >>> from hypersweep.storage import InMemoryStorage
    >>> store = InMemoryStorage()
    >>> _ = hs.create_study({"x": (0, 1)}, storage=store, name="s")
    >>> hs.load_study("s", store).name
    's'
    """
    backend = get_storage(storage)
    record = backend.get_study(name)
    space = Space.from_dict(record.space or {})
    return Study(backend, record.study_id, name, record.direction, space,
                 get_sampler(sampler, seed=seed), get_scheduler(scheduler))
