"""Endpoints: aggregated-solutions paging, pools, projects, assignments, user skills."""

from __future__ import annotations

import pandas as pd
import pytest

from .conftest import CAT_DOG

UNICODE_IDS = ["кот-1", "🐱", "é", "a", "Z", "日本", "a b", 'q"uote', "back\\slash", "ß"]


def _ids(items):
    return [item["task_id"] for item in items]


@pytest.fixture
def operation_id(api):
    return api.run("7")  # 6 tasks t000..t005


def test_page_boundary_multiple_of_limit(api, operation_id):
    first = api.get(f"/aggregated-solutions/{operation_id}", sort="task_id", limit=3).json()
    assert _ids(first["items"]) == ["t000", "t001", "t002"] and first["has_more"] is True
    second = api.get(
        f"/aggregated-solutions/{operation_id}", sort="task_id", limit=3, task_id_gt="t002"
    ).json()
    assert _ids(second["items"]) == ["t003", "t004", "t005"] and second["has_more"] is False


@pytest.mark.parametrize("limit", [1, 2, 4, 5, 6, 7])
@pytest.mark.parametrize("sort", ["task_id", "-task_id"])
def test_keyset_paging_gives_every_task_once(api, operation_id, limit, sort):
    items = api.all_pages(operation_id, limit, sort)
    expected = [f"t{i:03d}" for i in range(6)]
    assert _ids(items) == (expected if sort == "task_id" else expected[::-1])


def test_bound_filters(api, operation_id):
    def ids(**params):
        return _ids(
            api.get(f"/aggregated-solutions/{operation_id}", sort="task_id", **params).json()[
                "items"
            ]
        )

    assert ids(task_id_gt="t002") == ["t003", "t004", "t005"]
    assert ids(task_id_gte="t002") == ["t002", "t003", "t004", "t005"]
    assert ids(task_id_lt="t002") == ["t000", "t001"]
    assert ids(task_id_lte="t002") == ["t000", "t001", "t002"]
    assert ids(task_id_gt="t001", task_id_lt="t004") == ["t002", "t003"]
    assert ids(task_id_gt="t0015") == [
        "t002",
        "t003",
        "t004",
        "t005",
    ]  # bounds need not be task ids
    assert ids(task_id_gt="t005") == [] and ids(task_id_gt="t004", task_id_lt="t002") == []
    page = api.get(
        f"/aggregated-solutions/{operation_id}", sort="-task_id", limit=2, task_id_lt="t004"
    ).json()
    assert _ids(page["items"]) == ["t003", "t002"] and page["has_more"] is True


def test_item_shape(api, operation_id):
    item = api.get(f"/aggregated-solutions/{operation_id}", sort="task_id", limit=1).json()[
        "items"
    ][0]
    assert set(item) == {"pool_id", "task_id", "confidence", "output_values"}
    assert item["pool_id"] == "7" and item["output_values"] == {"result": "cat"}
    assert isinstance(item["confidence"], float)


def test_default_limit_is_50_and_max_is_100000(demo_api):
    operation_id = demo_api.run("1001")
    assert (
        len(demo_api.get(f"/aggregated-solutions/{operation_id}", sort="task_id").json()["items"])
        == 50
    )
    page = demo_api.get(
        f"/aggregated-solutions/{operation_id}", sort="task_id", limit=100000
    ).json()
    assert len(page["items"]) == 2000 and page["has_more"] is False
    for bad in (0, -1, 100001, "x", 2.5, "1_000", " 5", "+5", "\u0665", ""):
        response = demo_api.get(f"/aggregated-solutions/{operation_id}", limit=bad)
        assert response.status_code == 400 and "limit" in response.json()["payload"]
    response = demo_api.get(f"/aggregated-solutions/{operation_id}", sort="confidence")
    assert response.status_code == 400 and "sort" in response.json()["payload"]


def test_demo_pool_keyset_paging_gives_every_task_once(demo_api):
    operation_id = demo_api.run("1001")
    items = demo_api.all_pages(operation_id, 300)
    ids = _ids(items)
    assert len(ids) == len(set(ids)) == 2000 and ids == sorted(ids)


def test_without_sort_the_order_is_a_deterministic_shuffle(demo_api):
    operation_id = demo_api.run("1001")
    unsorted = _ids(
        demo_api.get(f"/aggregated-solutions/{operation_id}", limit=2000).json()["items"]
    )
    again = _ids(demo_api.get(f"/aggregated-solutions/{operation_id}", limit=2000).json()["items"])
    assert (
        unsorted == again
        and unsorted != sorted(unsorted)
        and sorted(unsorted) == sorted(set(unsorted))
    )
    # keyset paging without sort loses rows, as on the real service
    first = demo_api.get(f"/aggregated-solutions/{operation_id}", limit=1000).json()
    rest = demo_api.get(
        f"/aggregated-solutions/{operation_id}",
        limit=1000,
        task_id_gt=first["items"][-1]["task_id"],
    ).json()
    assert len({*_ids(first["items"]), *_ids(rest["items"])}) < 2000


def test_empty_pool(server, api):
    server.add_pool(
        "e",
        responses=pd.DataFrame({"task_id": [], "worker_id": [], "result": []}),
        output_spec=CAT_DOG,
    )
    operation_id = api.run("e")
    for sort in ("task_id", "-task_id", None):
        params = {"sort": sort} if sort else {}
        assert api.get(f"/aggregated-solutions/{operation_id}", **params).json() == {
            "items": [],
            "has_more": False,
        }
    assert api.get("/assignments", pool_id="e").json() == {"items": [], "has_more": False}


