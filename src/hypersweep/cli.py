"""The ``hypersweep`` command line: new-project, new-problem, search, topk and show.

A thin front end over `create_study` / `Study.optimize`; bad input ends in a usage error, never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import os
import signal
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from hypersweep._logging import attached
from hypersweep.samplers import available_samplers
from hypersweep.study import INTERRUPTED

__all__ = ["main", "cli"]

logger = logging.getLogger("hypersweep")

_METHODS = available_samplers()
_EXECUTORS = ["serial", "thread", "process", "dask", "ray"]
_SCHEDULERS = ["none", "sh", "hyperband", "hyperband-sync", "asha", "asha-promote", "median"]
_ABORTED = INTERRUPTED  # trials cut short by Ctrl-C / SIGTERM are not evaluations


# --- importing the user's problem and objective ------------------------------------------------------------
def _add_search_path(module: str) -> None:
    """Put the current directory on ``sys.path`` and, when the top-level package of ``module`` is not
    importable from there, the nearest parent directory that holds it (so that ``dh_project.polynome2...``
    works from inside ``dh_project/dh_project``, as in the tutorial).

    Worker processes (forkserver, spawn, Dask's nannies) start with this ``sys.path`` too."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    top = module.split(".")[0]
    if importlib.util.find_spec(top) is None:
        for directory in [Path(cwd), *Path(cwd).parents]:
            if (directory / top / "__init__.py").is_file() or (directory / f"{top}.py").is_file():
                sys.path.insert(0, str(directory))
                break
    importlib.invalidate_caches()


def load_object(spec: str, option: str) -> Any:
    """The object named ``module.attr`` (or ``module:attr``); click.BadParameter naming ``option`` if not found."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
    else:
        module_name, _, attr = spec.rpartition(".")
    if not all(part.isidentifier() for part in [*module_name.split("."), *attr.split(".")]):
        raise click.BadParameter(
            f"expected MODULE.ATTR, e.g. dh_project.polynome2.problem.Problem, got {spec!r}", param_hint=option
        )
    _add_search_path(module_name)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and f"{module_name}.".startswith(f"{exc.name}."):
            raise click.BadParameter(
                f"cannot import module {module_name!r} ({exc}); run hypersweep from the directory that holds "
                f"the package {exc.name.split('.')[0]!r} (or one inside it), or pip install it",
                param_hint=option,
            ) from None
        raise click.BadParameter(f"importing {module_name!r} failed: {exc}", param_hint=option) from None
    except Exception as exc:  # a bug in the user's module: say what and where, without our traceback
        if isinstance(exc, SyntaxError):
            where = f"{exc.filename}:{exc.lineno}"
        else:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{frame.filename}:{frame.lineno}"
        raise click.BadParameter(
            f"importing {module_name!r} raised {type(exc).__name__}: {exc} ({where})", param_hint=option
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n, v in vars(module).items() if not n.startswith("_") and _user_defined(v))
            raise click.BadParameter(
                f"module {module_name!r} has no attribute {attr!r}; it defines: {', '.join(names) or 'nothing'}",
                param_hint=option,
            )
        obj = getattr(obj, part)
    return obj


def _user_defined(value: Any) -> bool:
    """Not a module nor a ``from __future__`` feature: what is worth listing as a module's attributes."""
    return not isinstance(value, types.ModuleType) and type(value).__name__ != "_Feature"


def _load_problem(spec: str, option: str = "--problem") -> Any:
    from hypersweep.space import Space

    problem = load_object(spec, option)
    if isinstance(problem, (Space, dict)) or isinstance(getattr(problem, "space", None), Space):
        return problem
    raise click.BadParameter(
        f"{spec} is a {type(problem).__name__}, not a search space; point it at a hs.Problem (or a Space or a "
        "dict of parameters)",
        param_hint=option,
    )


def _pickle_local_code_by_value(run: Any) -> None:
    """Let Dask workers, perhaps on other machines, run an objective from a project that is not installed:
    its package is shipped by value (cloudpickle) unless it belongs to an installed distribution."""
    from importlib.metadata import packages_distributions

    top_name = (getattr(run, "__module__", None) or "").split(".")[0]
    top = sys.modules.get(top_name)
    if top is None or top_name in packages_distributions() or top_name in sys.stdlib_module_names:
        return
    import cloudpickle

    cloudpickle.register_pickle_by_value(top)


# --- search helpers ------------------------------------------------------------------------------------------
def _scheduler(name: str, max_resource: int | None) -> Any:
    """A --scheduler choice (and --max-resource) as what create_study takes."""
    from hypersweep.schedulers import ASHA, Hyperband, get_scheduler

    if name in ("none", "median"):
        if max_resource is not None:
            raise click.UsageError(f"--max-resource is for the rung-based schedulers, not --scheduler {name}")
        return name
    if name.startswith("hyperband"):
        return Hyperband(max_resource=max_resource or 81, synchronous=name == "hyperband-sync")
    if name == "asha-promote":
        return ASHA(max_resource=max_resource, promote=True)
    return get_scheduler(name, max_resource=max_resource)


def _default_study_name(problem_spec: str) -> str:
    """``dh_project.polynome2.problem.Problem`` -> ``dh_project.polynome2``."""
    module = problem_spec.partition(":")[0] if ":" in problem_spec else problem_spec.rpartition(".")[0]
    return module.removesuffix(".problem") or module


def _evaluations_done(trials: list[Any]) -> int:
    """Trials that count as evaluations: finished or paused (waiting for a promotion). Re-queued ones are still
    to run; files of release 0.1 also hold copies of trials lost with their process (``retry_of``) and trials
    cut short by Ctrl-C (failed "interrupted"), which do not count."""
    retried = {t.system_attrs.get("retry_of") for t in trials}
    return sum(
        (t.is_finished or t.state == "paused")
        and t.number not in retried
        and not (t.state == "failed" and t.fail_reason == _ABORTED)
        for t in trials
    )


@contextlib.contextmanager
def _log_to(path: str | None) -> Iterator[None]:
    """Send the library's log records (INFO and up) to ``path`` while the search runs."""
    if not path:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    with attached(logger, handler):
        yield


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the search like Ctrl-C: running trials go back to the queue, finished ones are kept."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _csv_writer(path: str) -> Any:
    def write(study: Any, trial: Any = None) -> None:
        try:
            study.to_csv(path)
        except OSError as exc:  # a full disk must not kill the search; the database has every trial
            logger.warning("could not write %s: %s", path, exc)

    return write


_DIRECTION_WORDS = ("maximize", "minimize", "max", "min")


def _directions(spec: tuple[str, ...]) -> list[str] | None:
    """``--directions`` values (repeated, or separated by commas or spaces) as a list; None when not given."""
    names = [part for item in spec for part in item.replace(",", " ").split()]
    if not spec:
        return None
    bad = [n for n in names if n.lower() not in _DIRECTION_WORDS]
    if bad or not names:
        raise click.BadParameter(f"{bad or spec!r}: give maximize or minimize for each objective, e.g. "
                                 "--directions maximize minimize", param_hint="--directions")
    return names


class _SpacedDirections(click.Command):
    """A command whose ``--directions`` also takes its values unquoted and space-separated, as DeepHyper's
    ``--directions maximize minimize`` does: the words after it are passed on as one ``--directions`` each."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rewritten: list[str] = []
        i = 0
        while i < len(args):
            token = args[i]
            rewritten.append(token)
            i += 1
            if token == "--":
                rewritten += args[i:]
                break
            if token == "--directions" or token.startswith("--directions="):
                if token == "--directions" and i < len(args):  # its own value, whatever it is
                    rewritten.append(args[i])
                    i += 1
                while i < len(args) and args[i].lower() in _DIRECTION_WORDS:
                    rewritten += ["--directions", args[i]]
                    i += 1
        return super().parse_args(ctx, rewritten)


def _echo_best(study: Any, log_path: str) -> None:
    try:
        best = study.best_trials[0] if study.n_objectives > 1 else study.best_trial
    except ValueError:
        failed = [t for t in study.trials if t.state == "failed" and t.fail_reason]
        reason = f"; the first failure: {failed[0].fail_reason.splitlines()[0]}" if failed else ""
        raise click.ClickException(f"no trial completed{reason} (see {log_path})") from None
    if study.n_objectives > 1:
        front = study.best_trials
        click.echo(f"Pareto front: {len(front)} trials (python -m hypersweep topk ... --directions to list them)")
        for trial in front[:5]:
            values = ", ".join(f"{v:.6g}" for v in trial.values)
            click.echo(f"  trial {trial.number}: ({values})  {trial.config}")
        return
    click.echo(f"best objective {best.value:.6g} (trial {best.number}):")
    width = max(len(k) for k in best.config)
    for key, value in best.config.items():
        click.echo(f"  {key:<{width}}  {value}")


# --- commands --------------------------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hypersweep")
def cli() -> None:
    """hypersweep: hyperparameter search from a laptop to a cluster."""


@cli.command("new-project")
@click.argument("name")
def new_project_cmd(name: str) -> None:
    """Create NAME/ holding an installable project with the package NAME/NAME/."""
    from hypersweep.templates import new_project

    try:
        files = new_project(name)
    except (ValueError, FileExistsError) as exc:
        raise click.UsageError(str(exc)) from None
    for path in files:
        click.echo(f"created {path}")
    click.echo(f"next: cd {name}/{name} && hypersweep new-problem polynome2")


@cli.command("new-problem")
@click.argument("name")
def new_problem_cmd(name: str) -> None:
    """Scaffold the problem package NAME/ (load_data, model_run, problem) in the current directory.

    Run it inside a project's package directory (made by new-project). NAME polynome2 gives the tutorial's
    problem; any other name a generic skeleton to edit.
    """
    from hypersweep.templates import new_problem

    try:
        module, files = new_problem(name)
    except (ValueError, FileExistsError) as exc:
        raise click.UsageError(str(exc)) from None
    for path in files:
        click.echo(f"created {os.path.relpath(path)}")
    click.echo(
        f"next: hypersweep search --problem {module}.problem.Problem --run {module}.model_run.run "
        "--method bo --max-evals 50"
    )


@cli.command("search", cls=_SpacedDirections)
@click.option("--problem", "problem_spec", required=True, metavar="MODULE.ATTR",
              help="The search space, e.g. dh_project.polynome2.problem.Problem.")
@click.option("--run", "run_spec", required=True, metavar="MODULE.ATTR",
              help="The objective run(config), e.g. dh_project.polynome2.model_run.run.")
@click.option("--method", type=click.Choice(_METHODS, case_sensitive=False), default="bo", show_default=True,
              help="Sampler proposing configurations.")
@click.option("--max-evals", type=click.IntRange(min=1), default=100, show_default=True,
              help="Evaluations in the study (with --resume: in total, earlier ones included).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Evaluations running at once.")
@click.option("--executor", type=click.Choice(_EXECUTORS, case_sensitive=False), default=None,
              help="Where evaluations run [default: serial, or process with --workers > 1].")
@click.option("--scheduler-address", metavar="tcp://HOST:PORT", help="Run on this Dask cluster.")
@click.option("--storage", default="sqlite:///results.db", show_default=True,
              help="Database URL of the study (sqlite:///..., postgresql://..., mysql+pymysql://...).")
@click.option("--study", "study_name", metavar="NAME", help="Study name [default: from --problem].")
@click.option("--resume", is_flag=True, help="Continue the study of that name in --storage.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop launching evaluations after this long.")
@click.option("--direction", type=click.Choice(["maximize", "minimize"]), default="maximize", show_default=True)
@click.option("--directions", "directions_spec", multiple=True, metavar="D1 D2 ...",
              help="Several objectives (run returns a tuple): e.g. --directions maximize minimize; the CSV gets "
              "objective_0, objective_1, ... and the result is the Pareto front.")
@click.option("--seed", type=int, help="Seed of the sampler.")
@click.option("--output", default="results.csv", show_default=True, type=click.Path(dir_okay=False),
              help="CSV of the trials, rewritten after each one.")
@click.option("--log", "log_path", default="search.log", show_default=True, type=click.Path(dir_okay=False),
              help="Log file.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--scheduler", type=click.Choice(_SCHEDULERS, case_sensitive=False), default="none",
              show_default=True, help="Early stopping of objectives that report intermediate values (the -promote "
              "and -sync ones pause trials and resume them from their checkpoints).")
@click.option("--max-resource", type=click.IntRange(min=1), metavar="STEPS",
              help="Steps a trial runs in full, for sh, asha and hyperband [default: hyperband 81, others none].")
@click.option("--artifacts", metavar="PATH_OR_URL",
              help="Where trials' checkpoints go: a folder or an fsspec URL (s3://bucket/prefix) every worker "
              "can reach [default: beside a SQLite --storage, e.g. results-artifacts/].")
def search_cmd(problem_spec: str, run_spec: str, method: str, max_evals: int, workers: int,
               executor: str | None, scheduler_address: str | None, storage: str, study_name: str | None,
               resume: bool, timeout: float | None, direction: str, directions_spec: tuple[str, ...],
               seed: int | None, output: str, log_path: str, no_progress: bool, scheduler: str,
               max_resource: int | None, artifacts: str | None) -> None:
    """Search the problem's space for the configuration that maximizes run(config) (or for the Pareto front
    of several objectives, with --directions)."""
    import hypersweep as hs
    from hypersweep.storage import DuplicatedStudyError

    problem = _load_problem(problem_spec)
    run = load_object(run_spec, "--run")
    if not callable(run):
        raise click.BadParameter(f"{run_spec} is a {type(run).__name__}, not a function", param_hint="--run")
    if scheduler_address:
        if executor not in (None, "dask"):
            raise click.UsageError(f"--scheduler-address runs on Dask; drop --executor {executor}")
        target: Any = scheduler_address
    else:
        target = executor or ("serial" if workers == 1 else "process")
        if target == "serial" and workers > 1:
            raise click.UsageError(
                f"--executor serial runs one evaluation at a time, got --workers {workers}; "
                "use --executor process (or thread, dask)"
            )
    if target in ("dask", "ray") or scheduler_address:  # their workers do not get this process's sys.path
        _pickle_local_code_by_value(run)
    name = study_name or _default_study_name(problem_spec)
    directions = _directions(directions_spec)
    if directions and click.get_current_context().get_parameter_source("method") == ParameterSource.DEFAULT:
        method = "auto"  # the default method, bo, optimizes one objective
    try:
        study = hs.create_study(problem, direction=direction, directions=directions, sampler=method.lower(),
                                scheduler=_scheduler(scheduler.lower(), max_resource), storage=storage, name=name,
                                resume=resume,
                                seed=seed, artifacts=artifacts)
    except DuplicatedStudyError:
        raise click.UsageError(
            f"study {name!r} already exists in {storage}; pass --resume to continue it, "
            "or --study NAME to start another"
        ) from None
    except (ValueError, TypeError, ConnectionError, RuntimeError) as exc:
        message = str(exc).replace("another name=", "another --study NAME")
        raise click.ClickException(message) from None
    done = _evaluations_done(study.trials)
    remaining = max(max_evals - done, 0)
    write_csv = _csv_writer(output)
    where = scheduler_address or f"{workers} {target} worker{'s' * (workers > 1)}"
    click.echo(f"study {name!r} in {storage}: {remaining} evaluations to run"
               + (f" ({done} done earlier)" if done else "") + f", method {method}, {where}; log in {log_path}")
    with _log_to(log_path), _sigterm_as_interrupt():
        logger.info("search %s: problem %s, run %s, method %s, %d evaluations, executor %s",
                    name, problem_spec, run_spec, method, remaining, where)
        write_csv(study)
        try:
            study.optimize(run, n_trials=remaining, timeout=timeout, n_workers=workers, executor=target,
                           progress=not no_progress, callbacks=[write_csv])
        except KeyboardInterrupt:
            write_csv(study)
            click.echo(f"interrupted: finished trials are in {output} and {storage}; "
                       "run the same command with --resume to continue", err=True)
            sys.exit(130)
        except (ValueError, TypeError, ImportError) as exc:  # e.g. an executor that cannot start (Ray missing)
            raise click.ClickException(str(exc)) from None
        write_csv(study)
        logger.info("search %s finished", name)
    trials = study.trials
    complete = sum(t.state == "complete" for t in trials)
    click.echo(f"{len(trials)} trials ({complete} complete) in {output}; study {name!r} in {storage}")
    _echo_best(study, log_path)


@cli.command("topk", cls=_SpacedDirections)
@click.argument("csv_path", metavar="CSV", type=click.Path(exists=True, dir_okay=False))
@click.option("-k", "k", type=click.IntRange(min=1), default=3, show_default=True, help="How many.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write them to this JSON file.")
@click.option("--direction", type=click.Choice(["maximize", "minimize"]), default="maximize", show_default=True)
@click.option("--directions", "directions_spec", multiple=True, metavar="D1 D2 ...",
              help="Directions of a CSV of several objectives (objective_0, ...) [default: maximize each].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def topk_cmd(csv_path: str, k: int, output: str | None, direction: str, directions_spec: tuple[str, ...],
             as_json: bool) -> None:
    """Print the K best configurations of a results CSV; for several objectives, its Pareto front (all of it,
    best crowded first when -k is given)."""
    from hypersweep.results import top_k

    try:
        best = top_k(csv_path, k=k, direction=direction, directions=_directions(directions_spec))
    except (ValueError, KeyError, OSError) as exc:
        raise click.ClickException(f"cannot read {csv_path}: {exc}") from None
    if output:
        Path(output).write_text(json.dumps(best, indent=2) + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps(best, indent=2))
    elif not best:
        click.echo(f"{csv_path} has no completed trial")
    else:
        click.echo(_table(best))
    if output:
        click.echo(f"wrote {len(best)} configurations to {output}", err=as_json)


@cli.command("dashboard")
@click.argument("storage_url")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (others need --token).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--token", default=None, help="Required of every request; 'auto' makes a random one.")
def dashboard_cmd(storage_url: str, host: str, port: int, token: str | None) -> None:
    """Serve a live, read-only dashboard of every study in STORAGE_URL (e.g. sqlite:///results.db)."""
    from hypersweep._validation import InvalidParameterError
    from hypersweep.viz.dashboard import serve

    try:
        serve(storage_url, host=host, port=port, token=token)
    except InvalidParameterError as exc:
        message = str(exc).replace("token='...' (or token='auto')", "--token ... (or --token auto)")
        raise click.UsageError(message) from None


def _table(rows: list[dict[str, Any]]) -> str:
    params = list(rows[0]["config"])
    objectives = [key for key in rows[0] if key.startswith("objective")]
    header = ["rank", "trial", *objectives, *params]
    cells = [[str(i + 1), str(r["number"]), *(f"{r[o]:.6g}" for o in objectives),
              *(_fmt(r["config"].get(p)) for p in params)] for i, r in enumerate(rows)]
    widths = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


@cli.command("show")
@click.argument("problem_spec", metavar="PROBLEM")
def show_cmd(problem_spec: str) -> None:
    """Print the problem PROBLEM (MODULE.ATTR): its parameters and starting points."""
    click.echo(repr(_load_problem(problem_spec, "PROBLEM")))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``hypersweep`` command (and of ``python -m hypersweep``)."""
    cli.main(args=argv, prog_name="hypersweep")
