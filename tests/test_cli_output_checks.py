"""Every ``-o`` check is made before the first request: no aggregation quota is spent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pandas_toloka.cli import EXIT_OK, EXIT_USAGE, main
from pandas_toloka.cli._files import atomic_output, not_writable
from pandas_toloka.server import LocalTolokaServer

TOKEN = "cli-output-checks-token"
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalTolokaServer]:
    rows = [(f"t{t}", f"w{w}", ("cat", "dog")[(t + w) % 2]) for t in range(6) for w in range(3)]
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])
    monkeypatch.setenv("TOLOKA_API_KEY", TOKEN)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.delenv("TOLOKA_URL", raising=False)
    with LocalTolokaServer(token=TOKEN, operation_delay=0.0) as srv:
        srv.add_pool("p1", responses=frame, output_spec=SPEC)
        srv.request_log.clear()
        yield srv


def _aggregate(server: LocalTolokaServer, out: Path, *extra: str) -> int:
    args = ["aggregate", "p1", "--url", server.url, "--no-progress", *extra]
    return main([*args, "-o", str(out)])


def _refused(
    server: LocalTolokaServer, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> str:
    """Run the command; assert it stopped with a usage error before any request."""
    assert _aggregate(server, out, *extra) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert server.request_log.snapshot() == []  # nothing reached the server
    return err


def test_a_symlink_into_a_folder_where_nothing_can_be_created(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /proc/self: nobody, root included, creates files there (a mode bit would not stop root)
    link = tmp_path / "out.parquet"
    link.symlink_to("/proc/self/out.parquet")
    err = _refused(server, link, capsys)
    assert "/proc/" in err and "symbolic link" in err and "permission denied" in err.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


@pytest.mark.parametrize("length", [255, 242])
def test_a_name_too_long_with_its_temporary_name(
    server: LocalTolokaServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    length: int,
) -> None:
    out = tmp_path / ("n" * (length - len(".parquet")) + ".parquet")
    err = _refused(server, out, capsys)
    assert "passes the file system's limit of 255 bytes" in err
    assert "at most 241 bytes" in err
    assert list(tmp_path.iterdir()) == []


def test_the_longest_name_allowed_is_written(server: LocalTolokaServer, tmp_path: Path) -> None:
    out = tmp_path / ("n" * (241 - len(".parquet")) + ".parquet")
    assert _aggregate(server, out) == EXIT_OK
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_missing_folder_is_an_error_unless_parents_is_given(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a" / "b" / "out.parquet"
    err = _refused(server, out, capsys)
    assert "does not exist" in err and "--parents" in err
    assert list(tmp_path.iterdir()) == []
    assert _aggregate(server, out, "--parents") == EXIT_OK
    assert [p.name for p in out.parent.iterdir()] == ["out.parquet"]


@pytest.mark.parametrize("command", ["export", "responses", "aggregate-local"])
def test_every_writing_command_takes_parents(
    server: LocalTolokaServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """The same -o rules for each command that writes a file: a missing folder is refused
    before any request, and created with --parents."""
    source = tmp_path / "responses.parquet"
    pd.DataFrame(
        {"task_id": ["t1", "t1"], "worker_id": ["w1", "w2"], "result": ["cat", "cat"]}
    ).to_parquet(source)
    head = {
        "export": ["export", "p1", "--url", server.url, "--no-progress"],
        "responses": ["responses", "p1", "--url", server.url, "--no-progress"],
        "aggregate-local": ["aggregate-local", str(source), "--type", "MAJORITY_VOTE"],
    }[command]
    out = tmp_path / "a" / "b" / "out.parquet"
    assert main([*head, "-o", str(out)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "does not exist" in err and "--parents" in err and "Traceback" not in err
    assert server.request_log.snapshot() == []
    assert not (tmp_path / "a").exists()
    assert main([*head, "-o", str(out), "--parents"]) == EXIT_OK
    assert [p.name for p in out.parent.iterdir()] == ["out.parquet"]


def test_parents_never_creates_folders_through_a_dangling_symlink(
    server: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inside, outside = tmp_path / "target", tmp_path / "elsewhere"
    inside.mkdir()
    (inside / "out.parquet").symlink_to(outside / "deep" / "out.parquet")
    (inside / "via").symlink_to(outside / "dir")
    for out in (inside / "out.parquet", inside / "via" / "sub" / "out.parquet"):
        err = _refused(server, out, capsys, "--parents")
        assert "never creates folders through a symbolic link" in err
    assert not outside.exists()


def test_the_write_creates_no_folder_without_parents(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_output(tmp_path / "missing" / "x.parquet"):
        pass  # pragma: no cover - never reached
    assert list(tmp_path.iterdir()) == []
    assert not_writable(tmp_path / "missing" / "x.parquet", parents=True) is None


def test_the_check_leaves_no_temporary_file(tmp_path: Path) -> None:
    assert not_writable(tmp_path / "x.parquet") is None
    assert list(tmp_path.iterdir()) == []
    assert os.access(tmp_path, os.W_OK)
