"""LocalTolokaServer: lifecycle, context manager, repr, from_directory."""

from __future__ import annotations

import json

import pytest
import requests

from pandas_toloka.errors import InvalidArgumentError
from pandas_toloka.server import LocalTolokaServer, make_demo_data

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
    assert server.pool_ids == ["1001", "1002"]
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
