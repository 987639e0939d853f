"""Shared fixtures: a real server on 127.0.0.1:0, and a raw-HTTP API helper."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import requests

from pandas_toloka.server import LocalTolokaServer, add_demo_pools

TOKEN = "test-token-123"
CAT_DOG = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}


class Api:
    """Speaks the Toloka API over raw HTTP, as a client would."""

    def __init__(
        self, server: LocalTolokaServer, token: str = TOKEN, scheme: str = "ApiKey"
    ) -> None:
        self.server = server
        self.root = server.url + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"{scheme} {token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.root + path, params=params, timeout=10)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.root + path, json=body, timeout=10)

    def aggregate(
        self,
        pool_id: str,
        kind: str = "DAWID_SKENE",
        fields: tuple[str, ...] = ("result",),
        **extra: Any,
    ) -> requests.Response:
        body = {"type": kind, "pool_id": pool_id, "fields": [{"name": f} for f in fields], **extra}
        return self.post("/aggregated-solutions/aggregate-by-pool", body)

    def wait(self, operation_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            operation = self.get(f"/operations/{operation_id}").json()
            if operation["status"] in ("SUCCESS", "FAIL"):
                return operation
            if time.monotonic() > deadline:
                raise AssertionError(f"operation still {operation['status']}")
            time.sleep(0.01)

    def run(self, pool_id: str, **kwargs: Any) -> str:
        """Start an aggregation, wait for SUCCESS, return the operation id."""
        response = self.aggregate(pool_id, **kwargs)
        assert response.status_code == 201, response.text
        operation = self.wait(response.json()["id"])
        assert operation["status"] == "SUCCESS", operation
        return str(operation["id"])

    def all_pages(
        self, operation_id: str, limit: int, sort: str = "task_id"
    ) -> list[dict[str, Any]]:
        """Keyset-page every aggregated solution; checks has_more never comes with empty items."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        key = "task_id_gt" if sort == "task_id" else "task_id_lt"
        while True:
            page = self.get(f"/aggregated-solutions/{operation_id}", **params).json()
            assert not (page["has_more"] and not page["items"])
            items.extend(page["items"])
            if not page["has_more"]:
                return items
            params[key] = page["items"][-1]["task_id"]


def cat_dog_responses(
    n_tasks: int = 6, workers: tuple[str, ...] = ("w1", "w2", "w3")
) -> pd.DataFrame:
    """Every worker answers every task: ``t0..``; w1 and w2 agree on the truth (cat for even)."""
    rows = []
    for t in range(n_tasks):
        truth = "cat" if t % 2 == 0 else "dog"
        for w in workers:
            answer = truth if w != "w3" else ("dog" if truth == "cat" else "cat")
            rows.append({"task_id": f"t{t:03d}", "worker_id": w, "result": answer})
    return pd.DataFrame(rows)


@pytest.fixture
def server() -> Iterator[LocalTolokaServer]:
    """A running server with pool "7" (6 tasks, cat/dog, no mixer) and pool "8" (smart mixing, skill "s1")."""
    srv = LocalTolokaServer(token=TOKEN)
    srv.add_pool("7", responses=cat_dog_responses(), output_spec=CAT_DOG, project_id="70")
    skills = pd.DataFrame(
        {"worker_id": ["w1", "w2", "w3"], "skill_id": "s1", "value": [90, 80, 70]}
    )
    srv.add_pool(
        "8",
        responses=cat_dog_responses(),
        output_spec=CAT_DOG,
        project_id="70",
        skills=skills,
        smart_mixing=True,
    )
    with srv:
        yield srv


@pytest.fixture
def api(server: LocalTolokaServer) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.session.close()


@pytest.fixture(scope="module")
def demo_server() -> Iterator[LocalTolokaServer]:
    """A running server with the demo pools (1001: DS, 1002: smart mixing + skill 501)."""
    srv = LocalTolokaServer(token=TOKEN)
    add_demo_pools(srv)
    with srv:
        yield srv


@pytest.fixture
def demo_api(demo_server: LocalTolokaServer) -> Iterator[Api]:
    client = Api(demo_server)
    yield client
    client.session.close()
