"""add_pool validation: typed errors for bad specs, columns and values."""

from __future__ import annotations

import pandas as pd
import pytest

from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError, OutputValueError
from pandas_toloka.server import LocalTolokaServer

from .conftest import CAT_DOG, cat_dog_responses


@pytest.fixture
def idle():
    return LocalTolokaServer(token="t")


def test_missing_columns(idle):
    with pytest.raises(MissingColumnsError) as info:
        idle.add_pool(
            "1", responses=cat_dog_responses().drop(columns=["worker_id"]), output_spec=CAT_DOG
        )
    assert info.value.missing == ["worker_id"]
    with pytest.raises(MissingColumnsError):
        idle.add_pool(
            "1", responses=cat_dog_responses().drop(columns=["result"]), output_spec=CAT_DOG
        )


def test_optional_field_column_may_be_absent(idle):
    spec = {**CAT_DOG, "comment": {"type": "STRING", "required": False}}
    idle.add_pool("1", responses=cat_dog_responses(), output_spec=spec)
    assert idle.pool_ids == ["1"]


def test_unknown_field_type(idle):
    with pytest.raises(InvalidArgumentError, match="unknown type"):
        idle.add_pool(
            "1", responses=cat_dog_responses(), output_spec={"result": {"type": "COLOUR"}}
        )


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        (CAT_DOG, ["cat", "cow"]),
        ({"result": {"type": "BOOLEAN"}}, [True, "yes"]),
        ({"result": {"type": "INTEGER"}}, [1, 1.5]),
        ({"result": {"type": "INTEGER", "min_value": 1, "max_value": 5}}, [1, 6]),
        ({"result": {"type": "FLOAT", "min_value": 0}}, [0.5, -0.1]),
        (CAT_DOG, ["cat", None]),
    ],
)
def test_values_must_match_the_spec(idle, spec, values):
    responses = pd.DataFrame({"task_id": ["a", "b"], "worker_id": "w", "result": values})
    with pytest.raises(OutputValueError) as info:
        idle.add_pool("1", responses=responses, output_spec=spec)
    assert info.value.field == "result" and info.value.task_id == "b"
    assert idle.pool_ids == []


def test_bad_status_and_ids(idle):
    with pytest.raises(InvalidArgumentError, match="status"):
        idle.add_pool("1", responses=cat_dog_responses().assign(status="DONE"), output_spec=CAT_DOG)
    responses = cat_dog_responses()
    responses.loc[0, "task_id"] = None
    with pytest.raises(InvalidArgumentError, match="task_id"):
        idle.add_pool("1", responses=responses, output_spec=CAT_DOG)
    with pytest.raises(InvalidArgumentError):
        idle.add_pool("", responses=cat_dog_responses(), output_spec=CAT_DOG)
    with pytest.raises(InvalidArgumentError):
        idle.add_pool("1", responses=[{"task_id": "a"}], output_spec=CAT_DOG)


def test_project_spec_conflict(idle):
    idle.add_pool("1", responses=cat_dog_responses(), output_spec=CAT_DOG, project_id="p")
    with pytest.raises(InvalidArgumentError, match="another output spec"):
        idle.add_pool(
            "2",
            responses=cat_dog_responses(),
            output_spec={"result": {"type": "STRING"}},
            project_id="p",
        )


def test_bad_skills(idle):
    with pytest.raises(MissingColumnsError):
        idle.add_skills(pd.DataFrame({"worker_id": ["w"], "value": [1]}))
    with pytest.raises(InvalidArgumentError, match="0..100"):
        idle.add_skills(pd.DataFrame({"worker_id": ["w"], "skill_id": "s", "value": [101]}))


def test_skills_replace_by_skill_and_worker(idle):
    idle.add_skills(pd.DataFrame({"worker_id": ["w1", "w2"], "skill_id": "s", "value": [10, 20]}))
    idle.add_skills(pd.DataFrame({"worker_id": ["w1"], "skill_id": "s", "value": [30]}))
    skills = idle.store.skills()
    assert skills[["worker_id", "value"]].values.tolist() == [["w1", 30.0], ["w2", 20.0]]


def test_replacing_a_pool_while_running(server, api):
    first = api.run("7")
    server.add_pool(
        "7",
        responses=cat_dog_responses(3).assign(result="dog"),
        output_spec=CAT_DOG,
        project_id="70",
    )
    second = api.run("7")
    old = api.get(f"/aggregated-solutions/{first}", sort="task_id").json()["items"]
    new = api.get(f"/aggregated-solutions/{second}", sort="task_id").json()["items"]
    assert (
        len(old) == 6 and {i["output_values"]["result"] for i in new} == {"dog"} and len(new) == 3
    )
