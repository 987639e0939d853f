"""``pandas-toloka aggregate`` against the bundled server: Parquet output, exit codes, atomicity."""

from __future__ import annotations

import errno
import shlex
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from cli_helpers import resume_argv
from eviction import evicted_at_the_first_page

from pandas_toloka.cli import EXIT_ERROR, EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE, _files, main
from pandas_toloka.client import Client
from pandas_toloka.reader import read_aggregated_solutions
from pandas_toloka.server import LocalTolokaServer

TOKEN = "cli-test-token"
SPEC = {
    "result": {"type": "STRING", "allowed_values": ["cat", "dog"]},
    "sure": {"type": "INTEGER", "min_value": 1, "max_value": 3},
}


def _responses(n_tasks: int) -> pd.DataFrame:
    rows = [
        (f"t{t:03d}", f"w{w}", ("cat", "dog")[(t + w) % 4 == 0], 1 + (t + w) % 3)
        for t in range(n_tasks)
        for w in range(3)
    ]
    return pd.DataFrame(rows, columns=["task_id", "worker_id", "result", "sure"])


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalTolokaServer]:
    srv = LocalTolokaServer(token=TOKEN, operation_delay=0.02)
    srv.add_pool("p1", responses=_responses(25), output_spec=SPEC)
    srv.add_skills(
        pd.DataFrame({"worker_id": ["w0", "w1", "w2"], "skill_id": "s", "value": [60, 80, 90]})
    )
    srv.add_pool(
        "mix", responses=_responses(10), output_spec=SPEC, smart_mixing=True, project_id="p1"
    )
    monkeypatch.setenv("TOLOKA_API_KEY", TOKEN)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.delenv("TOLOKA_URL", raising=False)
    with srv:
        yield srv


def _aggregate(server: LocalTolokaServer, out: Path, *extra: str) -> int:
    """``pandas-toloka aggregate p1 --field result`` against ``server`` into ``out``."""
    args = ["aggregate", "p1", "--field", "result", "--url", server.url, "--no-progress", *extra]
    return main([*args, "-o", str(out)])


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_writes_typed_parquet_equal_to_read(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "out.parquet"
    code = main(
        [
            "aggregate",
            "p1",
            "--type",
            "dawid_skene",
            "--field",
            "result",
            "--url",
            server.url,
            "--page-size",
            "7",
            "--no-progress",
            "--parents",  # "sub" is created
            "-o",
            str(out),
        ]
    )
    assert code == EXIT_OK
    assert "Wrote 25 aggregated rows" in capsys.readouterr().out
    assert _leftovers(out.parent) == ["out.parquet"]
    assert pq.ParquetFile(out).metadata.num_row_groups == 4  # streamed page by page
    back = pd.read_parquet(out, dtype_backend="pyarrow")
    op_id = back.attrs["toloka"]["operation_id"]
    with Client(TOKEN, url=server.url) as client:
        expected = read_aggregated_solutions(operation_id=op_id, client=client, progress_bar=False)
        nullable = read_aggregated_solutions(
            operation_id=op_id, client=client, progress_bar=False, dtype_backend="numpy_nullable"
        )
    # the enumerated column comes back as an Arrow dictionary there, a categorical in the frame
    pd.testing.assert_frame_equal(back, expected, check_dtype=False, check_categorical=False)
    assert back.attrs == expected.attrs
    # A plain read_parquet gives the Python reader's frame, dtypes included, and the file
    # has the Arrow types of that frame's own to_parquet (large_string, int8 dictionary).
    plain = pd.read_parquet(out)
    assert list(plain["result"].cat.categories) == ["cat", "dog"]
    pd.testing.assert_frame_equal(plain, expected)
    assert plain.attrs == expected.attrs
    expected.to_parquet(tmp_path / "python.parquet")
    python_schema = pq.read_schema(tmp_path / "python.parquet")
    assert pq.read_schema(out).remove_metadata() == python_schema.remove_metadata()
    assert str(python_schema.field("result").type.index_type) == "int8"
    for backend in ("pyarrow", "numpy_nullable"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out, dtype_backend=backend),
            pd.read_parquet(tmp_path / "python.parquet", dtype_backend=backend),
        )
    pd.testing.assert_frame_equal(
        pd.read_parquet(out, dtype_backend="numpy_nullable"), nullable, check_categorical=False
    )


