"""LocalTolokaServer: lifecycle, context manager, repr, from_directory."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import requests

from pandas_toloka.cli import main
from pandas_toloka.errors import InvalidArgumentError
from pandas_toloka.server import LocalTolokaServer, demo_pools, make_demo_data

from .conftest import CAT_DOG, TOKEN, Api, cat_dog_responses


def test_context_manager_starts_and_stops():
    server = LocalTolokaServer()
    assert not server.running and len(server.token) >= 20
    with server as running:
        assert running is server and server.running
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith(":0")
        url = server.url
        response = requests.get(
            url + "/api/v1/pools", headers={"Authorization": f"OAuth {server.token}"}, timeout=5
        )
        assert response.json() == {"items": [], "has_more": False}
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/api/v1/pools", timeout=2)


def test_start_stop_methods_and_restart():
    server = LocalTolokaServer(token=TOKEN)
    server.start()
    assert server.start() is server  # idempotent
    assert Api(server).get("/pools").status_code == 200
    server.stop()
    server.stop()
    server.start()
    try:
        assert Api(server).get("/pools").status_code == 200
    finally:
        server.stop()


def test_stop_closes_idle_keep_alive_connections():
    server = LocalTolokaServer(token=TOKEN).start()
    session = Api(server).session
    session.get(server.url + "/api/v1/pools", timeout=5)
    server.stop()  # must not hang on the idle connection
    assert not server.running


def test_repr_never_shows_the_token():
    server = LocalTolokaServer(token="very-secret-token")
    assert "very-secret-token" not in repr(server) and "stopped" in repr(server)
    with server:
        assert "very-secret-token" not in repr(server) and server.url in repr(server)


def test_bad_token():
    with pytest.raises(InvalidArgumentError):
        LocalTolokaServer(token="two words")


def test_add_pool_after_start(server, api):
    assert api.get("/pools/new").status_code == 404
    server.add_pool("new", responses=cat_dog_responses(), output_spec=CAT_DOG)
    assert api.get("/pools/new").json()["project_id"] == "new"


def test_from_directory(tmp_path):
    make_demo_data(tmp_path)
    server = LocalTolokaServer.from_directory(tmp_path, token=TOKEN)
    assert server.pool_ids == sorted(demo_pools())
    assert server.ground_truth("1001") is not None and len(server.ground_truth("1001")) == 2000
    with server:
        api = Api(server)
        assert "mixer_config" in api.get("/pools/1002").json()
        assert api.get("/pools/1001").json()["private_name"].startswith("Cats")
        assert len(api.get("/user-skills", skill_id="501", limit=1000).json()["items"]) == 51


def test_from_directory_errors(tmp_path):
    with pytest.raises(InvalidArgumentError, match="pools"):
        LocalTolokaServer.from_directory(tmp_path)
    (tmp_path / "pools" / "5").mkdir(parents=True)
    (tmp_path / "pools" / "5" / "pool.json").write_text(json.dumps({"project_id": "p"}))
    with pytest.raises(InvalidArgumentError, match="project"):
        LocalTolokaServer.from_directory(tmp_path)
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "p.json").write_text(
        json.dumps({"task_spec": {"output_spec": CAT_DOG}})
    )
    with pytest.raises(InvalidArgumentError, match="responses.parquet"):
        LocalTolokaServer.from_directory(tmp_path)
    cat_dog_responses().to_parquet(tmp_path / "pools" / "5" / "responses.parquet")
    assert LocalTolokaServer.from_directory(tmp_path).pool_ids == ["5"]


def _minimal_directory(root, pool: dict | None = None) -> None:
    """The smallest data directory docs/server.md describes: pool.json, a project, responses."""
    (root / "pools" / "7").mkdir(parents=True)
    (root / "projects").mkdir()
    (root / "pools" / "7" / "pool.json").write_text(json.dumps(pool or {}))
    (root / "projects" / "7.json").write_text(json.dumps({"task_spec": {"output_spec": CAT_DOG}}))
    cat_dog_responses().to_parquet(root / "pools" / "7" / "responses.parquet")


def test_from_minimal_hand_made_directory_serves_and_aggregates(tmp_path):
    _minimal_directory(tmp_path, {"smart_mixing": True})
    skills = {"worker_id": ["w1", "w2", "w3"], "skill_id": "s", "value": [90, 80, 70]}
    pd.DataFrame(skills).to_parquet(tmp_path / "skills.parquet")
    (tmp_path / "pools" / ".ipynb_checkpoints").mkdir()  # hidden folders are not pools
    with LocalTolokaServer.from_directory(tmp_path, token=TOKEN) as server:
        api = Api(server)
        assert api.get("/pools/7").json()["project_id"] == "7"  # default: the folder name
        for kind, extra in (
            ("DAWID_SKENE", {}),
            ("WEIGHTED_DYNAMIC_OVERLAP", {"answer_weight_skill_id": "s"}),
        ):
            items = api.all_pages(api.run("7", kind=kind, **extra), limit=4)
            assert [i["output_values"]["result"] for i in items] == ["cat", "dog"] * 3


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (lambda root: (root / "pools/7/pool.json").unlink(), "pools/7/pool.json"),
        (lambda root: (root / "pools/7/responses.parquet").write_text("oops"), "responses.parquet"),
        (
            lambda root: (
                cat_dog_responses()
                .rename(columns={"worker_id": "worker"})
                .to_parquet(root / "pools/7/responses.parquet")
            ),
            "responses.parquet",
        ),
        (
            lambda root: (
                cat_dog_responses()
                .replace("cat", "cow")
                .to_parquet(root / "pools/7/responses.parquet")
            ),
            "responses.parquet",
        ),
        (
            lambda root: (root / "pools/7/ground_truth.parquet").write_text("oops"),
            "ground_truth.parquet",
        ),
        (lambda root: (root / "skills.parquet").write_text("oops"), "skills.parquet"),
        (
            lambda root: pd.DataFrame({"worker_id": ["w1"], "value": [50]}).to_parquet(
                root / "skills.parquet"
            ),
            "skills.parquet",
        ),
        (
            lambda root: (root / "projects/7.json").write_text(
                json.dumps({"task_spec": {"output_spec": {"result": {"type": "TEXT"}}}})
            ),
            "projects/7.json",
        ),
        (
            lambda root: (root / "pools/7/pool.json").write_text('{"smart_mixing": "no"}'),
            "pool.json",
        ),
        (lambda root: (root / "pools/7/pool.json").write_text('{"mixer_config": 1}'), "pool.json"),
    ],
    ids=[
        "no-pool-json",
        "responses-not-parquet",
        "responses-missing-column",
        "responses-bad-value",
        "ground-truth-not-parquet",
        "skills-not-parquet",
        "skills-missing-column",
        "project-unknown-type",
        "smart-mixing-not-bool",
        "mixer-config-not-object",
    ],
)
def test_from_directory_errors_name_the_file(tmp_path, damage, names, capsys):
    _minimal_directory(tmp_path)
    damage(tmp_path)
    with pytest.raises(InvalidArgumentError, match=re.escape(names)):
        LocalTolokaServer.from_directory(tmp_path)
    # `serve --data` reports it in one line and exits 1, no traceback.
    assert main(["serve", "--data", str(tmp_path), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("pandas-toloka serve: error: ") and names in err and "Traceback" not in err
    )
