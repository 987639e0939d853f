"""Every subcommand answers a user's mistake with one line in the CLI's terms, never a traceback.

Table-driven: each row is a command line, the exit code it must give, and what
its error must say. Every error line starts ``pandas-toloka <subcommand>: error:``,
speaks in flags (``--field``, ``--skill``, ``--token``), not in Python keywords,
and never shows the token. Usage errors (exit 2) start no aggregation.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pandas_toloka.cli import (
    EXIT_ERROR,
    EXIT_HANGUP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    build_parser,
    main,
)
from pandas_toloka.cli._common import cli_message
from pandas_toloka.server import LocalTolokaServer

TOKEN = "cli-errors-canary-token"
SPEC = {
    "result": {"type": "STRING", "allowed_values": ["cat", "dog"]},
    "sure": {"type": "INTEGER", "min_value": 1, "max_value": 3},
}
PYTHON_SPEAK = re.compile(r"\b(fields|answer_weight_skill_id|operation_id|token|type)=|Traceback")


@pytest.fixture(scope="module")
def server() -> Iterator[LocalTolokaServer]:
    rows = [
        (f"t{t}", f"w{w}", ("cat", "dog")[(t + w) % 3 == 0], 1 + w)
        for t in range(6)
        for w in range(3)
    ]
    responses = pd.DataFrame(rows, columns=["task_id", "worker_id", "result", "sure"])
    srv = LocalTolokaServer(token=TOKEN)
    srv.add_pool("p1", responses=responses, output_spec=SPEC)
    srv.add_pool("mix", responses=responses, output_spec=SPEC, smart_mixing=True, project_id="p1")
    srv.add_skills(pd.DataFrame({"worker_id": ["w0", "w1"], "skill_id": "s", "value": [70, 90]}))
    with srv:
        yield srv


@pytest.fixture
def env(server: LocalTolokaServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Token and URL from the environment, as the docs recommend; a scratch directory."""
    monkeypatch.setenv("TOLOKA_API_KEY", TOKEN)
    monkeypatch.setenv("TOLOKA_URL", server.url)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    (tmp_path / "a_file.txt").write_text("x")
    (tmp_path / "a_dir").mkdir()
    os.mkfifo(tmp_path / "a_fifo.parquet")
    (tmp_path / "demo_out" / "aggregated.parquet").mkdir(parents=True)
    return tmp_path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


OUT = "{tmp}/out.parquet"

