"""The front doors every pool reader shares (``_read/doors.py``), through tasks and responses.

``iter_X`` checks its arguments at the call and asks nothing until iterated;
``open_X`` closes a client it built when the stream cannot be made, and never
one it was given; ``read_X`` is the stream's ``to_pandas()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka.client import Client
from pandas_toloka.errors import InvalidArgumentError, MissingTokenError, NotFoundError
from pandas_toloka.server import LocalTolokaServer

TOKEN = "doors-token"
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}

#: (read_X, iter_X, open_X) of each reader.
READERS = {
    "tasks": (ptk.read_tasks, ptk.iter_tasks, ptk.open_tasks),
    "responses": (ptk.read_responses, ptk.iter_responses, ptk.open_responses),
}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalTolokaServer]:
    ids = [f"t{i:03d}" for i in range(30)]
    responses = pd.DataFrame({"task_id": ids, "worker_id": "w1", "result": ["cat", "dog"] * 15})
    tasks = pd.DataFrame({"task_id": ids, "image": [f"https://x/{i}.png" for i in ids]})
    with LocalTolokaServer(token=TOKEN) as srv:
        srv.add_pool(
            "5",
            responses=responses,
            output_spec=SPEC,
            input_spec={"image": {"type": "URL"}},
            tasks=tasks,
        )
        yield srv


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[Client]:
    """The clients closed during the test."""
    closed: list[Client] = []
    original = Client.close

    def close(self: Client) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(Client, "close", close)
    return closed


@pytest.mark.parametrize("reader", sorted(READERS))
def test_iter_checks_at_the_call_and_asks_nothing_until_iterated(
    reader: str, server: LocalTolokaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    read, iterate, _ = READERS[reader]
    where: dict[str, Any] = {"url": server.url, "token": TOKEN, "progress_bar": False}
    other = Client(TOKEN, url=server.url)
    bad: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"pool_id": " "}, InvalidArgumentError, "pool_id"),
        ({"page_size": 0}, InvalidArgumentError, "page_size"),
        ({"dtype_backend": "numpy"}, InvalidArgumentError, "dtype_backend"),
        ({"progress_bar": "yes"}, InvalidArgumentError, "progress_bar"),
        ({"client": other}, InvalidArgumentError, "not both"),
        ({"token": None}, MissingTokenError, "token"),
    ]
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    server.request_log.clear()
    for change, error, match in bad:
        arguments = {"pool_id": "5", **where, **change}
        for function in (iterate, read):
            with pytest.raises(error, match=match):
                function(**arguments)
    other.close()
    assert server.request_log.snapshot() == []
    chunks = iterate("5", **where, page_size=7)
    assert server.request_log.snapshot() == []  # lazy: the stream opens on the first next()
    frame = pd.concat(list(chunks))
    pd.testing.assert_frame_equal(frame, read("5", **where))
    assert frame.attrs["toloka"] == read("5", **where).attrs["toloka"]
    assert len(frame) == 30


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("how", ["read", "iter", "open"])
def test_a_client_built_for_the_stream_is_closed_one_given_is_not(
    reader: str, how: str, server: LocalTolokaServer, closes: list[Client]
) -> None:
    function: Callable[..., Any] = READERS[reader][["read", "iter", "open"].index(how)]

    def run(**arguments: Any) -> None:
        result = function("404", progress_bar=False, **arguments)
        if how == "iter":
            next(result)

    with pytest.raises(NotFoundError):
        run(url=server.url, token=TOKEN)
    assert len(closes) == 1
    given = Client(TOKEN, url=server.url)
    with given, pytest.raises(NotFoundError):
        run(client=given)
    assert closes[1:] == [given]  # closed by the with block only
