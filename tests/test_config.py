"""One source for every client default, one way to get a client, one URL cleaner.

The defaults live in ``pandas_toloka._config``; the public signatures, the Dask
readers and the command line read them from there instead of spelling them again.
"""

from __future__ import annotations

import inspect

import pytest

import pandas_toloka as ptk
from pandas_toloka import _config, _protocol
from pandas_toloka._frame import captions
from pandas_toloka._http.endpoint import display_url, without_userinfo
from pandas_toloka._read.connect import client_scope, open_client
from pandas_toloka.cli import build_parser
from pandas_toloka.errors import InvalidArgumentError


def _default(function: object, name: str) -> object:
    return inspect.signature(function).parameters[name].default  # type: ignore[arg-type]


def test_client_defaults_come_from_config() -> None:
    expected = {
        "timeout": _config.TIMEOUT,
        "max_attempts": _config.MAX_ATTEMPTS,
        "backoff_base": _config.BACKOFF_BASE,
        "backoff_max": _config.BACKOFF_MAX,
        "rate_limit_wait": _config.RATE_LIMIT_WAIT,
        "max_wait": _config.MAX_WAIT,
        "pool_size": _config.POOL_SIZE,
        "poll_min": _config.POLL_MIN,
        "poll_max": _config.POLL_MAX,
        "max_answer_bytes": _config.MAX_ANSWER_BYTES,
        "deadline": _config.DEADLINE,
    }
    assert {name: _default(ptk.Client, name) for name in expected} == expected


def test_reader_defaults_come_from_config() -> None:
    for reader in (
        ptk.read_aggregated_solutions,
        ptk.iter_aggregated_solutions,
        ptk.open_aggregated_solutions,
    ):
        assert _default(reader, "page_size") == _config.SOLUTIONS_PAGE_SIZE
        assert _default(reader, "wait_timeout") == _config.WAIT_TIMEOUT
    for reader in (ptk.read_responses, ptk.iter_responses):
        assert _default(reader, "page_size") == _config.RESPONSES_PAGE_SIZE
    # the wire's default limit is a different fact from what the client asks for
    assert _protocol.DEFAULT_LIMIT == 50 != _config.RESPONSES_PAGE_SIZE


def test_the_command_line_reads_the_defaults() -> None:
    args = build_parser().parse_args(["aggregate", "1", "-o", "out.parquet"])
    assert args.max_attempts == _config.MAX_ATTEMPTS
    assert args.wait_timeout == _config.WAIT_TIMEOUT
    assert args.page_size == _config.SOLUTIONS_PAGE_SIZE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000", ("http://127.0.0.1:8000", False)),
        ("http://user:secret@host:1/api", ("http://host:1/api", True)),
        # urlsplit would end the authority at the "/" inside the password and keep "ss@"
        ("http://user:pa/ss@host:1/api", ("http://host:1/api", True)),
        ("https://u@h?q=a@b", ("https://h?q=a@b", True)),
        ("http://h/path?x=a@b", ("http://h/path?x=a@b", False)),
    ],
)
def test_credentials_leave_a_url_one_way(url: str, expected: tuple[str, bool]) -> None:
    assert without_userinfo(url) == expected
    assert "secret" not in display_url(url) and "ss@" not in display_url(url)


def test_reprs_and_commands_show_urls_without_credentials() -> None:
    import pandas as pd

    frame = pd.DataFrame({"task_id": ["t"]})
    frame.attrs["toloka"] = {"kind": "responses", "base_url": "http://u:pa/ss@h:1"}
    text = captions.provenance_summary(frame)
    assert "pa/ss" not in text and "ss@" not in text
    args = build_parser().parse_args(
        ["aggregate", "1", "-o", "out.parquet", "--url", "http://u:pa/ss@h:1"]
    )
    from pandas_toloka.cli._aggregate_hints import resume_command

    command = resume_command(args, "op-1")
    assert "--url http://h:1" in command and "ss@" not in command


def test_a_client_or_credentials_never_both() -> None:
    with ptk.Client("token", url="http://127.0.0.1:9") as client:
        assert open_client(client, token=None, environment=None, url=None) == (client, False)
        with client_scope(client, token=None, environment=None, url=None) as given:
            assert given is client
        with pytest.raises(InvalidArgumentError, match="not both"):
            open_client(client, token="t", environment=None, url=None)
    with pytest.raises(InvalidArgumentError, match="must be a pandas_toloka.Client"):
        open_client("not a client", token=None, environment=None, url=None)  # type: ignore[arg-type]
    made, owned = open_client(
        None, token="t", environment=None, url="http://127.0.0.1:9", max_attempts=2
    )
    with made:
        assert owned and made.retry.max_attempts == 2 and made.base_url == "http://127.0.0.1:9"