# (argv, exit code, what the error says); {tmp} is the scratch directory
CASES = [
    # serve
    (["serve", "--port", "-1"], EXIT_USAGE, "argument --port: -1 is not a port: use 0 to 65535"),
    (["serve", "--port", "70000"], EXIT_USAGE, "70000 is not a port"),
    (["serve", "--port", "http"], EXIT_USAGE, "'http' is not a port number"),
    (
        ["serve", "--operation-delay", "-3"],
        EXIT_USAGE,
        "argument --operation-delay: -3 is negative",
    ),
    (["serve", "--operation-delay", "nan"], EXIT_USAGE, "not a finite number"),
    (["serve", "--data", "{tmp}/missing", "--port", "0"], EXIT_ERROR, "pools is missing"),
    (["serve", "--host", "203.0.113.7", "--port", "0"], EXIT_ERROR, "--host 203.0.113.7"),
    (["serve", "--host", " "], EXIT_USAGE, "argument --host: empty; give an address"),
    (["serve", "--token", ""], EXIT_USAGE, "argument --token: give a non-empty token"),
    (["serve", "--token", "a b"], EXIT_USAGE, "without spaces"),
    # make-demo-data
    (
        ["make-demo-data", "{tmp}/a_file.txt"],
        EXIT_USAGE,
        "a_file.txt exists and is not a directory",
    ),
    (
        ["make-demo-data", "{tmp}/d", "--seed", "-1"],
        EXIT_USAGE,
        "-1 is out of range: use 0 or more",
    ),
    # demo
    (["demo", "-o", "{tmp}/a_file.txt"], EXIT_USAGE, "a_file.txt exists and is not a directory"),
    (["demo", "-o", "{tmp}/demo_out"], EXIT_USAGE, "aggregated.parquet is a directory"),
    (["demo", "--operation-delay", "-1"], EXIT_USAGE, "-1 is negative"),
    # aggregate: options
    (["aggregate", "-o", OUT], EXIT_USAGE, "give the POOL_ID to aggregate, or --operation-id"),
    (["aggregate", "p1"], EXIT_USAGE, "the following arguments are required: -o/--output"),
    (["aggregate", "p1", "--type", "MEAN", "-o", OUT], EXIT_USAGE, "invalid choice: 'MEAN'"),
    (
        ["aggregate", "p1", "--page-size", "0", "-o", OUT],
        EXIT_USAGE,
        "0 is out of range: use 1 to 100000",
    ),
    (["aggregate", "p1", "--page-size", "100001", "-o", OUT], EXIT_USAGE, "out of range"),
    (
        ["aggregate", "p1", "--max-attempts", "0", "-o", OUT],
        EXIT_USAGE,
        "out of range: use 1 or more",
    ),
    (["aggregate", "p1", "--wait-timeout", "-5", "-o", OUT], EXIT_USAGE, "-5 is not positive"),
    (["aggregate", "p1", "--wait-timeout", "inf", "-o", OUT], EXIT_USAGE, "not a finite number"),
    (["aggregate", "p1", "--token", " ", "-o", OUT], EXIT_USAGE, "--token is empty"),
    (["aggregate", "p1", "--url", "http://[::1", "-o", OUT], EXIT_USAGE, "not a valid URL"),
    # aggregate: outputs (refused before anything is started)
    (["aggregate", "p1", "-o", "{tmp}/x.csv"], EXIT_USAGE, "always Parquet, not .csv"),
    (["aggregate", "p1", "-o", "{tmp}/a_dir"], EXIT_USAGE, "a_dir is a directory"),
    (["aggregate", "p1", "-o", "{tmp}/a_fifo.parquet"], EXIT_USAGE, "is a named pipe (FIFO)"),
    (["aggregate", "p1", "-o", "/dev/null"], EXIT_USAGE, "/dev/null is a character device"),
    (["aggregate", "p1", "-o", "{tmp}/a_file.txt/o.parquet"], EXIT_USAGE, "is not a directory"),
    # aggregate: arguments the library checks, in flag names
    (["aggregate", "p1", "-o", OUT], EXIT_USAGE, "choose with --field NAME"),
    (["aggregate", "p1", "--field", "nope", "-o", OUT], EXIT_USAGE, "no output field 'nope'"),
    (
        ["aggregate", "p1", "--field", "result", "--field", "sure", "-o", OUT],
        EXIT_USAGE,
        "or use --type WEIGHTED_DYNAMIC_OVERLAP with --skill",
    ),
    (
        ["aggregate", "mix", "--type", "WEIGHTED_DYNAMIC_OVERLAP", "-o", OUT],
        EXIT_USAGE,
        "pass --skill (the pool's dynamic overlap skill), or use --type DAWID_SKENE",
    ),
    (
        ["aggregate", "p1", "--field", "result", "--skill", "s", "-o", OUT],
        EXIT_USAGE,
        "--skill weighs answers in WEIGHTED_DYNAMIC_OVERLAP only",
    ),
    # aggregate: unknown ids (404), named
    (["aggregate", "999", "-o", OUT], EXIT_ERROR, "NotFoundError: 404 DOES_NOT_EXIST: Pool '999'"),
    (["aggregate", "--operation-id", "nope", "-o", OUT], EXIT_ERROR, "Operation 'nope' does not"),
    (
        [
            "aggregate",
            "mix",
            "--type",
            "WEIGHTED_DYNAMIC_OVERLAP",
            "--skill",
            "777",
            "--field",
            "result",
            "-o",
            OUT,
        ],
        EXIT_ERROR,
        "Skill '777' does not exist",
    ),
]


