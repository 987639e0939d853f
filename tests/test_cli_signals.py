"""Real SIGINT / SIGTERM to ``python -m pandas_toloka``: exit 130 / 143, the hint, no traceback.

Each test starts the console script in a subprocess, waits until it is provably
in the phase under test (the server in this process has seen the poll of the
operation, or holds its start request or first page -- a ``hold`` fault, released
by the test, never a timed delay a loaded machine could outlast -- or the hidden
temporary file exists, or the demo has logged the start of its aggregation),
then sends the signal. Every wait is bounded.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import resume_argv

from pandas_toloka.cli import EXIT_HANGUP, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, main
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server._faults import Fault

TOKEN = "cli-signals-token"
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
DEADLINE = 60.0  # seconds; generous for a loaded 2-core machine, never reached when it works


class Script:
    """``python -m pandas_toloka ARGS`` with its output in files (no pipe to fill up)."""

    def __init__(self, args: list[str], logs: Path, env: dict[str, str] | None = None) -> None:
        logs.mkdir(exist_ok=True)
        self._out = logs / "stdout"
        self._err = logs / "stderr"
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pandas_toloka", *args],
                stdout=out,
                stderr=err,
                env={
                    **os.environ,
                    "PYTHONUNBUFFERED": "1",
                    "PYTHONFAULTHANDLER": "1",
                    **(env or {}),
                },
            )

    @property
    def stderr(self) -> str:
        return self._err.read_text()

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"exited {self.process.returncode} before {what}:\n{self.stderr}")
            if time.monotonic() > deadline:
                pytest.fail(f"not {what} after {DEADLINE} s:\n{self.stderr}")
            time.sleep(0.02)

    def signal(self, signum: int, *, then: Callable[[], None] | None = None) -> int:
        """Send ``signum``, call ``then`` (e.g. release a held request), wait for the exit."""
        self.process.send_signal(signum)
        if then is not None:
            then()
        try:
            return self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:  # show where it hangs (faulthandler's dump)
            self.process.send_signal(signal.SIGABRT)
            self.process.wait(timeout=DEADLINE)
            pytest.fail(f"still running {DEADLINE} s after signal {signum}:\n{self.stderr}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalTolokaServer]:
    rows = [
        (f"t{t:02d}", f"w{w}", ("cat", "dog")[(t * w) % 3 == 0])
        for t in range(30)
        for w in range(3)
    ]
    srv = LocalTolokaServer(token=TOKEN)
    srv.add_pool(
        "p1",
        responses=pd.DataFrame(rows, columns=["task_id", "worker_id", "result"]),
        output_spec=SPEC,
    )
    monkeypatch.setenv("TOLOKA_API_KEY", TOKEN)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.delenv("TOLOKA_URL", raising=False)
    with srv:
        yield srv


def _requested(server: LocalTolokaServer, method: str, prefix: str) -> bool:
    return any(m == method and p.startswith(prefix) for m, p in server.request_log.snapshot())


def _hold_the_first_page(server: LocalTolokaServer) -> Fault:
    """Hold the first page request until released: the signal comes while it is in flight.

    Release it once the signal is sent (the signal is then pending before the page can
    arrive, so the page is never written): the clean-up waits for the request in
    flight, which would otherwise take until the hold's timeout.
    """
    return server.faults.add(
        "hold", method="GET", path="/api/v1/aggregated-solutions/", timeout=DEADLINE
    )


def _temporary_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".*.tmp"))


def test_ctrl_c_while_waiting_prints_the_resume_command_and_exits_130(
    server: LocalTolokaServer, tmp_path: Path
) -> None:
    server.operations.delay = 30.0  # type: ignore[attr-defined]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "p1.parquet"
    script = Script(
        [
            "aggregate",
            "p1",
            "--url",
            server.url,
            "--page-size",
            "7",
            "--no-progress",
            "-o",
            str(out),
        ],
        tmp_path / "logs",
    )
    try:
        script.wait_until(
            lambda: _requested(server, "GET", "/api/v1/operations/"), "polling the operation"
        )
        assert script.signal(signal.SIGINT) == EXIT_INTERRUPTED
    finally:
        script.kill()
    err = script.stderr
    (operation,) = server.operations.all()
    assert "Traceback" not in err
    assert (
        f"pandas-toloka aggregate: interrupted (Ctrl-C): aggregation {operation.id} stays on the server"
        in err
    )
    argv = resume_argv(err)
    assert argv == [
        "aggregate",
        "--operation-id",
        operation.id,
        "--url",
        server.url,
        "--page-size",
        "7",
        "--no-progress",
        "-o",
        str(out),
    ]
    assert list(out_dir.iterdir()) == []
    server.operations.stop()  # cut the operation's delay short; then the printed command resumes
    assert main(argv) == EXIT_OK
    assert pd.read_parquet(out).attrs["toloka"]["operation_id"] == operation.id
    assert len(server.operations.all()) == 1  # resumed, not started again


def test_ctrl_c_during_the_start_request_says_how_to_find_the_aggregation(
    server: LocalTolokaServer, tmp_path: Path
) -> None:
    """The start is held on the server past Ctrl-C: its id is unknown, but it starts.

    The CLI must not say "nothing to resume": the printed one-liner lists the
    aggregation, and the printed ``--operation-id`` command reads it.
    """
    # Held until the CLI has exited: its look-up after Ctrl-C cannot find the operation,
    # however long the signal takes on a loaded machine (a timed hold could run out first,
    # and the look-up would then rightly name the operation).
    start = server.faults.add(
        "hold", method="POST", path="/api/v1/aggregated-solutions/", timeout=DEADLINE
    )
    out = tmp_path / "out" / "p1.parquet"
    script = Script(
        ["aggregate", "p1", "--url", server.url, "--no-progress", "--parents", "-o", str(out)],
        tmp_path / "logs",
    )
    try:
        script.wait_until(start.held.is_set, "sending the start request")
        assert script.signal(signal.SIGINT) == EXIT_INTERRUPTED
    finally:
        script.kill()
        start.release()
    err = script.stderr
    assert "Traceback" not in err and "nothing to resume" not in err
    assert (
        "pandas-toloka aggregate: interrupted (Ctrl-C): the aggregation of pool p1 may have " in err
    )
    lines = err.splitlines()
    lookup = shlex.split(lines[lines.index(next(x for x in lines if x.startswith("Find it"))) + 1])
    assert lookup[:2] == [sys.executable, "-c"]
    read = next(x for x in lines if x.startswith("If it lists one"))
    read_argv = shlex.split(read.partition(": ")[2])[1:]
    deadline = time.monotonic() + DEADLINE
    while not server.operations.all():  # the held start request goes on on the server
        assert time.monotonic() < deadline, "the start request never reached the endpoint"
        time.sleep(0.05)
    (operation,) = server.operations.all()
    listed = subprocess.run(lookup, capture_output=True, text=True, timeout=DEADLINE, check=True)
    assert listed.stdout.split()[0] == operation.id, listed
    assert read_argv[:3] == ["aggregate", "--operation-id", "OPERATION_ID"]
    read_argv[2] = operation.id
    assert main(read_argv) == EXIT_OK
    assert pd.read_parquet(out).attrs["toloka"]["operation_id"] == operation.id
    assert len(server.operations.all()) == 1  # read, not started again


def test_sigterm_while_writing_removes_the_temporary_file_and_exits_143(
    server: LocalTolokaServer, tmp_path: Path
) -> None:
    page = _hold_the_first_page(server)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "p1.parquet"
    out.write_bytes(b"an older result")
    script = Script(
        ["aggregate", "p1", "--url", server.url, "--no-progress", "-o", str(out)], tmp_path / "logs"
    )
    try:
        script.wait_until(
            lambda: bool(_temporary_files(out_dir)) and page.held.is_set(),
            "writing the temporary file",
        )
        assert script.signal(signal.SIGTERM, then=page.release) == EXIT_TERMINATED
    finally:
        script.kill()
    err = script.stderr
    (operation,) = server.operations.all()
    assert "Traceback" not in err
    assert f"pandas-toloka aggregate: terminated (SIGTERM): aggregation {operation.id}" in err
    assert resume_argv(err)[:3] == ["aggregate", "--operation-id", operation.id]
    assert _temporary_files(out_dir) == []
    assert out.read_bytes() == b"an older result"  # replaced only by a complete file


def test_ctrl_c_in_the_demo_says_to_run_it_again_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "demo out"
    script = Script(
        ["-v", "demo", "--operation-delay", "30", "--no-progress", "-o", str(out)],
        tmp_path / "logs",
    )
    try:
        script.wait_until(
            lambda: "Started aggregation" in script.stderr, "waiting for an aggregation"
        )
        assert script.signal(signal.SIGINT) == EXIT_INTERRUPTED
    finally:
        script.kill()
    err = script.stderr
    assert "Traceback" not in err
    assert "pandas-toloka demo: interrupted (Ctrl-C): the demo's own server stopped with it" in err
    assert (
        f"Run it again with: pandas-toloka demo -o '{out}' --operation-delay 30 --no-progress"
        in err
    )
    assert "--operation-id" not in err  # nothing to resume: its server is gone
    assert _temporary_files(out) == []


HANGING_CLEANUP = """
import sys, time
from pandas_toloka.cli import _common
from pandas_toloka.errors import OperationInterruptedError

