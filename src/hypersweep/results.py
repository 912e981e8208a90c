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
    """One row per trial.

    >>> from hypersweep.trial import TrialState
    >>> df = trials_dataframe([Trial(0, {"x": 1}, TrialState.COMPLETE, value=2.0, metadata={"t": 3})])
    >>> list(df.columns)[:5]
    ['number', 'state', 'objective', 'p:x', 'm:t']
    """
    import pandas as pd

    names = list(param_names) if param_names is not None else sorted({k for t in trials for k in t.config})
    meta_keys = sorted({k for t in trials for k in t.metadata})
    user_keys = sorted({k for t in trials for k in t.user_attrs})
    rows = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number, "state": t.state.value, "objective": t.value}
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
        ["number", "state", "objective"]
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


def top_k(csv_path: str | os.PathLike[str], k: int = 3, direction: str = "maximize") -> list[dict[str, Any]]:
    """The ``k`` best completed rows of a results CSV, as dicts with ``objective`` and the ``p:`` config.

    Values of list/dict parameters are read back from their JSON text.
    """
    import pandas as pd

    check_int("k", k, minimum=1)
    df = pd.read_csv(csv_path)
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


def _uncell(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, str) and value.startswith(("[", "{")):
        try:
            return _json.loads(value)
        except ValueError:
            return value
    return value