def test_multi_field_skill_aggregation_from_env_url(
    server: LocalTolokaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOLOKA_URL", server.url)
    out = tmp_path / "wdo.parquet"
    code = main(
        [
            "aggregate",
            "mix",
            "--type",
            "WEIGHTED_DYNAMIC_OVERLAP",
            "--field",
            "result",
            "--field",
            "sure",
            "--skill",
            "s",
            "--no-progress",
            "-o",
            str(out),
        ]
    )
    assert code == EXIT_OK
    back = pd.read_parquet(out, dtype_backend="pyarrow")
    assert list(back.columns) == ["pool_id", "task_id", "confidence", "result", "sure"]
    assert str(back["sure"].dtype) == "int64[pyarrow]" and len(back) == 10


def test_bad_field_is_usage_error_and_writes_nothing(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "aggregate",
            "p1",
            "--field",
            "nope",
            "--url",
            server.url,
            "-o",
            str(tmp_path / "x.parquet"),
        ]
    )
    assert code == EXIT_USAGE
    assert "no output field 'nope'" in capsys.readouterr().err
    assert _leftovers(tmp_path) == []


def test_timeout_then_resume(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.operations.delay = 0.5  # type: ignore[attr-defined]
    out = tmp_path / "out.parquet"
    code = _aggregate(server, out, "--wait-timeout", "0.05")
    assert code == EXIT_TIMEOUT
    err = capsys.readouterr().err
    argv = resume_argv(err)
    op_id = argv[argv.index("--operation-id") + 1]
    assert f"read it later with --operation-id {op_id}" in err  # flags, not keywords
    assert "--wait-timeout 0.05" in err  # the same options again
    assert _leftovers(tmp_path) == []
    server.operations.delay = 0.0  # type: ignore[attr-defined]
    assert main([*argv[:-2], "--wait-timeout", "60", "-o", str(out)]) == EXIT_OK
    assert pd.read_parquet(out).attrs["toloka"]["operation_id"] == op_id


def test_failure_mid_stream_removes_the_temporary_file(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.faults.add(
        "server_error", count=50, status=500, path="/api/v1/aggregated-solutions/", method="GET"
    )
    out = tmp_path / "out.parquet"
    out.write_bytes(b"old")  # an older result must survive a failed run
    code = _aggregate(server, out, "--max-attempts", "2")
    assert code == EXIT_ERROR
    assert "ServerError" in capsys.readouterr().err
    assert _leftovers(tmp_path) == ["out.parquet"] and out.read_bytes() == b"old"


def test_failed_operation_and_missing_token(
    server: LocalTolokaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.faults.add("fail_operation", count=1)
    args = [
        "aggregate",
        "p1",
        "--field",
        "result",
        "--url",
        server.url,
        "-o",
        str(tmp_path / "o.parquet"),
    ]
    assert main(args) == EXIT_ERROR
    assert "OperationFailedError" in capsys.readouterr().err
    monkeypatch.delenv("TOLOKA_API_KEY")
    assert main(args) == EXIT_ERROR
    assert "TOLOKA_API_KEY" in capsys.readouterr().err
    assert _leftovers(tmp_path) == []


def test_output_file_gets_the_usual_permissions(server: LocalTolokaServer, tmp_path: Path) -> None:
    """Not the owner-only mode of the temporary file: other jobs of an ETL must read it."""
    import os

    out = tmp_path / "shared.parquet"
    old = os.umask(0o022)
    try:
        assert _aggregate(server, out) == EXIT_OK
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("target", ["directory", "under_a_file"])
def test_unwritable_output_is_refused_before_aggregating(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    (tmp_path / "a_file").write_text("x")
    out = tmp_path if target == "directory" else tmp_path / "a_file" / "out.parquet"
    server.request_log.clear()
    code = _aggregate(server, out)
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("is a directory" in err or "is not a directory" in err)
    assert server.request_log.snapshot() == []  # no aggregation quota spent
    assert _leftovers(tmp_path) == ["a_file"]


def test_write_failure_is_exit_1_without_traceback(
    server: LocalTolokaServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def disk_full(tmp: Path, path: Path) -> None:  # the disk fills up as the file is finished
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files, "_keep_mode", disk_full)
    out = tmp_path / "out.parquet"
    code = _aggregate(server, out)
    assert code == EXIT_ERROR
    err = capsys.readouterr().err
    assert "cannot write" in err and "No space left" in err and "Traceback" not in err
    assert _leftovers(tmp_path) == []
    (operation,) = server.operations.all()  # it had started: the results wait on the server
    assert resume_argv(err)[:3] == ["aggregate", "--operation-id", operation.id]


def test_malformed_url_is_a_usage_error(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "aggregate",
            "p1",
            "--url",
            "http://[::1",
            "--no-progress",
            "-o",
            str(tmp_path / "o.parquet"),
        ]
    )
    assert code == EXIT_USAGE and "not a valid URL" in capsys.readouterr().err


def test_network_failure_while_waiting_says_how_to_resume(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.operations.delay = 0.2  # type: ignore[attr-defined]
    server.faults.add(
        "server_error", count=10, status=500, path="/api/v1/operations/", method="GET"
    )
    out = tmp_path / "out.parquet"
    code = _aggregate(server, out, "--max-attempts", "2")
    assert code == EXIT_ERROR
    err = capsys.readouterr().err
    argv = resume_argv(err)
    op_id = argv[argv.index("--operation-id") + 1]
    assert f"resume with --operation-id {op_id}" in err
    assert argv == [
        "aggregate",
        "--operation-id",
        op_id,
        "--url",
        server.url,
        "--max-attempts",
        "2",
        "--no-progress",
        "-o",
        str(out),
    ]
    server.faults.clear()
    assert main(argv) == EXIT_OK
    assert pd.read_parquet(out).attrs["toloka"]["operation_id"] == op_id


def test_truncated_pages_after_the_start_print_the_resume_command(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every read of the results is cut short: exit 1, and the command that resumes."""
    server.faults.add("drop", count=20, path="/api/v1/aggregated-solutions/", method="GET")
    out = tmp_path / "out.parquet"
    code = _aggregate(server, out, "--max-attempts", "2")
    assert code == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("pandas-toloka aggregate: error: ") and "Traceback" not in err
    (operation,) = server.operations.all()
    argv = resume_argv(err)
    assert argv[:3] == ["aggregate", "--operation-id", operation.id]
    assert _leftovers(tmp_path) == []
    server.faults.clear()
    assert main(argv) == EXIT_OK
    assert len(pd.read_parquet(out)) == 25 and len(server.operations.all()) == 1


def test_an_evicted_operation_gets_no_resume_command_but_a_new_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Evicted between the wait and the first page: resuming would 404 again."""
    monkeypatch.setenv("TOLOKA_API_KEY", TOKEN)
    with LocalTolokaServer(token=TOKEN) as server:
        server.add_pool("p1", responses=_responses(25), output_spec=SPEC)
        out = tmp_path / "out.parquet"
        with evicted_at_the_first_page(server):
            assert _aggregate(server, out) == EXIT_ERROR
        err = capsys.readouterr().err
        assert "Resume with" not in err and "Traceback" not in err
        (line, note) = err.splitlines()
        assert line.startswith("pandas-toloka aggregate: error: aggregation ")
        assert "is no longer on the server, so it cannot be resumed" in line and "evicted" in line
        argv = shlex.split(note.removeprefix("Start a new aggregation: "))
        assert argv[1:7] == ["aggregate", "p1", "--type", "DAWID_SKENE", "--field", "result"]
        assert _leftovers(tmp_path) == []
        assert main(argv[1:]) == EXIT_OK  # the printed command starts a new aggregation
        assert len(pd.read_parquet(out)) == 25


def test_resume_command_keeps_the_options_but_no_credentials(tmp_path: Path) -> None:
    from pandas_toloka.cli import build_parser
    from pandas_toloka.cli.aggregate import resume_command

    out = tmp_path / "my results.parquet"
    args = build_parser().parse_args(
        [
            "aggregate",
            "p1",
            "--token",
            "secret-token",
            "--url",
            "https://user:hunter2@example.com:8443/x",
            "--environment",
            "SANDBOX",
            "--page-size",
            "500",
            "--wait-timeout",
            "90",
            "--progress",
            "-o",
            str(out),
        ]
    )
    line = resume_command(args, "op-1")
    assert shlex.split(line) == [
        "pandas-toloka",
        "aggregate",
        "--operation-id",
        "op-1",
        "--url",
        "https://example.com:8443/x",
        "--environment",
        "SANDBOX",
        "--page-size",
        "500",
        "--wait-timeout",
        "90",
        "--progress",
        "-o",
        str(out),
    ]
    assert "secret-token" not in line and "hunter2" not in line