def explain(exc):
    return f"operation {getattr(exc, 'operation_id', None)} stays", ["Resume with: it"]

_common.CLEANUP_GRACE = float(sys.argv[1])
with _common.signals_as_interrupts("test", explain) as signals:
    try:
        print("ready", flush=True)
        time.sleep(60)
    except KeyboardInterrupt:
        _common.note_interruption(OperationInterruptedError("x", operation_id="op-7"))
        print("cleaning up", flush=True)
        time.sleep(60)  # a clean-up that hangs (e.g. on a lock the interrupt left held)
sys.exit(0)
"""


@pytest.mark.parametrize(
    ("grace", "signals", "why"),
    [
        ("60", [signal.SIGINT, signal.SIGINT], "a second signal during the clean-up"),
        ("0.5", [signal.SIGTERM], "the clean-up did not finish within 0.5 s"),
    ],
)
def test_a_hanging_clean_up_is_bounded(
    tmp_path: Path, grace: str, signals: list[int], why: str
) -> None:
    err_path = tmp_path / "stderr"
    with (tmp_path / "stdout").open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", HANGING_CLEANUP, grace], stdout=out, stderr=err
        )

    def wait_for(line: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while line not in (tmp_path / "stdout").read_text():
            assert process.poll() is None and time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.02)

    try:
        wait_for("ready")
        process.send_signal(signals[0])
        if len(signals) > 1:
            wait_for("cleaning up")  # the first is being handled when the second comes
            process.send_signal(signals[1])
        code = process.wait(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=DEADLINE)
    expected = EXIT_TERMINATED if signals[0] == signal.SIGTERM else EXIT_INTERRUPTED
    assert code == expected
    err = err_path.read_text()
    description = "terminated (SIGTERM)" if code == EXIT_TERMINATED else "interrupted (Ctrl-C)"
    # what the subcommand would have said, from the interruption it noted, then why so soon
    assert err.splitlines() == [
        f"pandas-toloka test: {description}: operation op-7 stays",
        "Resume with: it",
        f"(exiting now: {why})",
    ]


def _writing(server: LocalTolokaServer, tmp_path: Path) -> tuple[Script, Path, Path, Fault]:
    """The aggregate command, held by the server on its first page, its temporary file open."""
    page = _hold_the_first_page(server)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "p1.parquet"
    out.write_bytes(b"an older result")
    script = Script(
        ["aggregate", "p1", "--url", server.url, "--no-progress", "-o", str(out)], tmp_path / "logs"
    )
    script.wait_until(
        lambda: bool(_temporary_files(out_dir)) and page.held.is_set(),
        "writing the temporary file",
    )
    return script, out_dir, out, page


def test_sighup_is_handled_like_sigterm(server: LocalTolokaServer, tmp_path: Path) -> None:
    script, out_dir, out, page = _writing(server, tmp_path)
    try:
        assert script.signal(signal.SIGHUP, then=page.release) == EXIT_HANGUP
    finally:
        script.kill()
    err = script.stderr
    (operation,) = server.operations.all()
    assert "Traceback" not in err
    assert f"pandas-toloka aggregate: hung up (SIGHUP): aggregation {operation.id}" in err
    assert resume_argv(err)[:3] == ["aggregate", "--operation-id", operation.id]
    assert _temporary_files(out_dir) == []
    assert out.read_bytes() == b"an older result"


@pytest.mark.parametrize("gap", [0.0, 0.03])
def test_two_quick_ctrl_c_still_print_the_resume_command(
    server: LocalTolokaServer, tmp_path: Path, gap: float
) -> None:
    """Wherever the second Ctrl-C lands -- in the library's unwinding, in the clean-up, or
    after it -- the aggregation is named, the temporary file removed, the old file kept."""
    script, out_dir, out, page = _writing(server, tmp_path)
    try:
        script.process.send_signal(signal.SIGINT)
        page.release()
        time.sleep(gap)  # the gap between the two key presses, not a wait for the code
        if script.process.poll() is None:
            script.process.send_signal(signal.SIGINT)
        # After the clean-up and the report, Ctrl-C has its default action again: a second
        # one landing there ends the process by SIGINT, which a shell reports as 130 too.
        assert script.process.wait(timeout=DEADLINE) in (EXIT_INTERRUPTED, -signal.SIGINT)
    finally:
        script.kill()
    err = script.stderr
    (operation,) = server.operations.all()
    assert "Traceback" not in err and "nothing to resume" not in err
    assert f"interrupted (Ctrl-C): aggregation {operation.id}" in err
    assert resume_argv(err)[:3] == ["aggregate", "--operation-id", operation.id]
    assert _temporary_files(out_dir) == []
    assert out.read_bytes() == b"an older result"


FORCED_WHILE_WRITING = """
import sys
from pathlib import Path
from pandas_toloka.cli import _common
from pandas_toloka.cli._files import atomic_output

with _common.signals_as_interrupts("test", lambda exc: (repr(exc), [])):
    with atomic_output(Path(sys.argv[1])) as tmp:
        _common.note_operation("op-9")
        print("writing", tmp, flush=True)
        _common._active.force_exit("forced")  # what a second signal does, at its worst moment
"""


def test_an_exit_forced_mid_write_removes_the_temporary_file_and_names_the_operation(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORCED_WHILE_WRITING, str(tmp_path / "out.parquet")],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert done.stdout.startswith("writing ")  # the temporary file existed
    assert list(tmp_path.iterdir()) == []
    assert "operation op-9 started" in done.stderr and "(exiting now: forced)" in done.stderr
