"""The dashboard's server: the JSON API over a storage (incremental reads), plots, the token, escaping."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

import hypersweep as hs  # noqa: E402
from hypersweep.viz import data as viz_data  # noqa: E402
from hypersweep.viz.dashboard import _PLOTS, create_app, serve  # noqa: E402

EVIL = "<script>window.__pwned = 1</script>"


@pytest.fixture()
def storage(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    study = hs.create_study({"x": (0.0, 1.0), "tag": ["plain", EVIL]}, storage=url, name="s", sampler="random",
                            seed=0)

    def objective(config, trial):
        for step in (1, 2, 3):
            trial.report(config["x"] / step, step)
        return config["x"]

    study.optimize(objective, n_trials=6, progress=False)
    return url


def test_studies_trials_and_incremental_reads(storage):
    client = TestClient(create_app(storage))
    [study] = client.get("/api/studies").json()["studies"]
    assert study["name"] == "s" and study["n_trials"] == 6 and study["direction"] == "minimize"
    first = client.get(f"/api/studies/{study['id']}/trials").json()
    assert [t[0] for t in first["trials"]] == list(range(6)) and first["params"] == ["x", "tag"]
    assert first["fields"][:4] == ["number", "state", "value", "params"]
    assert first["trials"][0][3][0] == hs.load_study("s", storage).trials[0].config["x"]
    assert client.get(f"/api/studies/{study['id']}/trials?since={first['cursor']}").json()["trials"] == []
    more = hs.load_study("s", storage, sampler="random")
    more.optimize(lambda c: c["x"], n_trials=1, progress=False)
    changed = client.get(f"/api/studies/{study['id']}/trials?since={first['cursor']}").json()
    assert [t[0] for t in changed["trials"]] == [6]  # only what changed since the cursor
    detail = client.get(f"/api/studies/{study['id']}/trials/2").json()
    assert detail["intermediate"]["step"] == [1, 2, 3] and detail["state"] == "complete"
    assert client.get(f"/api/studies/{study['id']}/trials/99").status_code == 404
    assert client.get("/api/studies/12345/trials").status_code == 404


def test_every_plot_is_served_as_a_figure(storage):
    client = TestClient(create_app(storage))
    for kind in _PLOTS:
        figure = client.get(f"/api/studies/1/plots/{kind}").json()
        assert "layout" in figure, kind
    assert client.get("/api/studies/1/plots/nope").status_code == 404


def test_a_study_of_several_objectives(tmp_path):
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "maximize"], storage=url, name="mo",
                            sampler="random", seed=0)
    study.optimize(lambda c: (c["x"], c["x"] ** 2), n_trials=5, progress=False)  # min x, max x^2: a trade-off
    client = TestClient(create_app(url))
    [row] = client.get("/api/studies").json()["studies"]
    assert row["direction"] == "minimize, maximize" and row["best"] == f"front of {len(study.best_trials)}"
    trials = client.get(f"/api/studies/{row['id']}/trials").json()["trials"]
    assert [t[2] for t in trials] == [list(t.values) for t in study.trials]
    for kind in _PLOTS:  # one-value plots show the first objective; the front is drawn from every one
        figure = client.get(f"/api/studies/{row['id']}/plots/{kind}").json()
        assert "layout" in figure, kind
    front = client.get(f"/api/studies/{row['id']}/plots/pareto").json()
    shown = [n for trace in front["data"] if trace["name"] == "Pareto front" for n in trace["customdata"]]
    assert sorted(shown) == sorted(t.number for t in study.best_trials)
    history = client.get(f"/api/studies/{row['id']}/plots/history").json()
    assert history["data"][0]["y"] == [t.values[0] for t in study.trials]
    volume = client.get(f"/api/studies/{row['id']}/plots/hypervolume").json()  # from the default reference point
    reference = viz_data.default_reference_point(study)
    assert volume["data"][0]["y"] == viz_data.hypervolume_history_data(study, reference)["hypervolume"]
    assert volume["data"][0]["y"][-1] > 0 and "reference point" in volume["layout"]["title"]["text"]


def test_pages_escape_what_users_wrote_and_serve_their_scripts(storage):
    client = TestClient(create_app(storage))
    page = client.get("/study/1").text
    assert "<script src=\"/static/dashboard.js\"></script>" in page and EVIL not in page
    assert client.get("/static/plotly.min.js").status_code == 200
    assert "textContent" in client.get("/static/dashboard.js").text
    assert client.get("/static/../dashboard.py").status_code == 404
    values = [t[3][1] for t in client.get("/api/studies/1/trials").json()["trials"]]
    assert EVIL in values  # the data is the user's, verbatim: the page puts it in as text (browser test)


def test_a_token_guards_every_request(storage):
    client = TestClient(create_app(storage, token="sesame"))
    assert client.get("/api/studies").status_code == 401
    assert client.get("/api/studies?token=wrong").status_code == 401
    assert client.get("/?token=sesame").status_code == 200  # and sets the cookie
    assert client.get("/api/studies").status_code == 200
    other = TestClient(create_app(storage, token="sesame"))
    assert other.get("/api/studies", headers={"Authorization": "Bearer sesame"}).status_code == 200


def test_binding_another_address_needs_a_token(storage):
    with pytest.raises(ValueError, match="token"):
        serve(storage, host="0.0.0.0")


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:5432/test", "mysql+pymysql://root@127.0.0.1:3306/test"])
def test_live_reads_on_database_servers(url):
    import uuid

    from hypersweep.storage.sql import SQLStorage, StorageConnectionError

    try:
        storage = SQLStorage(url, table_prefix=f"hs_d{uuid.uuid4().hex[:8]}_")
    except (StorageConnectionError, ImportError) as exc:  # pragma: no cover - the servers are part of the machine
        pytest.skip(f"database server unreachable: {exc}")
    try:
        study = hs.create_study({"x": (0.0, 1.0)}, storage=storage, name="live", sampler="random", seed=0)
        study.optimize(lambda c: c["x"], n_trials=3, progress=False)
        client = TestClient(create_app(storage))
        [record] = client.get("/api/studies").json()["studies"]
        first = client.get(f"/api/studies/{record['id']}/trials").json()
        assert len(first["trials"]) == 3
        study.optimize(lambda c: c["x"], n_trials=2, progress=False)
        changed = client.get(f"/api/studies/{record['id']}/trials?since={first['cursor']}").json()
        assert [t[0] for t in changed["trials"]] == [3, 4]
        assert client.get(f"/api/studies/{record['id']}/plots/history").json()["data"]
    finally:
        storage.drop_tables()
        storage.close()


def test_the_cli_command_refuses_another_address_without_a_token(storage):
    from click.testing import CliRunner

    from hypersweep.cli import cli

    result = CliRunner().invoke(cli, ["dashboard", storage, "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--token" in result.output and "Traceback" not in result.output
