"""read_assignments_tsv: Toloka's results export read into read_responses' frame."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import requests
from pandas.util import hash_array

import pandas_toloka as ptk
from pandas_toloka.errors import (
    DroppedResponsesWarning,
    InvalidArgumentError,
    MissingColumnsError,
    OutputValueError,
)
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
    # both count the same REJECTED responses as left out
    rejected = int((api["status"] != "ACCEPTED").sum())
    assert rejected > 0
    dropped = rf"dropped {rejected} of {len(api)} response\(s\): {rejected} not of status"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        by_api = api.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")
    with pytest.warns(DroppedResponsesWarning, match=dropped):
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


def test_task_ids_from_inputs_are_a_documented_stable_hash() -> None:
    text = (
        "INPUT:a\tINPUT:b\tOUTPUT:r\tASSIGNMENT:worker_id\tASSIGNMENT:status\n"
        "https://x/1.jpg\t\tcat\tw1\tAPPROVED\n"
        "https://x/1.jpg\t7\tdog\tw2\tAPPROVED\n"
        "https://x/1.jpg\t\tdog\tw3\tAPPROVED\n"
    )
    df = ptk.read_assignments_tsv(io.StringIO(text), pool_id="1")
    # pinned: the same inputs must give the same id in every version
    assert df["task_id"].tolist() == [
        "inputs:51326bed7734d944",
        "inputs:99d35290eefe8704",
        "inputs:51326bed7734d944",
    ]
    # the recipe the docstring gives: the cells joined by U+001F, pandas.util.hash_array
    joined = np.array(["https://x/1.jpg\x1f", "https://x/1.jpg\x1f7"], dtype=object)
    recipe = [f"inputs:{h:016x}" for h in hash_array(joined, categorize=False)]
    assert df["task_id"].iloc[:2].tolist() == recipe


def test_a_file_on_disk_reads_as_its_bytes_do(tmp_path: Path) -> None:
    from_path = ptk.read_assignments_tsv(WEB_DOWNLOAD, output_spec=SPEC)
    from_bytes = ptk.read_assignments_tsv(io.BytesIO(WEB_DOWNLOAD.read_bytes()), output_spec=SPEC)
    pd.testing.assert_frame_equal(from_path, from_bytes)
    unquoted = tmp_path / "plain.tsv"  # no quote anywhere: the reader's faster path
    unquoted.write_bytes(
        b"\xef\xbb\xbfOUTPUT:r\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\r\n"
        b"1\tw\tAPPROVED\tt1\r\n\tw\tSKIPPED\tt2\r\n"
    )
    df = ptk.read_assignments_tsv(unquoted, pool_id="1")
    assert df["r"].tolist()[0] == 1 and df["r"].isna().tolist() == [False, True]
    assert df["task_id"].tolist() == ["t1", "t2"]
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidArgumentError, match="empty"):
        ptk.read_assignments_tsv(empty)
    empty.write_bytes(b"\xef\xbb\xbf \r\n")
    with pytest.raises(InvalidArgumentError, match="empty"):
        ptk.read_assignments_tsv(empty)


def test_the_pool_comes_from_the_links_or_is_asked_for() -> None:
    head = (
        "OUTPUT:r\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\tASSIGNMENT:link\n"
    )

    def read(*links: str) -> pd.DataFrame:
        rows = "".join(f"x\tw\tAPPROVED\tt{i}\t{link}\n" for i, link in enumerate(links))
        return ptk.read_assignments_tsv(io.StringIO(head + rows))

    base = "https://platform.toloka.ai/task/"
    assert set(read(base + "5/a1", base + "5/a2")["pool_id"]) == {"5"}
    assert set(read("https://elsewhere/x", base + "5/a2", base + "5/a3")["pool_id"]) == {"5"}
    assert set(read(base + "5/a1", "https://toloka.ai/task/5/a2")["pool_id"]) == {"5"}
    with pytest.raises(InvalidArgumentError, match=r"several pools \['5', '6'\]"):
        read(base + "5/a1", base + "6/a2")
    with pytest.raises(InvalidArgumentError, match="pass pool_id="):
        read("https://elsewhere/x")


def test_datetimes_read_every_iso_form_and_a_bad_one_is_named() -> None:
    head = "OUTPUT:r\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\tASSIGNMENT:submitted\n"
    cells = ["2023-01-20T10:20:45.102", "2023-01-20T10:20:45Z", "2023-01-20T13:20:45+03:00", ""]
    rows = "".join(f"x\tw\tAPPROVED\tt{i}\t{c}\n" for i, c in enumerate(cells))
    df = ptk.read_assignments_tsv(io.StringIO(head + rows), pool_id="1")
    assert df["submitted"].iloc[:3].tolist() == [
        pd.Timestamp("2023-01-20T10:20:45.102", tz="UTC"),
        pd.Timestamp("2023-01-20T10:20:45", tz="UTC"),
        pd.Timestamp("2023-01-20T10:20:45", tz="UTC"),
    ]
    assert df["submitted"].isna().tolist() == [False, False, False, True]
    bad = head + rows + "x\tw\tAPPROVED\tt9\tyesterday\n"
    with pytest.raises(InvalidArgumentError, match=r"ASSIGNMENT:submitted .*row 4 has 'yesterday'"):
        ptk.read_assignments_tsv(io.StringIO(bad), pool_id="1")


def test_inferred_numbers_keep_their_rules() -> None:
    head = "OUTPUT:a\tOUTPUT:b\tOUTPUT:c\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\n"
    rows = "+5\t99999999999999999999\tx\tw\tAPPROVED\tt1\n 7 \t1\t2\tw\tAPPROVED\tt2\n"
    df = ptk.read_assignments_tsv(io.StringIO(head + rows), pool_id="1")
    assert df.attrs["toloka"]["output_spec"] == {
        "a": {"type": "INTEGER", "required": True},
        "b": {"type": "FLOAT", "required": True},
        "c": {"type": "STRING", "required": True},
    }
    assert df["a"].tolist() == [5, 7] and df["b"].tolist() == [1e20, 1.0]


def test_one_datetime_parser_each_reader_keeps_its_error() -> None:
    from pandas_toloka import schema
    from pandas_toloka._read.assignments import parse_datetimes

    texts = pa.array(["2023-01-20T10:20:45.123456789", "2023-01-20", None, "2023-01-20 10:20Z"])
    assert schema.text_to_timestamps(texts).to_pylist() == [
        pd.Timestamp("2023-01-20T10:20:45.123456", tz="UTC"),
        pd.Timestamp("2023-01-20", tz="UTC"),
        None,
        pd.Timestamp("2023-01-20T10:20", tz="UTC"),
    ]
    bad = pa.array(["2023-01-20T10:20:45", "2023-02-30T00:00:00"])
    with pytest.raises(ValueError, match=r"row 1 has '2023-02-30T00:00:00'"):
        schema.text_to_timestamps(bad)
    with pytest.raises(OutputValueError, match="'created' that is not an ISO-8601"):
        parse_datetimes(bad, field="created")


def test_a_bad_cell_names_the_task_made_from_its_inputs() -> None:
    text = "INPUT:a\tOUTPUT:n\tASSIGNMENT:worker_id\tASSIGNMENT:status\nu1\t1\tw\tAPPROVED\nu2\tx\tw\tAPPROVED\n"
    expected = ptk.read_assignments_tsv(io.StringIO(text.replace("\tx\t", "\t2\t")), pool_id="1")
    with pytest.raises(OutputValueError, match=expected["task_id"].iloc[1]) as caught:
        ptk.read_assignments_tsv(
            io.StringIO(text), pool_id="1", output_spec={"n": {"type": "INTEGER"}}
        )
    assert caught.value.task_id == expected["task_id"].iloc[1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_reads_like_a_file(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "export.fifo"
    os.mkfifo(fifo)
    data = WEB_DOWNLOAD.read_bytes()

    def write() -> None:
        with open(fifo, "wb") as out:
            out.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    df = ptk.read_assignments_tsv(fifo, output_spec=SPEC)
    writer.join(timeout=10)
    pd.testing.assert_frame_equal(df, ptk.read_assignments_tsv(WEB_DOWNLOAD, output_spec=SPEC))


def test_a_number_beyond_a_double_is_never_infinity() -> None:
    head = "OUTPUT:x\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:task_id\n"
    text = head + "1.5\tw\tAPPROVED\tt1\n1e400\tw\tAPPROVED\tt2\n"
    with pytest.raises(OutputValueError, match="task 't2' has the text '1e400'"):
        ptk.read_assignments_tsv(
            io.StringIO(text), pool_id="1", output_spec={"x": {"type": "FLOAT"}}
        )
    inferred = ptk.read_assignments_tsv(io.StringIO(text), pool_id="1")
    assert inferred["x"].tolist() == ["1.5", "1e400"]  # STRING, said in attrs
    assert inferred.attrs["toloka"]["output_spec"]["x"]["type"] == "STRING"
