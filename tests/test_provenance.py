"""df.attrs["toloka"]: one definition per kind of frame, written by every public function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_type_hints

import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka import schema
from pandas_toloka.server.demo import DS_POOL_ID, SKILL_ID, SKILL_POOL_ID

DEFINITIONS = {
    "aggregated_solutions": schema.AggregatedSolutionsProvenance,
    "responses": schema.ResponsesProvenance,
    "results_export": schema.ResultsExportProvenance,
    "tasks": schema.TasksProvenance,
    "joined_aggregates": schema.JoinedAggregatesProvenance,
    "local_aggregation": schema.LocalAggregationProvenance,
    "worker_quality": schema.WorkerQualityProvenance,
    "agreement": schema.AgreementProvenance,
    "ranking": schema.RankingProvenance,
}


def _check(frame: pd.DataFrame, kind: str, tmp_path: Path) -> dict[str, Any]:
    record = frame.attrs[schema.ATTRS_KEY]
    assert record["kind"] == kind
    definition: Any = DEFINITIONS[kind]
    # every required key, and the optional ones (input_spec with inputs=) only when present
    assert set(definition.__required_keys__) <= set(record), kind
    assert set(record) <= set(get_type_hints(definition)), kind
    assert record["library"].startswith("pandas-toloka ")
    assert isinstance(record["output_spec"], dict) and record["output_spec"]
    assert json.loads(json.dumps(record)) == record  # JSON only
    assert schema.get_provenance(frame) == record
    path = tmp_path / f"{kind}.parquet"
    frame.to_parquet(path)
    assert pd.read_parquet(path, dtype_backend="pyarrow").attrs[schema.ATTRS_KEY] == record
    return dict(record)


@pytest.fixture
def served(demo_served):  # type: ignore[no-untyped-def]
    server, client, data = demo_served
    return client, data


def test_every_reader_writes_its_kind(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, data = served
    solutions = ptk.read_aggregated_solutions(
        DS_POOL_ID, fields="result", client=client, progress_bar=False
    )
    record = _check(solutions, "aggregated_solutions", tmp_path)
    assert record["pool_id"] == DS_POOL_ID and record["fields"] == ["result"]
    assert set(record["output_spec"]) == {"result"} and record["operation_id"]
    (chunk,) = ptk.iter_aggregated_solutions(
        DS_POOL_ID, client=client, operation_id=record["operation_id"], progress_bar=False
    )
    assert chunk.attrs == solutions.attrs

    responses = ptk.read_responses(DS_POOL_ID, client=client, progress_bar=False)
    record = _check(responses, "responses", tmp_path)
    assert record["pool_id"] == DS_POOL_ID and record["status"] == ["ACCEPTED"]

    tasks = pd.DataFrame({"task_id": responses["task_id"].unique()[:5], "pool_id": DS_POOL_ID})
    joined = tasks.toloka.aggregate(client=client, fields="result", progress_bar=False)
    record = _check(joined, "joined_aggregates", tmp_path)
    assert record["strategies"] == {DS_POOL_ID: "by_task"}
    assert record["answer_weight_skill_id"] is None

    local = responses.toloka.aggregate_locally(fields="result")
    record = _check(local, "local_aggregation", tmp_path)
    assert record["pool_ids"] == [DS_POOL_ID] and record["type"] == "DAWID_SKENE"

    skills = ptk.read_responses(SKILL_POOL_ID, client=client, progress_bar=False)
    weighted = skills.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP",
        fields="result",
        skills=data.skills,
        answer_weight_skill_id=SKILL_ID,
    )
    assert _check(weighted, "local_aggregation", tmp_path)["fields"] == ["result"]

    for confusion in (False, True):
        quality = responses.toloka.worker_quality("result", confusion=confusion)
        record = _check(quality, "worker_quality", tmp_path)
        assert record["pool_ids"] == [DS_POOL_ID] and record["fields"] == ["result"]

    agreement = responses.toloka.agreement("result", level="nominal")
    record = _check(agreement, "agreement", tmp_path)
    assert record["pool_ids"] == [DS_POOL_ID] and record["level"] == "nominal"


def test_make_provenance_holds_to_the_definition() -> None:
    record = schema.make_provenance(
        "responses", pool_id="7", status=["ACCEPTED"], output_spec={"x": {"type": "STRING"}}
    )
    assert record["kind"] == "responses"
    with pytest.raises(ValueError, match=r"missing \['status'\]"):
        schema.make_provenance("responses", pool_id="7", output_spec={})
    with pytest.raises(ValueError, match=r"unknown \['token'\]"):
        schema.make_provenance(
            "responses", pool_id="7", status=None, output_spec={}, token="secret"
        )
    with pytest.raises(ValueError, match="unknown provenance kind"):
        schema.make_provenance("bogus", pool_id="7")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        schema.make_provenance(
            "responses", pool_id="7", status=None, output_spec={"x": float("nan")}
        )


def test_frames_of_others_have_no_provenance() -> None:
    assert schema.get_provenance(pd.DataFrame()) is None
    assert schema.get_provenance(pd.DataFrame().set_flags()) is None
    frame = pd.DataFrame()
    frame.attrs["toloka"] = {"kind": "mine"}
    assert schema.get_provenance(frame) is None


def test_the_documented_examples_follow_the_definitions() -> None:
    from docs_snippets import code_blocks

    examples = [json.loads(block) for block in code_blocks("docs/provenance.md", "json")]
    assert sorted(e["kind"] for e in examples) == sorted(schema.KINDS)
    for example in examples:
        assert set(example) == set(get_type_hints(DEFINITIONS[example["kind"]]))
