"""Trials as a table: the pandas DataFrame behind `Study.trials_dataframe`, CSV writing, top-k reading.

Columns: number, state, objective, ``p:<param>``, ``m:<metadata>``, ``u:<user attr>``, timings, failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypersweep import _json
from hypersweep._validation import check_int
from hypersweep.trial import Trial

__all__ = ["trials_dataframe", "write_csv", "top_k"]

_TIMING = ["datetime_start", "datetime_complete", "duration"]


def _cell(value: Any) -> Any:
    """Lists and dicts as JSON text, so a CSV round trip keeps them."""
    return _json.dumps(value) if isinstance(value, (list, dict, tuple)) else value


def trials_dataframe(trials: Sequence[Trial], param_names: Sequence[str] | None = None) -> Any:
    """One row per trial. Trials of several objectives get a column each, ``objective_0``, ``objective_1``, ...
    (as DeepHyper writes them) instead of ``objective``.

    >>> from hypersweep.trial import TrialState
    >>> df = trials_dataframe([Trial(0, {"x": 1}, TrialState.COMPLETE, value=2.0, metadata={"t": 3})])
    >>> list(df.columns)[:5]
    ['number', 'state', 'objective', 'p:x', 'm:t']
    """
    import pandas as pd

    names = list(param_names) if param_names is not None else sorted({k for t in trials for k in t.config})
    meta_keys = sorted({k for t in trials for k in t.metadata})
    user_keys = sorted({k for t in trials for k in t.user_attrs})
    n_objectives = max((len(t.values) for t in trials if t.values is not None), default=1)
    objectives = ["objective"] if n_objectives == 1 else [f"objective_{i}" for i in range(n_objectives)]
    rows = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number, "state": t.state.value}
        if n_objectives == 1:
            row["objective"] = t.value
        else:
            values = t.values if t.values is not None and len(t.values) == n_objectives else (None,) * n_objectives
            row.update(zip(objectives, values, strict=True))
        row.update({f"p:{n}": _cell(t.config.get(n)) for n in names})
        row.update({f"m:{k}": _cell(t.metadata.get(k)) for k in meta_keys})
        row.update({f"u:{k}": _cell(t.user_attrs.get(k)) for k in user_keys})
        row.update(
            datetime_start=t.datetime_start,
            datetime_complete=t.datetime_complete,
            duration=t.duration,
            fail_reason=(t.fail_reason or "").splitlines()[0] if t.fail_reason else None,
        )
        rows.append(row)
    columns = (
        ["number", "state", *objectives]
        + [f"p:{n}" for n in names]
        + [f"m:{k}" for k in meta_keys]
        + [f"u:{k}" for k in user_keys]
        + _TIMING
        + ["fail_reason"]
    )
    return pd.DataFrame(rows, columns=columns)


def write_csv(df: Any, path: str | os.PathLike[str]) -> None:
    """Write ``df`` to ``path`` through a temporary file and a rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            df.to_csv(fh, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def top_k(
    csv_path: str | os.PathLike[str], k: int = 3, direction: str = "maximize", directions: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The ``k`` best completed rows of a results CSV, as dicts with ``objective`` and the ``p:`` config.

    A CSV of several objectives (``objective_0``, ``objective_1``, ...) gives its Pareto front instead (under
    ``directions``, default maximize each, as DeepHyper's): every row of it when it has ``k`` rows or fewer,
    else the ``k`` most spread out (by crowding distance); each dict has ``objective_<i>`` keys.
    Values of list/dict parameters are read back from their JSON text.
    """
    import pandas as pd

    check_int("k", k, minimum=1)
    df = pd.read_csv(csv_path)
    several = sorted((c for c in df.columns if c.startswith("objective_") and c[10:].isdigit()),
                     key=lambda c: int(c[10:]))
    if several and "objective" not in df.columns:
        return _front(df, several, k, directions)
    if "objective" not in df.columns:
        raise ValueError(f"{csv_path} has no 'objective' column; is it a hypersweep results file?")
    if "state" in df.columns:
        df = df[df["state"] == "complete"]
    df = df.dropna(subset=["objective"])
    df = df.sort_values("objective", ascending=direction != "maximize").head(k)
    out = []
    for _, row in df.iterrows():
        config = {}
        for col in df.columns:
            if col.startswith("p:"):
                config[col[2:]] = _uncell(row[col])
        out.append({"number": int(row["number"]), "objective": float(row["objective"]), "config": config})
    return out


def _front(df: Any, columns: list[str], k: int, directions: Sequence[str] | None) -> list[dict[str, Any]]:
    from hypersweep.multi_objective import as_losses, crowding_distance, pareto_front_mask

    directions = list(directions) if directions is not None else ["maximize"] * len(columns)
    if len(directions) != len(columns):
        raise ValueError(f"{len(directions)} directions for the {len(columns)} objectives {columns}")
    if "state" in df.columns:
        df = df[df["state"] == "complete"]
    df = df.dropna(subset=columns)
    losses = as_losses(df[columns].to_numpy(dtype=float), directions)
    keep = pareto_front_mask(losses)
    df, losses = df[keep], losses[keep]
    if len(df) > k:
        spread = crowding_distance(losses)
        df = df.iloc[sorted(sorted(range(len(df)), key=lambda i: -spread[i])[:k])]
    out = []
    for _, row in df.iterrows():
        config = {col[2:]: _uncell(row[col]) for col in df.columns if col.startswith("p:")}
        out.append({"number": int(row["number"]), **{c: float(row[c]) for c in columns}, "config": config})
    return out


def _uncell(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, str) and value.startswith(("[", "{")):
        try:
            return _json.loads(value)
        except ValueError:
            return value
    return value
