"""A live, read-only web dashboard of every study in a storage: ``hypersweep dashboard STORAGE_URL``.

Built on Starlette (an ASGI toolkit: routing, responses, middleware, a test client; no template engine or ORM
to carry) served by uvicorn, with plotly.js in the page. The server keeps one incremental view per study (the
storage's ``get_trials(since=cursor)``), so a refresh reads only the trials that changed; the page polls for
those and redraws. Everything a user wrote (parameter names and values, attributes, failure reasons) reaches the
page as JSON and is put in the page with ``textContent``, never as HTML, so no trial can inject script.

>>> from hypersweep.storage import InMemoryStorage
>>> from starlette.testclient import TestClient
>>> import hypersweep as hs
>>> storage = InMemoryStorage()
>>> study = hs.create_study({"x": (0.0, 1.0)}, storage=storage, name="demo", sampler="random", seed=0)
>>> study.optimize(lambda c: c["x"], n_trials=3, progress=False)
>>> client = TestClient(create_app(storage))
>>> [s["name"] for s in client.get("/api/studies").json()["studies"]]
['demo']
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import secrets
import threading
from pathlib import Path
from typing import Any

from hypersweep._validation import invalid
from hypersweep.space import Space

__all__ = ["LOCAL_HOSTS", "create_app", "serve"]

#: addresses that only this machine reaches: binding anything else needs a token
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_STATIC = Path(__file__).resolve().parent / "static"
_PLOTS = {
    "history": "plot_optimization_history",
    "intermediate": "plot_intermediate_values",
    "parallel": "plot_parallel_coordinate",
    "contour": "plot_contour",
    "slice": "plot_slice",
    "importances": "plot_param_importances",
    "edf": "plot_edf",
    "timeline": "plot_timeline",
    "brackets": "plot_brackets",
    "pareto": "plot_pareto_front",
    "hypervolume": "plot_hypervolume_history",  # reference point: viz.data.default_reference_point
}
#: plots of one value per trial: for a study of several objectives they show the first one
_ONE_VALUE = ("history", "parallel", "contour", "slice", "importances", "edf")


class _StudyView:
    """One study as the dashboard sees it: its trials by number, kept current with incremental reads."""

    def __init__(self, storage: Any, record: Any) -> None:
        from hypersweep.direction import Direction

        self.storage, self.study_id, self.name = storage, record.study_id, record.name
        self.directions = [Direction.of(d) for d in record.directions]
        self.direction = self.directions[0]
        self.space = Space.from_dict(record.space or {})
        self.cursor = 0
        self.changed: dict[int, int] = {}  # number -> cursor at which we last saw it change
        self.by_number: dict[int, Any] = {}
        self.responses: dict[Any, Any] = {}  # what was computed at the current cursor (bodies, the summary)
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            trials, cursor = self.storage.get_trials(self.study_id, since=self.cursor)
            for trial in trials:
                self.by_number[trial.number] = trial
                self.changed[trial.number] = cursor
            if cursor != self.cursor:
                self.responses.clear()
            self.cursor = cursor

    def cached(self, key: Any, make: Any) -> Any:
        """What ``make()`` gives for ``key`` at the current cursor (a response body, a summary): made once,
        until a trial changes."""
        body = self.responses.get(key)
        if body is None:
            body = self.responses[key] = make()
        return body

    @property
    def trials(self) -> list[Any]:
        return [self.by_number[n] for n in sorted(self.by_number)]

    def since(self, cursor: int) -> list[Any]:
        return [self.by_number[n] for n in sorted(self.by_number) if self.changed[n] > cursor]


def _summary(view: _StudyView, record: Any) -> dict[str, Any]:
    """A study's line in the list of studies (for several objectives, the size of the Pareto front as best)."""
    if len(view.directions) > 1:
        from hypersweep.viz.data import pareto_front_data

        front = len(pareto_front_data(view)["front"]["number"])
        return {"id": record.study_id, "name": record.name, "direction": ", ".join(d.value for d in view.directions),
                "n_trials": len(view.by_number), "best": f"front of {front}" if front else None}
    complete = [t.value for t in view.trials if t.state.value == "complete" and t.value is not None]
    best = (max if view.direction.sign > 0 else min)(complete) if complete else None
    return {"id": record.study_id, "name": record.name, "direction": record.direction,
            "n_trials": len(view.by_number), "best": _finite(best)}


