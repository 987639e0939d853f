"""Tasks, control tasks and the results export of the bundled server, over real HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError, OutputValueError
from pandas_toloka.server import LocalTolokaServer

from .conftest import CAT_DOG, TOKEN, Api

INPUT_SPEC = {
    "image": {"type": "URL"},
    "meta": {"type": "JSON", "required": False},
    "tags": {"type": "ARRAY_STRING", "required": False},
    "overlap": {"type": "INTEGER", "required": False},  # named like a task column
}


def _tasks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": ["t3", "t1", "t2", "t4"],  # unsorted on purpose
            "image": [f"https://img.example/{i}.jpg" for i in (3, 1, 2, 4)],
            "meta": [{"k": "a\tb"}, None, [1, 2], "s"],
            "tags": [["x"], None, [], ["y", "z"]],
            "input_values.overlap": [7, None, None, None],
            "known_solutions": [
                None,
                [
                    {"output_values": {"result": "cat"}, "correctness_weight": 1},
                    {"output_values": {"result": "dog"}, "correctness_weight": 0.5},
                ],
                None,
                None,
            ],
            "message_on_unknown_solution": [None, "Look at the ears", None, None],
            "overlap": [3, 3, 2, 5],
        }
    )


def _responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": ["t1", "t1", "t2", "t3", "t3"],
            "worker_id": ["w1", "w2", "w1", "w1", "w2"],
            "result": ["cat", "dog", "dog", "cat", "cat"],
            "status": ["ACCEPTED", "REJECTED", "ACCEPTED", "ACCEPTED", "SUBMITTED"],
        }
    )


@pytest.fixture
def tasks_api() -> Iterator[Api]:
    srv = LocalTolokaServer(token=TOKEN)
    srv.add_pool(
        "9", responses=_responses(), output_spec=CAT_DOG, input_spec=INPUT_SPEC, tasks=_tasks()
    )
    with srv:
        api = Api(srv)
        yield api
        api.session.close()


def _pages(api: Api, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params = {"pool_id": "9", "limit": 1, **params}
    for _ in range(100):
        page = api.get("/tasks", **params).json()
        assert not (page["has_more"] and not page["items"])
        items.extend(page["items"])
        if not page["has_more"]:
            return items
        params["id_gt"] = page["items"][-1]["id"]
    raise AssertionError("paging did not end")


def test_tasks_page_in_id_order_with_typed_inputs(tasks_api: Api) -> None:
    items = _pages(tasks_api)
    assert [t["id"] for t in items] == ["t1", "t2", "t3", "t4"]
    t1, t2, t3, t4 = items
    assert t3["input_values"] == {
        "image": "https://img.example/3.jpg",
        "meta": {"k": "a\tb"},
        "tags": ["x"],
        "overlap": 7,
    }
    assert t1["input_values"] == {"image": "https://img.example/1.jpg"}  # nulls left out
    assert t2["input_values"]["meta"] == [1, 2] and t2["input_values"]["tags"] == []
    assert t4["overlap"] == 5 and t4["remaining_overlap"] == 5 and t4["infinite_overlap"] is False
    assert t1["remaining_overlap"] == 2  # one of its two responses is REJECTED
    assert all(t["pool_id"] == "9" and t["created"] for t in items)


def test_control_tasks_carry_known_solutions_and_hint(tasks_api: Api) -> None:
    t1 = tasks_api.get("/tasks/t1").json()
    assert t1["known_solutions"] == [
        {"output_values": {"result": "cat"}, "correctness_weight": 1.0},
        {"output_values": {"result": "dog"}, "correctness_weight": 0.5},
    ]
    assert t1["message_on_unknown_solution"] == "Look at the ears"
    assert "known_solutions" not in tasks_api.get("/tasks/t2").json()
    assert tasks_api.get("/tasks/nope").status_code == 404


def test_task_filters(tasks_api: Api) -> None:
    assert [t["id"] for t in _pages(tasks_api, overlap=3)] == ["t1", "t3"]
    assert [t["id"] for t in _pages(tasks_api, overlap_gt=3)] == ["t4"]
    assert [t["id"] for t in _pages(tasks_api, id_gte="t2", id_lt="t4")] == ["t2", "t3"]
    everything = tasks_api.get("/tasks", pool_id="9", sort="-id", limit=10).json()["items"]
    assert [t["id"] for t in everything] == ["t4", "t3", "t2", "t1"]
    created = everything[0]["created"]
    assert len(_pages(tasks_api, created_lte=created)) == 4
    assert _pages(tasks_api, created_gt=created) == []
    bad = tasks_api.get("/tasks", pool_id="9", overlap_gt="x")
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    assert tasks_api.get("/tasks", pool_id="nope").status_code == 404


def test_tasks_of_every_pool_merge_in_id_order() -> None:
    srv = LocalTolokaServer(token=TOKEN)
    srv.add_pool(
        "9", responses=_responses(), output_spec=CAT_DOG, input_spec=INPUT_SPEC, tasks=_tasks()
    )
    other = pd.DataFrame({"task_id": ["t0", "t25", "t9"], "worker_id": "w1", "result": "cat"})
    srv.add_pool("8", responses=other, output_spec=CAT_DOG)
    with srv:
        api = Api(srv)
        ascending = api.get("/tasks", limit=3).json()
        assert [t["id"] for t in ascending["items"]] == ["t0", "t1", "t2"]
        assert ascending["has_more"] is True
        descending = api.get("/tasks", sort="-id", limit=100).json()
        assert [(t["id"], t["pool_id"]) for t in descending["items"]] == [
            ("t9", "8"),
            ("t4", "9"),
            ("t3", "9"),
            ("t25", "8"),
            ("t2", "9"),
            ("t1", "9"),
            ("t0", "8"),
        ]
        assert descending["has_more"] is False
        last = api.get("/tasks", id_gt="t4", limit=1).json()
        assert [t["id"] for t in last["items"]] == ["t9"] and last["has_more"] is False
        # a filtered page of one pool, newest first: rows picked, not a slice
        page = api.get("/tasks", pool_id="9", sort="-id", overlap_gte=3, limit=2).json()
        assert [t["id"] for t in page["items"]] == ["t4", "t3"] and page["has_more"] is True
        api.session.close()


def test_assignments_carry_their_tasks_inputs(tasks_api: Api) -> None:
    items = tasks_api.get("/assignments", pool_id="9", limit=100).json()["items"]
    by_task = {a["tasks"][0]["id"]: a["tasks"][0] for a in items}
    assert by_task["t3"]["input_values"]["meta"] == {"k": "a\tb"}
    assert by_task["t1"]["known_solutions"][0]["output_values"] == {"result": "cat"}
    assert "known_solutions" not in by_task["t2"]


def test_a_pool_without_tasks_serves_the_answered_tasks(api: Api) -> None:
    items = api.get("/tasks", pool_id="7", limit=100).json()["items"]
    assert [t["id"] for t in items] == [f"t{i:03d}" for i in range(6)]
    assert all(t["input_values"] == {} for t in items)
    project = api.get("/projects/70").json()
    assert project["task_spec"]["input_spec"] == {}


def test_user_skills_have_created_and_modified(api: Api) -> None:
    item = api.get("/user-skills", skill_id="s1", user_id="w1").json()["items"][0]
    assert item["created"] == item["modified"]
    api.server.add_skills(pd.DataFrame({"worker_id": ["w1"], "skill_id": ["s1"], "value": [50]}))
    again = api.get("/user-skills", skill_id="s1", user_id="w1").json()["items"][0]
    assert again["value"] == 50 and again["created"] == item["created"]
    assert again["modified"] >= item["modified"]


def _export(api: Api, **params: Any) -> list[dict[str, str]]:
    url = api.server.url + "/new/requester/pools/9/assignments.tsv"
    response = api.session.get(url, params=params, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/tab-separated-values")
    return list(csv.DictReader(io.StringIO(response.text), delimiter="\t"))


def test_results_export_default_download(tasks_api: Api) -> None:
    rows = _export(tasks_api)
    assert [r["ASSIGNMENT:status"] for r in rows] == ["APPROVED"] * 3  # APPROVED only
    assert list(rows[0]) == [
        "INPUT:image",
        "INPUT:meta",
        "INPUT:tags",
        "INPUT:overlap",
        "OUTPUT:result",
        "GOLDEN:result",
        "HINT:text",
        "ASSIGNMENT:link",
        "ASSIGNMENT:assignment_id",
        "ASSIGNMENT:worker_id",
        "ASSIGNMENT:status",
        "ASSIGNMENT:started",
    ]
    control = [r for r in rows if r["GOLDEN:result"]]
    assert len(control) == 1 and control[0]["HINT:text"] == "Look at the ears"
    assert {r["INPUT:meta"] for r in rows} >= {'{"k": "a\\tb"}', "[1, 2]"}


def test_results_export_statuses_and_fields(tasks_api: Api) -> None:
    rows = _export(
        tasks_api,
        status="APPROVED,REJECTED,SUBMITTED",
        field="ASSIGNMENT:task_id,ASSIGNMENT:status,ASSIGNMENT:accepted,OUTPUT:result",
    )
    assert sorted(r["ASSIGNMENT:status"] for r in rows) == [
        "APPROVED",
        "APPROVED",
        "APPROVED",
        "REJECTED",
        "SUBMITTED",
    ]
    assert all(
        bool(r["ASSIGNMENT:accepted"]) == (r["ASSIGNMENT:status"] == "APPROVED") for r in rows
    )
    # As in Toloka, field= picks the ASSIGNMENT: columns (in its order); the others always come.
    assert list(rows[0]) == [
        "INPUT:image",
        "INPUT:meta",
        "INPUT:tags",
        "INPUT:overlap",
        "OUTPUT:result",
        "GOLDEN:result",
        "HINT:text",
        "ASSIGNMENT:task_id",
        "ASSIGNMENT:status",
        "ASSIGNMENT:accepted",
    ]
    url = tasks_api.server.url + "/new/requester/pools/9/assignments.tsv"
    for params in ({"status": "ACCEPTED"}, {"field": "ASSIGNMENT:nope"}):
        bad = tasks_api.session.get(url, params=params, timeout=10)
        assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"task_id": ["t1", "t1", "t2", "t3"]}, InvalidArgumentError, "listed twice"),
        ({"image": [None, "u", "u", "u"]}, OutputValueError, "Required input field 'image'"),
        ({"image": [1, 2, 3, 4]}, OutputValueError, "Input field 'image'"),
        (
            {"known_solutions": [None, [{"output_values": {"result": "cow"}}], None, None]},
            OutputValueError,
            "allowed values",
        ),
        (
            {
                "known_solutions": [
                    None,
                    [{"output_values": {"result": "cat"}, "correctness_weight": 2}],
                    None,
                    None,
                ]
            },
            InvalidArgumentError,
            "correctness_weight",
        ),
        ({"overlap": [1, -1, 1, 1]}, InvalidArgumentError, "non-negative integers"),
    ],
)
def test_bad_tasks_are_refused(change: dict[str, Any], error: type, match: str) -> None:
    tasks = _tasks().assign(**change)
    with pytest.raises(error, match=match):
        LocalTolokaServer(token=TOKEN).add_pool(
            "9", responses=_responses(), output_spec=CAT_DOG, input_spec=INPUT_SPEC, tasks=tasks
        )


def test_tasks_must_cover_the_responses_and_the_required_inputs() -> None:
    server = LocalTolokaServer(token=TOKEN)
    with pytest.raises(InvalidArgumentError, match="not among the tasks"):
        server.add_pool(
            "9",
            responses=_responses(),
            output_spec=CAT_DOG,
            input_spec=INPUT_SPEC,
            tasks=_tasks().iloc[1:],
        )
    with pytest.raises(InvalidArgumentError, match="pass tasks="):
        server.add_pool("9", responses=_responses(), output_spec=CAT_DOG, input_spec=INPUT_SPEC)
    with pytest.raises(MissingColumnsError):
        server.add_pool(
            "9",
            responses=_responses(),
            output_spec=CAT_DOG,
            input_spec=INPUT_SPEC,
            tasks=_tasks().drop(columns="image"),
        )
    with pytest.raises(InvalidArgumentError, match="unknown type"):
        server.add_pool(
            "9", responses=_responses(), output_spec=CAT_DOG, input_spec={"x": {"type": "NOPE"}}
        )


def test_demo_pools_have_images_and_control_tasks(tmp_path: Any) -> None:
    from pandas_toloka.server import demo_pools, make_demo_data

    pool = demo_pools()["36502086"]
    assert pool.tasks is not None and pool.input_spec is not None
    assert pool.tasks["image"].str.startswith("https://example.com/").all()
    control = pool.tasks.dropna(subset=["known_solutions"])
    assert len(control) == len(pool.tasks) // 20
    truth = pool.ground_truth.set_index("task_id")["result"]
    for task_id, solutions in zip(control["task_id"], control["known_solutions"]):
        assert solutions == [
            {"output_values": {"result": truth[task_id]}, "correctness_weight": 1.0}
        ]

    # The data directory keeps them: the same tasks served from files.
    served = LocalTolokaServer.from_directory(make_demo_data(tmp_path / "demo"), token=TOKEN)
    with served:
        api = Api(served)
        page = api.get("/tasks", pool_id="36502086", limit=100000).json()
        api.session.close()
    assert not page["has_more"] and len(page["items"]) == len(pool.tasks)
    by_id = {t["id"]: t for t in page["items"]}
    first = control["task_id"].iloc[0]
    assert by_id[first]["known_solutions"][0]["output_values"] == {"result": truth[first]}
    assert by_id[first]["input_values"] == {
        "image": f"https://example.com/cats_vs_dogs/{first}.jpg"
    }
