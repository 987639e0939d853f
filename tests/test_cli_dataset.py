"""``pandas-toloka export``, ``responses`` and ``aggregate-local`` against the bundled server.

The issue's done-when flow: ``pandas-toloka serve`` (here the same server with the
demo pools, in-process), then ``pandas-toloka export 36502086 -o dataset.parquet``
gives one row per task with the image URL, the label and its confidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from pandas_toloka.errors import DroppedResponsesWarning
from pandas_toloka.server import LocalTolokaServer, add_demo_pools

POOL = "36502086"


@pytest.fixture(scope="module")
def demo_server() -> Iterator[LocalTolokaServer]:
    """What ``pandas-toloka serve`` serves without ``--data``."""
    with LocalTolokaServer() as server:
        add_demo_pools(server)
        yield server


@pytest.fixture
def served(
    demo_server: LocalTolokaServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> LocalTolokaServer:
    monkeypatch.setenv("TOLOKA_URL", demo_server.url)
    monkeypatch.setenv("TOLOKA_API_KEY", demo_server.token)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return demo_server


def test_export_gives_one_row_per_task_with_image_label_and_confidence(
    served: LocalTolokaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", POOL, "-o", "dataset.parquet"]) == EXIT_OK
    captured = capsys.readouterr()
    assert "Wrote 2000 tasks (2000 labeled) to dataset.parquet" in captured.out
    assert "aggregating 'result'" in captured.err  # the label field chosen, and said
    dataset = pd.read_parquet("dataset.parquet")
    assert list(dataset.columns) == ["pool_id", "task_id", "image", "confidence", "result"]
    tasks = ptk.read_tasks(POOL, progress_bar=False)
    assert len(dataset) == len(tasks) and dataset["task_id"].is_unique
    assert dataset["task_id"].tolist() == tasks["task_id"].tolist()
    assert dataset["image"].tolist() == tasks["image"].tolist()
    assert dataset["image"].str.startswith("https://").all()
    assert str(dataset["image"].dtype) == "large_string[pyarrow]"
    assert str(dataset["confidence"].dtype) == "double[pyarrow]"
    assert list(dataset["result"].cat.categories) == ["cat", "dog"]
    assert dataset["result"].notna().all() and dataset["confidence"].between(0, 1).all()
    assert dataset.attrs["toloka"]["kind"] == "aggregated_solutions"
    # the labels are the server's aggregation of the same pool
    op = dataset.attrs["toloka"]["operation_id"]
    solutions = ptk.read_aggregated_solutions(operation_id=op, progress_bar=False)
    joined = dataset.merge(solutions, on="task_id", suffixes=("", "_server"))
    assert (joined["result"] == joined["result_server"]).all()


def test_export_golden_columns_are_the_control_tasks_known_answers(
    served: LocalTolokaServer,
) -> None:
    assert main(["export", POOL, "--field", "result", "--golden", "-o", "g.parquet"]) == EXIT_OK
    dataset = pd.read_parquet("g.parquet")
    assert dataset.columns[-1] == "golden.result"
    control = dataset[dataset["golden.result"].notna()]
    assert len(control) == len(dataset) // 20  # every 20th demo task is a control task
    assert set(control["golden.result"]) <= {"cat", "dog"}
    # the demo's answers are right on most control tasks
    assert (control["golden.result"] == control["result"]).mean() > 0.8


def test_tasks_without_an_aggregated_answer_are_kept_and_counted() -> None:
    from pandas_toloka._read.dataset import join_labeled
    from pandas_toloka._read.tasks import tasks_to_table
    from pandas_toloka.schema import aggregated_schema, parse_input_spec, parse_output_spec

    outputs = list(
        parse_output_spec({"result": {"type": "STRING", "allowed_values": ["a", "b"]}}).values()
    )
    inputs = list(parse_input_spec({"image": {"type": "URL"}}).values())
    tasks = tasks_to_table(
        [{"id": f"t{i}", "pool_id": "p", "input_values": {"image": f"u{i}"}} for i in range(3)],
        inputs,
        outputs,
    )
    import pyarrow as pa

    solutions = pa.table(
        {
            "pool_id": ["p", "p"],
            "task_id": ["t2", "zz"],
            "confidence": [0.9, 0.6],
            "result": pa.array(["b", "a"]).dictionary_encode(),
        }
    ).cast(aggregated_schema(outputs))
    table, counts = join_labeled(tasks, solutions, inputs=["image"])
    assert (counts.tasks, counts.labeled, counts.unlabeled, counts.unknown) == (3, 1, 2, 1)
    assert table.column("task_id").to_pylist() == ["t0", "t1", "t2", "zz"]
    assert table.column("result").to_pylist() == [None, None, "b", "a"]
    assert table.column("image").to_pylist() == ["u0", "u1", "u2", None]
    lines = counts.describe()
    assert "2 of 3 tasks have no aggregated answer" in lines[0] and "1 aggregated" in lines[1]


def test_export_refuses_a_bad_output_before_any_request(
    served: LocalTolokaServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    served.request_log.clear()
    assert main(["export", POOL, "-o", "dataset.csv"]) == EXIT_USAGE
    assert main(["export", POOL, "-o", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("pandas-toloka export: error: -o ") == 2 and "Traceback" not in err
    assert served.request_log.snapshot() == []


def test_export_keeps_the_inputs_asked_for_and_refuses_unknown_ones_first(
    served: LocalTolokaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    started = len(served.operations.all())
    argv = ["export", POOL, "--field", "result", "--input", "nope", "-o", "x.parquet"]
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "has no input field 'nope'" in err and len(err.splitlines()) == 1
    assert len(served.operations.all()) == started  # refused before the aggregation
    argv = ["export", POOL, "--field", "result", "--input", "image", "--input", "image"]
    assert main([*argv, "-o", "x.parquet"]) == EXIT_USAGE  # was a traceback when writing
    err = capsys.readouterr().err
    assert "duplicates: ['image', 'image']" in err and len(err.splitlines()) == 1
    assert len(served.operations.all()) == started
    argv = ["export", POOL, "--field", "result", "--input", "image", "-o", "x.parquet"]
    assert main(argv) == EXIT_OK
    assert list(pd.read_parquet("x.parquet").columns) == [
        "pool_id",
        "task_id",
        "image",
        "confidence",
        "result",
    ]


def test_export_of_an_unknown_pool_is_one_line(
    served: LocalTolokaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "nope", "--field", "result", "-o", "x.parquet"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert (
        err.startswith("pandas-toloka export: error: NotFoundError") and len(err.splitlines()) == 1
    )
    assert not Path("x.parquet").exists()


def test_responses_writes_the_read_responses_frame(served: LocalTolokaServer) -> None:
    assert main(["responses", POOL, "-o", "r.parquet", "--no-progress"]) == EXIT_OK
    expected = ptk.read_responses(POOL, progress_bar=False)
    back = pd.read_parquet("r.parquet")
    pd.testing.assert_frame_equal(back, expected)
    assert back.attrs == expected.attrs
    assert main(["responses", POOL, "--status", "all", "-o", "all.parquet"]) == EXIT_OK
    assert len(pd.read_parquet("all.parquet")) >= len(back)


def test_aggregate_local_reads_csv_parquet_and_the_results_export(
    served: LocalTolokaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    responses = ptk.read_responses(POOL, status=None, progress_bar=False)
    rejected = int((responses["status"] != "ACCEPTED").sum())
    dropped = rf"dropped {rejected} of {len(responses)} response\(s\): {rejected} not of status"
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        expected = responses.toloka.aggregate_locally(fields="result")
    responses.to_csv("r.csv", index=False)
    assert main(["aggregate-local", "r.csv", "--field", "result", "-o", "csv.parquet"]) == EXIT_OK
    from_csv = pd.read_parquet("csv.parquet")
    assert from_csv["task_id"].tolist() == expected["task_id"].tolist()
    assert from_csv["result"].astype(str).tolist() == expected["result"].astype(str).tolist()
    # crowd-kit's column names, from Parquet, named on the command line
    crowd = pd.DataFrame(
        {
            "task": responses["task_id"].astype(str),
            "worker": responses["worker_id"].astype(str),
            "label": responses["result"].astype(str),
            "status": responses["status"].astype(str),
        }
    )
    crowd.to_parquet("crowd.parquet")
    argv = ["aggregate-local", "crowd.parquet", "--task", "task", "--worker", "worker"]
    assert main([*argv, "--label", "label", "-o", "ck.parquet"]) == EXIT_OK
    ck = pd.read_parquet("ck.parquet")
    assert ck["label"].astype(str).tolist() == expected["result"].astype(str).tolist()
    capsys.readouterr()
    # without the names: the error says which flags to give
    assert main(["aggregate-local", "crowd.parquet", "-o", "bad.parquet"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--task" in err and "--worker" in err and len(err.splitlines()) == 1


def test_aggregate_local_detects_the_toloka_results_export(
    served: LocalTolokaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"{served.url}/new/requester/pools/{POOL}/assignments.tsv",
        headers={"Authorization": f"OAuth {served.token}"},
    )
    with urllib.request.urlopen(request) as answer:
        body = answer.read()
    Path("export.tsv").write_bytes(body)
    code = main(["aggregate-local", "export.tsv", "--field", "result", "-o", "tsv.parquet"])
    assert code == EXIT_OK
    from_export = pd.read_parquet("tsv.parquet")
    exported = ptk.read_assignments_tsv("export.tsv")
    expected = exported.toloka.aggregate_locally(fields="result")
    pd.testing.assert_frame_equal(from_export, expected, check_categorical=False)
    assert len(from_export) == 2000


def test_aggregate_local_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["aggregate-local", "missing.csv", "-o", "o.parquet"]) == EXIT_USAGE
    Path("r.json").write_text("{}")
    assert main(["aggregate-local", "r.json", "-o", "o.parquet"]) == EXIT_USAGE
    Path("r.csv").write_text("task_id,worker_id,result\nt1,w1,a\n")
    assert main(["aggregate-local", "r.csv", "-o", "o.txt"]) == EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(
        line.startswith("pandas-toloka aggregate-local: error: ") for line in err
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.json"]


def test_export_timeout_prints_the_command_that_resumes(
    served: LocalTolokaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli_helpers import resume_argv

    from pandas_toloka.cli import EXIT_TIMEOUT

    served.operations.delay = 0.5  # type: ignore[attr-defined]
    try:
        argv = ["export", POOL, "--field", "result", "--wait-timeout", "0.05", "-o", "d.parquet"]
        assert main(argv) == EXIT_TIMEOUT
    finally:
        served.operations.delay = 0.0  # type: ignore[attr-defined]
    resume = resume_argv(capsys.readouterr().err)
    assert resume[:4] == ["export", POOL, "--operation-id", resume[3]]
    assert not Path("d.parquet").exists()
    assert main(resume) == EXIT_OK
    assert pd.read_parquet("d.parquet").attrs["toloka"]["operation_id"] == resume[3]