def _finite(value: Any) -> Any:
    return value if not isinstance(value, float) or math.isfinite(value) else None


def _cell(value: Any) -> Any:
    """A parameter or attribute value for the table: JSON scalars as they are, anything else as JSON text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _finite(value)
    return json.dumps(value, default=str)


#: the columns of a trial row in the trials response (each row a list in this order; "params" a list in the
#: order of the response's "params")
ROW_FIELDS = ("number", "state", "value", "params", "duration", "steps", "worker", "fail_reason")


def _row(trial: Any, params: list[str]) -> list[Any]:
    several = trial.values is not None and len(trial.values) > 1
    return [
        trial.number,
        trial.state.value,
        [_finite(v) for v in trial.values] if several else _finite(trial.value),
        [_cell(trial.config.get(p)) for p in params],
        trial.duration,
        len(trial.intermediate),
        trial.worker,
        (trial.fail_reason or "").splitlines()[0] if trial.fail_reason else None,
    ]


def _as_dict(row: list[Any], params: list[str]) -> dict[str, Any]:
    out = dict(zip(ROW_FIELDS, row, strict=True))
    out["params"] = dict(zip(params, out["params"], strict=True))
    return out


def create_app(storage: Any, token: str | None = None) -> Any:
    """The dashboard as an ASGI app over ``storage`` (a storage object or URL). With ``token``, every request
    must carry it (``?token=...`` once, then a cookie; or an ``Authorization: Bearer`` header)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    from hypersweep.storage import StudyNotFound, get_storage

    backend = get_storage(storage)
    views: dict[int, _StudyView] = {}
    views_lock = threading.Lock()

    def view_of(study_id: int, record: Any = None) -> _StudyView:
        with views_lock:
            if study_id not in views:
                if record is None:
                    record = next((r for r in backend.list_studies() if r.study_id == study_id), None)
                if record is None:
                    raise StudyNotFound(f"no study with id {study_id}")
                views[study_id] = _StudyView(backend, record)
            view = views[study_id]
        view.refresh()
        return view

    def studies(request: Any) -> Response:
        rows = []
        for record in backend.list_studies():
            view = view_of(record.study_id, record)
            rows.append(view.cached(("summary",), lambda view=view, record=record: _summary(view, record)))
        return JSONResponse({"studies": rows})

    def trials(request: Any) -> Response:
        view = view_of(int(request.path_params["study_id"]))
        since = min(int(request.query_params.get("since", 0)), view.cursor)
        params = list(view.space)

        def body() -> bytes:
            return JSONResponse({"cursor": view.cursor, "name": view.name, "direction": view.direction.value,
                                 "params": params, "fields": ROW_FIELDS,
                                 "trials": [_row(t, params) for t in view.since(since)]}).body

        return Response(view.cached(("trials", since), body), media_type="application/json")

    def trial(request: Any) -> Response:
        view = view_of(int(request.path_params["study_id"]))
        found = view.by_number.get(int(request.path_params["number"]))
        if found is None:
            return JSONResponse({"error": "no such trial"}, status_code=404)
        steps = sorted(found.intermediate)
        params = list(view.space)
        return JSONResponse({
            **_as_dict(_row(found, params), params),
            "params": {k: _cell(v) for k, v in found.config.items()},
            "intermediate": {"step": steps, "value": [_finite(found.intermediate[s]) for s in steps]},
            "user_attrs": {k: _cell(v) for k, v in found.user_attrs.items()},
            "metadata": {k: _cell(v) for k, v in found.metadata.items()},
            "system_attrs": {k: _cell(v) for k, v in found.system_attrs.items()},
            "fail_reason": found.fail_reason,
            "artifacts": [{"name": a.name, "kind": a.kind, "step": a.step, "size": a.size, "format": a.format}
                          for a in found.artifacts.values()],
        })

    def plot(request: Any) -> Response:
        from hypersweep import viz

        kind = request.path_params["kind"]
        if kind not in _PLOTS:
            return JSONResponse({"error": f"unknown plot {kind!r}; one of {sorted(_PLOTS)}"}, status_code=404)
        view = view_of(int(request.path_params["study_id"]))

        def body() -> bytes:
            draw = getattr(viz, _PLOTS[kind])
            options: dict[str, Any] = {}
            if kind in _ONE_VALUE and len(view.directions) > 1:  # several objectives: the first one
                options = {"target": lambda t: t.values[0] if t.values else math.nan,
                           "target_name": f"objective 0 ({view.directions[0].value})"}
            try:
                figure = draw(view if kind != "edf" else [view], **options)
            except ValueError as error:  # e.g. a Pareto front of one objective: say so in the figure
                from hypersweep.viz.plots import _empty

                figure = _empty(kind, str(error).split(";")[0])
            return figure.to_json().encode()

        return Response(view.cached(("plot", kind), body), media_type="application/json")

    def index(request: Any) -> Response:
        return HTMLResponse(_page("hypersweep", "index", {}))

    def study_page(request: Any) -> Response:
        study_id = int(request.path_params["study_id"])
        view = view_of(study_id)
        return HTMLResponse(_page(f"{view.name} - hypersweep", "study", {"study": study_id, "name": view.name}))

    def static(request: Any) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            import plotly

            return FileResponse(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                                headers={"Cache-Control": "max-age=86400"})  # 4.6 MB, the same all day
        path = _STATIC / name
        if name not in ("dashboard.js", "dashboard.css") or not path.exists():
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    def not_found(request: Any, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=404)

    middleware = []
    if token is not None:
        class _Token(BaseHTTPMiddleware):
            async def dispatch(self, request: Any, call_next: Any) -> Response:
                given = (request.query_params.get("token") or request.cookies.get("hs_token")
                         or request.headers.get("authorization", "").removeprefix("Bearer ").strip())
                if not given or not secrets.compare_digest(given, token):
                    return PlainTextResponse("this dashboard needs its token: open the address it printed "
                                             "(…/?token=...)", status_code=401)
                response = await call_next(request)
                if request.query_params.get("token"):
                    response.set_cookie("hs_token", token, httponly=True, samesite="strict")
                return response

        middleware.append(Middleware(_Token))

    routes = [
        Route("/", index),
        Route("/study/{study_id:int}", study_page),
        Route("/api/studies", studies),
        Route("/api/studies/{study_id:int}/trials", trials),
        Route("/api/studies/{study_id:int}/trials/{number:int}", trial),
        Route("/api/studies/{study_id:int}/plots/{kind}", plot),
        Route("/static/{name}", static),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        def warm() -> None:  # read every study once in the background, so that a first visit finds it loaded
            for record in backend.list_studies():
                view_of(record.study_id, record)

        threading.Thread(target=warm, daemon=True, name="hypersweep-dashboard-warm").start()
        yield

    return Starlette(routes=routes, middleware=middleware, exception_handlers={StudyNotFound: not_found},
                     lifespan=lifespan)


def _page(title: str, page: str, data: dict[str, Any]) -> str:
    """The HTML shell of a page; its content is drawn by dashboard.js from the JSON API."""
    payload = html.escape(json.dumps(data), quote=True)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/dashboard.css">
<script src="/static/plotly.min.js"></script></head>
<body data-page="{page}" data-args="{payload}"><header><a href="/">hypersweep</a> <span id="title"></span></header>
<main id="main"></main><script src="/static/dashboard.js"></script></body></html>"""


def serve(target: Any, host: str = "127.0.0.1", port: int = 8080, token: str | None = None) -> None:
    """Serve the dashboard of ``target`` (a study, a storage or a storage URL) until Ctrl-C.

    Binding an address other than this machine's own (``host="0.0.0.0"``) needs a ``token``: pass one, or
    ``token="auto"`` for a random one, printed in the address to open.
    """
    import uvicorn

    storage = getattr(target, "storage", target)
    if host not in LOCAL_HOSTS and token is None:
        raise invalid("token", token, "a string when the dashboard binds another address than this machine's",
                      f"host={host!r} lets other machines in: pass token='...' (or token='auto'), or keep "
                      "host='127.0.0.1'")
    if token == "auto":
        token = secrets.token_urlsafe(16)
    address = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    print(f"hypersweep dashboard on {address} (Ctrl-C stops it)", flush=True)
    uvicorn.run(create_app(storage, token=token), host=host, port=port, log_level="warning")
