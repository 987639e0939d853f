"""read_assignments_tsv: Toloka's results export read into read_responses' frame."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import requests

import pandas_toloka as ptk
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError, OutputValueError
from pandas_toloka.server import LocalTolokaServer, add_demo_pools

WEB_DOWNLOAD = Path(__file__).parent / "data" / "results_export" / "web_download.tsv"
SPEC = {
    "result": {"type": "STRING", "allowed_values": ["cat", "dog"]},
    "sure": {"type": "BOOLEAN", "required": False},
}


def test_a_web_download_reads_into_the_responses_shape() -> None:
    df = ptk.read_assignments_tsv(WEB_DOWNLOAD, output_spec=SPEC)
    assert list(df.columns[:8]) == [
        "pool_id",
        "task_id",
        "worker_id",
        "assignment_id",
        "status",
        "submitted",
        "result",
        "sure",
    ]
    assert set(df["pool_id"]) == {"36502086"}  # from ASSIGNMENT:link
    assert df["status"].tolist() == [
        "ACCEPTED",
        "ACCEPTED",
        "REJECTED",
        "ACCEPTED",
        "ACCEPTED",
        "SUBMITTED",
        "ACCEPTED",
        "ACCEPTED",
        "SKIPPED",
    ]
    assert isinstance(df["result"].dtype, pd.CategoricalDtype)
    assert list(df["result"].cat.categories) == ["cat", "dog"]
    assert df["result"].isna().sum() == 1 and df["sure"].isna().sum() == 1  # the SKIPPED row
    assert df["meta"].iloc[0] == '{"source": "a\tb"}'  # a tab inside quoted JSON survives
    assert df["golden.result"].astype(object).where(df["golden.result"].notna(), None).tolist()[
        :4
    ] == ["cat", "cat", "cat", None]
    assert df["hint"].iloc[6] == "It is a dog:\nlook at the nose"
    assert df["accept.comment"].iloc[5] == 'Wrong "label"'
    assert str(df["submitted"].dtype).startswith("timestamp[us, tz=UTC]")
    assert df["submitted"].isna().sum() == 1
    assert df["assignment.reward"].tolist() == [0.02] * 9
    meta = df.attrs["toloka"]
    assert meta["kind"] == "results_export" and meta["inferred_fields"] == [
        "INPUT:image",
        "INPUT:meta",
    ]
    assert meta["task_ids_from_inputs"] is False


def test_types_are_inferred_without_a_spec_and_said_so() -> None:
    df = ptk.read_assignments_tsv(WEB_DOWNLOAD, status="APPROVED")
    assert (df["status"] == "ACCEPTED").all() and len(df) == 6
    assert str(df["sure"].dtype) == "bool[pyarrow]"
    meta = df.attrs["toloka"]
    assert meta["inferred_fields"] == ["result", "sure", "INPUT:image", "INPUT:meta"]
    assert meta["output_spec"]["sure"]["type"] == "BOOLEAN"


def test_without_task_ids_tasks_are_known_by_their_inputs() -> None:
    text = WEB_DOWNLOAD.read_text(encoding="utf-8-sig")
    frame = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
    frame = frame.drop(columns=["ASSIGNMENT:task_id"])
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", index=False)
    buffer.seek(0)
    df = ptk.read_assignments_tsv(buffer)
    assert df.attrs["toloka"]["task_ids_from_inputs"] is True
    assert df["task_id"].nunique() == 3 and df["task_id"].str.startswith("inputs:").all()


def test_aggregates_to_the_same_labels_as_the_api_path(tmp_path: Path) -> None:
    server = LocalTolokaServer(token="secret")
    add_demo_pools(server)
    with server:
        url = server.url + "/new/requester/pools/36502086/assignments.tsv"
        fields = "ASSIGNMENT:assignment_id,ASSIGNMENT:task_id,ASSIGNMENT:worker_id,ASSIGNMENT:status,INPUT:image,OUTPUT:result,OUTPUT:sure,GOLDEN:result"
        answer = requests.get(
            url,
            params={"status": "APPROVED,REJECTED", "field": fields},
            headers={"Authorization": "OAuth secret"},
            timeout=30,
        )
        assert answer.status_code == 200
        path = tmp_path / "export.tsv"
        path.write_bytes(b"\xef\xbb\xbf" + answer.content)  # as a spreadsheet tool saves it
        api = ptk.read_responses("36502086", status=None, url=server.url, token="secret")
    exported = ptk.read_assignments_tsv(path, pool_id="36502086", output_spec=SPEC)
    assert len(exported) == len(api)
    by_api = api.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    by_export = exported.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    pd.testing.assert_series_equal(
        by_api.set_index("task_id")["result"].sort_index(),
        by_export.set_index("task_id")["result"].sort_index(),
        check_categorical=False,
    )
    assert exported["golden.result"].notna().sum() > 0
    exported.to_parquet(tmp_path / "x.parquet")
    back = pd.read_parquet(tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(back, exported)


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("", InvalidArgumentError, "empty"),
        ("OUTPUT:result\tASSIGNMENT:status\ncat\tAPPROVED\n", MissingColumnsError, "worker_id"),
        ("ASSIGNMENT:worker_id\tASSIGNMENT:status\nw\tAPPROVED\n", MissingColumnsError, "OUTPUT"),
        (
            "OUTPUT:r\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\nx\tw\tBOGUS\tt\n",
            InvalidArgumentError,
            "BOGUS",
        ),
        ("result\tworker\nx\tw\n", InvalidArgumentError, "not a results-export column"),
        (
            "OUTPUT:r\tOUTPUT:r\tASSIGNMENT:worker_id\nx\ty\tw\n",
            InvalidArgumentError,
            "duplicate",
        ),
        (
            "OUTPUT:r\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\nx\tw\tAPPROVED\tt\n",
            InvalidArgumentError,
            "pass pool_id=",
        ),
    ],
)
def test_bad_files_are_refused_with_what_to_fix(text: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        ptk.read_assignments_tsv(io.StringIO(text))


def test_a_cell_outside_the_spec_names_the_task() -> None:
    text = "OUTPUT:n\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\n1.5\tw\tAPPROVED\tt7\n"
    with pytest.raises(OutputValueError, match="'t7'"):
        ptk.read_assignments_tsv(
            io.StringIO(text), pool_id="1", output_spec={"n": {"type": "INTEGER"}}
        )
    with pytest.raises(InvalidArgumentError, match="does not declare"):
        ptk.read_assignments_tsv(
            io.StringIO(text), pool_id="1", output_spec={"m": {"type": "INTEGER"}}
        )
    with pytest.raises(InvalidArgumentError, match="status must be"):
        ptk.read_assignments_tsv(io.StringIO(text), pool_id="1", status="BOGUS")
