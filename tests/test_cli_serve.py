"""CLI: ``pandas-toloka make-demo-data`` and a ``serve`` subprocess smoke test."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time

import pytest
import requests

from pandas_toloka.cli import main
from pandas_toloka.server import demo_pools


def test_make_demo_data(tmp_path, capsys):
    assert main(["make-demo-data", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "1001" in out and "1002" in out
    assert (tmp_path / "demo" / "pools" / "1001" / "responses.parquet").exists()
    assert (tmp_path / "demo" / "skills.parquet").exists()


@pytest.mark.parametrize("fifo", ["pools/1001/responses.parquet", "pools/1002"])
def test_make_demo_data_refuses_a_fifo_in_the_way_and_changes_nothing(tmp_path, fifo):
    """A named pipe where a file (or folder) goes is refused, never opened: that would hang.

    Run in a subprocess with a bounded wait: the old code blocked in ``open`` and
    could not even be stopped by Ctrl-C.
    """
    root = tmp_path / "demo"
    (root / fifo).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / fifo)
    (root / "skills.parquet").write_bytes(b"mine")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    process = subprocess.Popen(
        [sys.executable, "-m", "pandas_toloka", "make-demo-data", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate(timeout=10)
        pytest.fail("make-demo-data hung on a FIFO in its directory")
    assert process.returncode == 2, err
    assert err.startswith("pandas-toloka make-demo-data: error: ") and "Traceback" not in err
    assert str(root / fifo) in err
    assert "named pipe (FIFO)" in err or "is not a directory" in err
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing moved in
    assert stat.S_ISFIFO((root / fifo).stat().st_mode)
    assert (root / "skills.parquet").read_bytes() == b"mine"


def test_make_demo_data_replaces_files_keeping_their_permissions(tmp_path):
    root = tmp_path / "demo"
    assert main(["make-demo-data", str(root)]) == 0
    skills = root / "skills.parquet"
    skills.chmod(0o600)
    assert main(["make-demo-data", str(root), "--seed", "7"]) == 0
    assert stat.S_IMODE(skills.stat().st_mode) == 0o600
    assert not list(root.glob(".*"))  # the staging folder is gone


def test_serve_missing_data_dir_fails(tmp_path, capsys):
    assert main(["serve", "--data", str(tmp_path / "nothing"), "--port", "0"]) == 1
    assert "pools" in capsys.readouterr().err


def _serve(args: list[str]) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pandas_toloka", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = token = None
    deadline = time.monotonic() + 30
    while (url is None or token is None) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if url is None and (match := re.search(r"(http://127\.0\.0\.1:\d+)", line)):
            url = match.group(1)
        if line.startswith("token: "):
            token = line.split(": ", 1)[1].strip()
    assert url and token, process.stderr.read() if process.poll() is not None else "no URL printed"
    return process, url, token


def test_serve_subprocess_smoke(tmp_path):
    assert main(["make-demo-data", str(tmp_path)]) == 0
    process, url, token = _serve(["--data", str(tmp_path), "--token", "cli-token"])
    try:
        assert token == "cli-token"
        response = requests.get(
            url + "/api/v1/pools", headers={"Authorization": f"ApiKey {token}"}, timeout=10
        )
        assert [p["id"] for p in response.json()["items"]] == sorted(demo_pools())
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


def test_serve_without_data_serves_demo_pools_with_a_random_token():
    process, url, token = _serve([])
    try:
        assert len(token) >= 20
        headers = {"Authorization": f"OAuth {token}"}
        assert (
            requests.get(url + "/api/v1/pools/1001", headers=headers, timeout=10).json()["id"]
            == "1001"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_cleanly_on_ctrl_c_and_sigterm(sig):
    process, url, token = _serve([])
    try:
        headers = {"Authorization": f"ApiKey {token}"}
        assert requests.get(url + "/api/v1/pools", headers=headers, timeout=10).ok
        process.send_signal(sig)
        assert process.wait(timeout=10) == 0  # docs/server.md: exit code 0
        assert "stopping" in process.stderr.read()  # type: ignore[union-attr]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


def _serve_args(*flags: str):  # type: ignore[no-untyped-def]
    from pandas_toloka.cli import build_parser

    return build_parser().parse_args(["serve", *flags])


def test_limit_and_network_flags_reach_the_server():
    from pandas_toloka.cli.serve import server_kwargs
    from pandas_toloka.server import Limits, LocalTolokaServer, Network

    defaults = LocalTolokaServer(**server_kwargs(_serve_args()))
    assert defaults.limits == Limits() and defaults.network == Network()
    args = _serve_args(
        "--max-body-bytes=100",
        "--max-request-line=200",
        "--max-header-bytes=300",
        "--max-headers=4",
        "--max-connections=5",
        "--header-timeout=0.5",
        "--body-timeout=6",
        "--idle-timeout=7",
        "--max-finished-operations=8",
        "--operation-ttl=9",
        "--max-active-operations=10",
        "--request-log-size=11",
        "--no-gzip",
        "--latency=0.05",
        "--bandwidth=12.5e6",
    )
    server = LocalTolokaServer(**server_kwargs(args))
    assert server.limits == Limits(
        max_body_bytes=100,
        max_request_line=200,
        max_header_bytes=300,
        max_headers=4,
        max_connections=5,
        header_timeout=0.5,
        body_timeout=6,
        idle_timeout=7,
        max_finished_operations=8,
        operation_ttl=9,
        max_active_operations=10,
        request_log_size=11,
    )
    assert server.network == Network(gzip=False, latency=0.05, bandwidth=12.5e6)


@pytest.mark.parametrize(
    "flag",
    [
        "--max-body-bytes=0",
        "--max-headers=-3",
        "--max-connections=2.5",
        "--header-timeout=nan",
        "--operation-ttl=inf",
        "--latency=-1",
        "--bandwidth=0",
    ],
)
def test_bad_limit_flags_are_usage_errors_naming_the_flag(flag, capsys):
    with pytest.raises(SystemExit) as info:
        _serve_args(flag)
    assert info.value.code == 2
    assert flag.split("=")[0] in capsys.readouterr().err