def test_unicode_task_ids(server, api):
    responses = pd.DataFrame({"task_id": UNICODE_IDS, "worker_id": "w", "result": "cat"})
    server.add_pool("u", responses=responses, output_spec=CAT_DOG)
    operation_id = api.run("u")
    for limit in (1, 3, 10):
        assert _ids(api.all_pages(operation_id, limit)) == sorted(UNICODE_IDS)
        assert _ids(api.all_pages(operation_id, limit, "-task_id")) == sorted(
            UNICODE_IDS, reverse=True
        )
    page = api.get(
        f"/aggregated-solutions/{operation_id}", sort="task_id", task_id_gte="кот-1"
    ).json()
    assert _ids(page["items"]) == [i for i in sorted(UNICODE_IDS) if i >= "кот-1"]


def test_pools_and_projects(api):
    listing = api.get("/pools").json()
    assert listing["has_more"] is False
    assert [p["id"] for p in listing["items"]] == ["7", "8"]
    pool = api.get("/pools/8").json()
    assert pool["project_id"] == "70" and "mixer_config" in pool and pool["status"]
    assert "mixer_config" not in api.get("/pools/7").json()
    assert api.get("/pools", limit=1).json()["has_more"] is True
    assert [p["id"] for p in api.get("/pools", project_id="70", id_gt="7").json()["items"]] == ["8"]
    project = api.get("/projects/70").json()
    assert project["id"] == "70"
    assert project["task_spec"]["output_spec"]["result"] == {
        "type": "STRING",
        "required": True,
        "allowed_values": ["cat", "dog"],
    }
    assert [p["id"] for p in api.get("/projects").json()["items"]] == ["70"]
    for path in ("/pools/999", "/projects/999"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["code"] == "DOES_NOT_EXIST"


def test_assignments_shape_and_status_filter(server, api):
    responses = pd.DataFrame(
        {
            "task_id": ["t1", "t2", "t3", "t1"],
            "worker_id": ["w1", "w1", "w1", "w2"],
            "assignment_id": ["a1", "a1", "a2", "a3"],
            "status": ["ACCEPTED", "ACCEPTED", "REJECTED", "SUBMITTED"],
            "submitted": pd.to_datetime(["2024-01-02 03:04:05.678"] * 4),
            "result": ["cat", "dog", "cat", "dog"],
        }
    )
    server.add_pool("a", responses=responses, output_spec=CAT_DOG)
    items = api.get("/assignments", pool_id="a").json()["items"]
    assert [i["id"] for i in items] == ["a1", "a2", "a3"]
    first = items[0]
    assert first["pool_id"] == "a" and first["user_id"] == "w1" and first["status"] == "ACCEPTED"
    assert first["task_suite_id"]
    assert [t["id"] for t in first["tasks"]] == ["t1", "t2"]
    assert [s["output_values"] for s in first["solutions"]] == [
        {"result": "cat"},
        {"result": "dog"},
    ]
    assert first["submitted"] == first["accepted"] == "2024-01-02T03:04:05.678"
    assert "rejected" in items[1] and "accepted" not in items[2]
    accepted = api.get("/assignments", pool_id="a", status="ACCEPTED").json()["items"]
    assert [i["id"] for i in accepted] == ["a1"]
    assert api.get("/assignments", pool_id="a", status="DONE").status_code == 400
    assert api.get("/assignments", pool_id="nope").status_code == 404


def test_assignments_keyset_paging(demo_api):
    seen, params = [], {"pool_id": "1001", "status": "ACCEPTED", "sort": "id", "limit": 700}
    while True:
        page = demo_api.get("/assignments", **params).json()
        assert page["items"] or not page["has_more"]
        seen += [i["id"] for i in page["items"]]
        if not page["has_more"]:
            break
        params["id_gt"] = page["items"][-1]["id"]
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    all_items = demo_api.get("/assignments", pool_id="1001", limit=100000).json()["items"]
    assert len(seen) == sum(i["status"] == "ACCEPTED" for i in all_items) > 9000
    desc = demo_api.get(
        "/assignments", pool_id="1001", status="ACCEPTED", sort="-id", limit=3
    ).json()["items"]
    assert [i["id"] for i in desc] == seen[::-1][:3]


def test_assignments_across_pools(api):
    page = api.get("/assignments", limit=20).json()
    ids = [i["id"] for i in page["items"]]
    assert ids == sorted(ids) and page["has_more"] is True
    assert {i["pool_id"] for i in page["items"]} == {"7", "8"}
    total = api.get("/assignments", limit=1000).json()
    assert len(total["items"]) == 36 and total["has_more"] is False


def test_user_skills(server, api):
    server.add_skills(
        pd.DataFrame({"worker_id": ["w1", "w9"], "skill_id": "s2", "value": [55.5, 10]})
    )
    items = api.get("/user-skills", skill_id="s1").json()["items"]
    assert [(i["user_id"], i["value"]) for i in items] == [("w1", 90), ("w2", 80), ("w3", 70)]
    assert set(items[0]) >= {"id", "skill_id", "user_id", "value", "exact_value"}
    mine = api.get("/user-skills", user_id="w1").json()["items"]
    assert sorted((i["skill_id"], i["exact_value"]) for i in mine) == [("s1", 90.0), ("s2", 55.5)]
    page = api.get("/user-skills", limit=2).json()
    rest = api.get("/user-skills", limit=10, id_gt=page["items"][-1]["id"]).json()
    assert (
        page["has_more"] and len(page["items"]) + len(rest["items"]) == 5 and not rest["has_more"]
    )
