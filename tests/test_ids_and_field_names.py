"""Ids and field names end to end: numeric ids, missing ids, fields named like id columns.

Real HTTP against the bundled server: what the server serves, what the reader
and ``read_responses`` return, and what ``df.toloka`` computes must agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError, NotFoundError
from pandas_toloka.schema import id_array
from pandas_toloka.server import LocalTolokaServer

TOKEN = "ids-test-token"
SPEC = {
    "task_id": {"type": "STRING", "allowed_values": ["cat", "dog"]},
    "worker_id": {"type": "BOOLEAN"},
    "confidence": {"type": "INTEGER", "min_value": 0, "max_value": 2},
}
SKILLS = pd.DataFrame({"worker_id": ["a", "b", "c"], "skill_id": "7", "value": [90, 60, 75]})


def _responses() -> pd.DataFrame:
    rows = []
    for t in range(6):
        for i, w in enumerate("abc"):
            rows.append(
                (f"t{t}", w, ("cat", "dog")[(t + i) % 3 == 0], (t * i) % 2 == 0, (t + i) % 3)
            )
    return pd.DataFrame(
        rows,
        columns=[
            "task_id",
            "worker_id",
            "output_values.task_id",
            "output_values.worker_id",
            "confidence",
        ],
    )


def _numeric_responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": [9, 9, 9, 10, 10, 10],
            "worker_id": [1, 2, 3] * 2,
            "result": ["cat", "cat", "dog", "dog", "dog", "cat"],
        }
    )


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalTolokaServer, ptk.Client]]:
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool(
        "meta", responses=_responses(), output_spec=SPEC, skills=SKILLS, smart_mixing=True
    )
    server.add_pool(
        "num",
        responses=_numeric_responses(),
        smart_mixing=True,
        output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}},
        skills=pd.DataFrame({"worker_id": [1.0, 2.0, 3.0], "skill_id": 999, "value": 80}),
    )
    with server, ptk.Client(TOKEN, url=server.url, poll_min=0.01, poll_max=0.05) as client:
        yield server, client


def test_id_array_writes_integral_floats_as_integers_and_keeps_missing() -> None:
    assert id_array(pd.Series([9.0, 10.0, np.nan])).to_pylist() == ["9", "10", None]
    assert id_array(pd.Series([9.0, None], dtype=object)).to_pylist() == ["9", None]
    assert id_array(pd.Series([1.5, 2.0])).to_pylist() == ["1.5", "2.0"]  # not ids of integers
    assert id_array(pd.Series(["a", None, "9.0"])).to_pylist() == ["a", None, "9.0"]  # text stays
    assert id_array(pd.Series([3.0, np.nan]).astype("category")).to_pylist() == ["3", None]
    assert id_array(pd.array([7, None], dtype="Int64")).to_pylist() == ["7", None]


def test_fields_named_like_id_columns_are_served_from_output_values(
    served: tuple[LocalTolokaServer, ptk.Client],
) -> None:
    """A field named ``task_id`` or ``worker_id`` is never filled with the ids themselves."""
    _, client = served
    responses = ptk.read_responses("meta", client=client, progress_bar=False)
    expected = _responses()
    assert (
        responses["output_values.task_id"].astype(str).tolist()
        == expected["output_values.task_id"].tolist()
    )
    assert (
        responses["output_values.worker_id"].tolist()
        == expected["output_values.worker_id"].tolist()
    )
    assert responses["task_id"].tolist() == expected["task_id"].tolist()
    by_field = {}
    for field in SPEC:
        server = ptk.read_aggregated_solutions(
            "meta", fields=field, client=client, progress_bar=False
        )
        local = responses.toloka.aggregate_locally(fields=field)
        pd.testing.assert_frame_equal(server, local, check_exact=False, rtol=1e-9)
        assert list(server.columns)[-1] == f"output_values.{field}"
        by_field[field] = server
    server = ptk.read_aggregated_solutions(
        "meta",
        type="WEIGHTED_DYNAMIC_OVERLAP",
        fields=list(SPEC),
        answer_weight_skill_id="7",
        client=client,
        progress_bar=False,
    )
    local = responses.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP", fields=list(SPEC), skills=SKILLS
    )
    pd.testing.assert_frame_equal(server, local, check_exact=False, rtol=1e-9)
    tasks = pd.DataFrame({"task_id": ["t3", "t0"], "pool_id": "meta"}, index=["x", "y"])
    joined = tasks.toloka.aggregate(fields="task_id", client=client, progress_bar=False)
    expected_answers = (
        by_field["task_id"].set_index("task_id").loc[["t3", "t0"], "output_values.task_id"]
    )
    assert (
        joined["output_values.task_id"].astype(str).tolist()
        == expected_answers.astype(str).tolist()
    )
    assert joined.index.tolist() == ["x", "y"]


def test_a_field_named_like_an_id_column_without_its_answers_is_refused() -> None:
    server = LocalTolokaServer(token=TOKEN)
    with pytest.raises(MissingColumnsError, match="output_values.worker_id"):
        server.add_pool(
            "x", responses=_responses().drop(columns="output_values.worker_id"), output_spec=SPEC
        )


def test_float_task_ids_match_the_servers_integer_ids(
    served: tuple[LocalTolokaServer, ptk.Client],
) -> None:
    """Integer ids with a gap become float64 in pandas: 9.0 must still find task "9"."""
    _, client = served
    tasks = pd.DataFrame({"task_id": [10.0, np.nan, 9.0], "pool_id": "num"})
    for strategy in ("by_task", "by_pool"):
        with pytest.warns(ptk.MissingAggregatesWarning, match="1 of 3"):
            out = tasks.toloka.aggregate(client=client, strategy=strategy, progress_bar=False)
        assert out["confidence"].notna().tolist() == [True, False, True]
    server = ptk.read_aggregated_solutions("num", client=client, progress_bar=False)
    assert server["task_id"].tolist() == ["10", "9"]
    local = _numeric_responses().toloka.aggregate_locally(
        pool_id="num", output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
    )
    pd.testing.assert_frame_equal(server, local, check_exact=False, rtol=1e-9)
    float_ids = (
        _numeric_responses().astype({"task_id": float}).toloka.aggregate_locally(pool_id="num")
    )
    assert float_ids["task_id"].tolist() == ["10", "9"]


def test_unknown_skill_is_an_error_even_when_the_task_id_is_in_its_message(
    served: tuple[LocalTolokaServer, ptk.Client],
) -> None:
    """Task "9" and skill "99": the 404 "Skill '99' does not exist" is not a task without answers."""
    _, client = served
    with pytest.raises(NotFoundError, match="Skill '99'"):
        pd.DataFrame({"task_id": ["9"], "pool_id": "num"}).toloka.aggregate(
            "WEIGHTED_DYNAMIC_OVERLAP",
            answer_weight_skill_id="99",
            client=client,
            strategy="by_task",
            progress_bar=False,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = pd.DataFrame({"task_id": ["9"], "pool_id": "num"}).toloka.aggregate(
            "WEIGHTED_DYNAMIC_OVERLAP",
            answer_weight_skill_id=999,
            client=client,
            strategy="by_task",
            progress_bar=False,
        )
    assert out["confidence"].notna().all()


def test_local_aggregation_never_drops_rows_without_a_pool() -> None:
    frame = pd.DataFrame(
        {
            "task_id": ["1", "1", "2", "2"],
            "worker_id": ["a", "b", "a", "b"],
            "result": ["x", "x", "y", "y"],
            "pool_id": [7, 7, None, None],
        }
    )
    with pytest.raises(InvalidArgumentError, match="pool_id column has 2 missing value"):
        frame.toloka.aggregate_locally(fields="result")
    out = frame.fillna({"pool_id": 8}).toloka.aggregate_locally(fields="result")
    assert out["pool_id"].tolist() == ["7", "8"]  # not "7.0"
    assert frame.drop(columns="pool_id").toloka.aggregate_locally(pool_id=7)[
        "pool_id"
    ].tolist() == ["7", "7"]


def test_local_skills_that_match_nothing_are_a_clear_error() -> None:
    frame = pd.DataFrame({"task": ["t", "t"], "worker": ["a", "b"], "label": [True, False]})
    with pytest.raises(InvalidArgumentError, match="skills= is empty"):
        frame.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP",
            task="task",
            worker="worker",
            skills=pd.DataFrame({"worker_id": [], "value": []}),
        )
    skills = pd.DataFrame({"worker_id": ["a", "b"], "skill_id": [501.0, 501.0], "value": [80, 70]})
    with pytest.raises(
        InvalidArgumentError, match=r"no value of answer_weight_skill_id='502'.*\['501'\]"
    ):
        frame.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP",
            task="task",
            worker="worker",
            skills=skills,
            answer_weight_skill_id="502",
        )
    out = frame.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP",
        task="task",
        worker="worker",
        skills=skills,
        answer_weight_skill_id=501,
    )
    assert out["label"].tolist() == [True]


def test_empty_ids_are_no_ids(served: tuple[LocalTolokaServer, ptk.Client]) -> None:
    """The API answers 400 to an empty task_id: the server refuses to serve one, and the
    accessor keeps such a row with missing values instead of failing the whole frame."""
    _, client = served
    with pytest.raises(InvalidArgumentError, match="empty id"):
        LocalTolokaServer(token=TOKEN).add_pool(
            "e",
            responses=_numeric_responses().astype({"task_id": str}).replace({"task_id": {"9": ""}}),
            output_spec={"result": {"type": "STRING"}},
        )
    tasks = pd.DataFrame({"task_id": ["9", "", "10"], "pool_id": "num"})
    with pytest.warns(ptk.MissingAggregatesWarning, match="1 because the row has no task id"):
        out = tasks.toloka.aggregate(client=client, strategy="by_task", progress_bar=False)
    assert out["confidence"].notna().tolist() == [True, False, True]


def test_local_worker_ids_one_and_text_one_are_one_worker() -> None:
    frame = pd.DataFrame(
        {
            "task_id": ["a", "b", "c", "a", "b", "c"],
            "worker_id": [1, 1, "1", "w2", "w2", "w2"],
            "result": list("xxyxxy"),
        }
    )
    quality = frame.toloka.worker_quality("result")
    assert sorted(quality["worker_id"].astype(str)) == ["1", "w2"]
    assert not quality["worker_id"].duplicated().any()


@pytest.mark.parametrize(
    ("workers", "skill_workers"),
    [
        ([1, 2], ["1", "2"]),
        (["1", "2"], [1, 2]),
        (["1", "2"], [1.0, 2.0]),
        ([1, "2"], [1, 2]),
        (["1", 2], ["1", 2.0]),
    ],
    ids=["int-vs-str", "str-vs-int", "str-vs-float", "mixed-vs-int", "mixed-vs-mixed"],
)
def test_local_skills_match_workers_whatever_the_id_types(
    workers: list[object], skill_workers: list[object]
) -> None:
    frame = pd.DataFrame(
        {"task_id": ["t", "t"], "worker_id": pd.Series(workers, dtype=object), "label": ["x", "y"]}
    )
    frame["worker_id"] = frame["worker_id"].infer_objects()
    for values, winner in (([90, 10], "x"), ([10, 90], "y")):
        skills = pd.DataFrame({"worker_id": skill_workers, "value": values})
        out = frame.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP", fields="label", skills=skills
        )
        assert out["label"].tolist() == [winner]