@pytest.mark.parametrize(("argv", "exit_code", "says"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_user_mistakes_get_one_clear_line(
    argv: list[str],
    exit_code: int,
    says: str,
    env: Path,
    server: LocalTolokaServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [arg.replace("{tmp}", str(env)) for arg in argv]
    started = len(server.operations.all())
    code, out, err = _run(argv, capsys)
    assert code == exit_code, err
    assert says.replace("{tmp}", str(env)) in err
    assert re.search(rf"^pandas-toloka {argv[0]}: error: ", err, re.MULTILINE), err
    assert not PYTHON_SPEAK.search(err), err
    assert TOKEN not in out + err
    assert len(server.operations.all()) == started  # no aggregation started by a mistake
    assert sorted(p.name for p in env.iterdir()) == [
        "a_dir",
        "a_fifo.parquet",
        "a_file.txt",
        "demo_out",
    ]  # nothing written, no temporary file left


def test_busy_port_names_the_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = _run(["serve", "--port", str(port)], capsys)
    assert code == EXIT_ERROR
    assert err.startswith(f"pandas-toloka serve: error: port {port} on 127.0.0.1 is already in use")
    assert "--port 0" in err and "Traceback" not in err


def test_missing_token_points_to_the_variable_and_the_flag(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY")
    code, _, err = _run(["aggregate", "p1", "--field", "result", "-o", f"{env}/o.parquet"], capsys)
    assert code == EXIT_ERROR
    assert err.startswith("pandas-toloka aggregate: error: no Toloka token: set the environment")
    assert "TOLOKA_API_KEY" in err and "--token" in err and "token=" not in err


def test_token_flag_is_used_and_never_echoed(
    env: Path,
    server: LocalTolokaServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY")
    out = env / "o.parquet"
    code, stdout, err = _run(
        ["aggregate", "p1", "--field", "result", "--token", TOKEN, "-o", str(out)], capsys
    )
    assert code == EXIT_OK and out.exists()
    assert TOKEN not in stdout + err
    wrong = "wrong-" + TOKEN
    caplog.set_level(logging.DEBUG)
    code, stdout, err = _run(
        ["-vv", "aggregate", "p1", "--field", "result", "--token", wrong, "-o", str(out)], capsys
    )
    assert code == EXIT_ERROR and "AuthenticationError" in err
    assert wrong not in stdout + err + caplog.text
    assert caplog.records  # the requests were logged, without the token


def test_exit_codes_are_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--help"], capsys)
    assert code == EXIT_OK
    codes = re.findall(r"^  (\d+) ", out.split("exit codes:")[1], re.MULTILINE)
    assert [int(c) for c in codes] == [
        EXIT_OK,
        EXIT_ERROR,
        EXIT_USAGE,
        EXIT_TIMEOUT,
        EXIT_HANGUP,
        EXIT_INTERRUPTED,
        EXIT_TERMINATED,
    ]
    assert (EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_TIMEOUT) == (0, 1, 2, 3)
    assert (EXIT_HANGUP, EXIT_INTERRUPTED, EXIT_TERMINATED) == (129, 130, 143)
    docs = (Path(__file__).parents[1] / "docs" / "reader.md").read_text()
    for text in (
        "0 success",
        "2 bad usage",
        "3 wait timed out",
        "129 SIGHUP",
        "130 Ctrl-C",
        "143 SIGTERM",
    ):
        assert text in " ".join(docs.split()), text


def test_build_parser_has_no_side_effects() -> None:
    """The docs build the CLI page from it: every subcommand, no I/O, no signal handlers."""
    import signal

    before = signal.getsignal(signal.SIGTERM)
    parser = build_parser()
    assert signal.getsignal(signal.SIGTERM) is before
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert sorted(choices) == [
        "aggregate",
        "aggregate-local",
        "demo",
        "export",
        "make-demo-data",
        "responses",
        "serve",
    ]


@pytest.mark.parametrize(
    ("python", "shell"),
    [
        ("choose with fields=...", "choose with --field NAME"),
        ("pass answer_weight_skill_id= (the skill)", "pass --skill (the skill)"),
        ("with answer_weight_skill_id.", "with --skill."),
        ("or use type='DAWID_SKENE'.", "or use --type DAWID_SKENE."),
        ("omit type= or pass", "omit --type or pass"),
        ("read it later with operation_id='ab-1'.", "read it later with --operation-id ab-1."),
        ("No Toloka token: pass token=..., or set", "No Toloka token: pass --token, or set"),
        ("The Toloka token from token= contains", "The Toloka token from --token contains"),
        ("Pass a pool_id (or operation_id= to read", "Pass a POOL_ID (or --operation-id to read"),
        ("page_size must be", "--page-size must be"),
        ("Pool 'p' has no output field 'x'", "Pool 'p' has no output field 'x'"),
    ],
)
def test_library_messages_are_translated_to_flags(python: str, shell: str) -> None:
    assert cli_message(python) == shell
