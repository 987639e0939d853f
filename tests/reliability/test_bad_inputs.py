"""Bad input to every public function gets a clear typed error before any request is sent.

Each case runs against a live server with the right token and URL, so a
mistake that slipped through would show up in the server's request log.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

import pandas_toloka  # noqa: F401 - registers df.toloka
from pandas_toloka.client import Client
from pandas_toloka.errors import MissingTokenError, TolokaError
from pandas_toloka.reader import (
    iter_aggregated_solutions,
    open_aggregated_solutions,
    read_aggregated_solutions,
)
from pandas_toloka.responses import iter_responses, read_responses
from pandas_toloka.server import LocalTolokaServer

from .conftest import SPEC, TOKEN, label_responses

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def server() -> Iterator[LocalTolokaServer]:
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool("p", responses=label_responses(6), output_spec=SPEC)
    with server:
        yield server


READERS = {
    "read_aggregated_solutions": read_aggregated_solutions,
    # the lazy iterators check every argument at the call, before the first next()
    "iter_aggregated_solutions": iter_aggregated_solutions,
    "open_aggregated_solutions": open_aggregated_solutions,
}
RESPONSES = {
    "read_responses": read_responses,
    "iter_responses": iter_responses,
}

# Arguments every aggregation reader refuses: (id, positional pool_id, keyword arguments)
AGGREGATION_CASES: list[tuple[str, object, dict[str, Any]]] = [
    ("pool-empty", "", {}),
    ("pool-blank", "   ", {}),
    ("pool-float", 1.5, {}),
    ("pool-bool", True, {}),
    ("pool-list", ["p"], {}),
    ("no-pool", None, {}),
    ("operation-empty", None, {"operation_id": ""}),
    ("operation-float", None, {"operation_id": 2.5}),
    ("fields-int", "p", {"fields": 5}),
    ("fields-empty", "p", {"fields": []}),
    ("fields-not-text", "p", {"fields": [5]}),
    ("fields-twice", "p", {"fields": ["result", "result"]}),
    ("fields-dict", "p", {"fields": {"result": 1}}),
    ("type-unknown", "p", {"type": "BOGUS"}),
    ("type-int", "p", {"type": 5}),
    ("ds-two-fields", "p", {"fields": ["a", "b"]}),
    ("wdo-no-skill", "p", {"type": "WEIGHTED_DYNAMIC_OVERLAP"}),
    ("skill-float", "p", {"answer_weight_skill_id": 1.5, "type": "WEIGHTED_DYNAMIC_OVERLAP"}),
    ("wait-text", "p", {"wait_timeout": "10"}),
    ("wait-negative", "p", {"wait_timeout": -1}),
    ("wait-zero", "p", {"wait_timeout": 0}),
    ("wait-nan", "p", {"wait_timeout": math.nan}),
    ("wait-bool", "p", {"wait_timeout": True}),
    ("page-zero", "p", {"page_size": 0}),
    ("page-text", "p", {"page_size": "10"}),
    ("page-huge", "p", {"page_size": 10**6}),
    ("page-float", "p", {"page_size": 2.5}),
    ("client-text", "p", {"client": "str"}),
    ("client-int", "p", {"client": 5}),
    ("token-int", "p", {"token": 5}),
    ("token-space", "p", {"token": "to ken"}),
    ("token-scheme-only", "p", {"token": "OAuth "}),
    ("url-int", "p", {"url": 5}),
    ("url-ftp", "p", {"url": "ftp://127.0.0.1:1"}),
    ("url-query", "p", {"url": "http://127.0.0.1:1/?x=1"}),
    ("url-fragment", "p", {"url": "http://127.0.0.1:1/#f"}),
    ("url-userinfo", "p", {"url": "http://u:p@127.0.0.1:1"}),
    ("url-no-host", "p", {"url": "http://"}),
    ("url-bad-port", "p", {"url": "http://127.0.0.1:99999"}),
    ("environment-int", "p", {"environment": 5}),
    ("environment-unknown", "p", {"environment": "MARS"}),
    ("progress-text", "p", {"progress_bar": "no"}),
]
BACKEND_CASES = [("backend-numpy", "p", {"dtype_backend": "numpy"})]
RESPONSES_CASES: list[tuple[str, object, dict[str, Any]]] = [
    ("pool-empty", "", {}),
    ("pool-float", 1.5, {}),
    ("pool-none", None, {}),
    ("status-unknown", "p", {"status": "BOGUS"}),
    ("status-int", "p", {"status": 5}),
    ("status-empty", "p", {"status": []}),
    ("page-zero", "p", {"page_size": 0}),
    ("page-text", "p", {"page_size": "10"}),
    ("client-text", "p", {"client": "str"}),
    ("token-int", "p", {"token": 5}),
    ("url-int", "p", {"url": 5}),
    ("url-query", "p", {"url": "http://127.0.0.1:1/?x=1"}),
    ("backend-numpy", "p", {"dtype_backend": "numpy"}),
    ("progress-text", "p", {"progress_bar": "no"}),
]
CLIENT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("timeout-negative", {"timeout": -1}),
    ("timeout-zero", {"timeout": 0}),
    ("timeout-text", {"timeout": "10"}),
    ("timeout-one-tuple", {"timeout": (1.0,)}),
    ("timeout-pair-bad", {"timeout": (1.0, "x")}),
    ("attempts-zero", {"max_attempts": 0}),
    ("attempts-float", {"max_attempts": 1.5}),
    ("backoff-negative", {"backoff_base": -1}),
    ("backoff-max-below-base", {"backoff_base": 2, "backoff_max": 1}),
    ("backoff-nan", {"backoff_max": math.nan}),
    ("rate-limit-wait-negative", {"rate_limit_wait": -5}),
    ("max-wait-negative", {"max_wait": -1}),
    ("max-wait-nan", {"max_wait": math.nan}),
    ("pool-size-zero", {"pool_size": 0}),
    ("poll-min-zero", {"poll_min": 0}),
    ("poll-min-above-max", {"poll_min": 10, "poll_max": 1}),
    ("poll-max-text", {"poll_max": "5"}),
    ("token-int", {"token": 5}),
    ("url-int", {"url": 5}),
    ("url-userinfo", {"url": "http://u:p@127.0.0.1:1"}),
    ("environment-list", {"environment": ["SANDBOX"]}),
]


def _check_refused(server: LocalTolokaServer, call: Callable[[], object]) -> TolokaError:
    server.request_log.clear()
    with pytest.raises((TolokaError, TypeError, ValueError)) as info:
        call()
    error = info.value
    assert isinstance(error, TolokaError), f"not a TolokaError: {error!r}"
    assert isinstance(error, (ValueError, TypeError, MissingTokenError)), repr(error)
    assert len(str(error)) > 20, repr(error)
    assert server.request_log.requests_seen == 0, "a request was sent before the check"
    return error


def _credentials(server: LocalTolokaServer, kwargs: dict[str, Any]) -> dict[str, Any]:
    if {"client", "token", "url", "environment"} & set(kwargs):
        given = dict(kwargs)
        if "client" not in given:
            given.setdefault("token", TOKEN)
            if "environment" not in given:
                given.setdefault("url", server.url)
        return given
    return {**kwargs, "token": TOKEN, "url": server.url}


@pytest.mark.parametrize(
    ("reader", "pool_id", "kwargs"),
    [
        pytest.param(reader, p, k, id=f"{i}-{reader}")
        for i, p, k in AGGREGATION_CASES + BACKEND_CASES
        for reader in sorted(READERS)
        # open_aggregated_solutions streams Arrow: it takes no dtype_backend
        if not (reader == "open_aggregated_solutions" and "dtype_backend" in k)
    ],
)
def test_aggregation_readers_refuse_before_any_request(
    server: LocalTolokaServer, reader: str, pool_id: object, kwargs: dict[str, Any]
) -> None:
    function = READERS[reader]
    _check_refused(server, lambda: function(pool_id, **_credentials(server, kwargs)))


@pytest.mark.parametrize("reader", sorted(RESPONSES))
@pytest.mark.parametrize(
    ("pool_id", "kwargs"), [pytest.param(p, k, id=i) for i, p, k in RESPONSES_CASES]
)
def test_response_readers_refuse_before_any_request(
    server: LocalTolokaServer, reader: str, pool_id: object, kwargs: dict[str, Any]
) -> None:
    function = RESPONSES[reader]
    _check_refused(server, lambda: function(pool_id, **_credentials(server, kwargs)))


@pytest.mark.parametrize("kwargs", [pytest.param(k, id=i) for i, k in CLIENT_CASES])
def test_client_refuses_bad_settings(server: LocalTolokaServer, kwargs: dict[str, Any]) -> None:
    settings = {"token": TOKEN, "url": server.url, **kwargs}
    _check_refused(server, lambda: Client(**settings))


def _tasks() -> pd.DataFrame:
    return pd.DataFrame({"pool_id": ["p", "p"], "task_id": ["t0000", "t0001"]})


ACCESSOR_CASES: list[tuple[str, dict[str, Any]]] = [
    ("type-unknown", {"type": "BOGUS"}),
    ("strategy-unknown", {"strategy": "fastest"}),
    ("concurrency-zero", {"max_concurrency": 0}),
    ("fields-int", {"fields": 5}),
    ("client-text", {"client": "str"}),
    ("token-int", {"token": 5}),
    ("url-query", {"url": "http://127.0.0.1:1/?x"}),
    ("pool-float", {"pool_id": 1.5}),
    ("backend-numpy", {"dtype_backend": "numpy"}),
    ("task-column-missing", {"task": "nope"}),
    ("progress-text", {"progress_bar": 1}),
]


@pytest.mark.parametrize("kwargs", [pytest.param(k, id=i) for i, k in ACCESSOR_CASES])
def test_accessor_aggregate_refuses_before_any_request(
    server: LocalTolokaServer, kwargs: dict[str, Any]
) -> None:
    frame = _tasks()
    _check_refused(server, lambda: frame.toloka.aggregate(**_credentials(server, kwargs)))


def _responses() -> pd.DataFrame:
    frame = label_responses(4)
    return frame.assign(status="ACCEPTED", pool_id="p")


LOCAL_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("aggregate_locally", "type-unknown", {"type": "BOGUS"}),
    ("aggregate_locally", "status-unknown", {"status": "BOGUS"}),
    ("aggregate_locally", "status-int", {"status": 5}),
    ("aggregate_locally", "fields-int", {"fields": 5}),
    ("aggregate_locally", "backend-numpy", {"dtype_backend": "numpy"}),
    ("aggregate_locally", "task-column-missing", {"task": "nope"}),
    ("worker_quality", "status-unknown", {"status": "BOGUS"}),
    ("worker_quality", "field-int", {"field": 5}),
    ("worker_quality", "worker-column-missing", {"worker": "nope"}),
]


@pytest.mark.parametrize(
    ("method", "kwargs"), [pytest.param(m, k, id=f"{m}-{i}") for m, i, k in LOCAL_CASES]
)
def test_local_methods_refuse_bad_input(
    server: LocalTolokaServer, method: str, kwargs: dict[str, Any]
) -> None:
    frame = _responses()
    call = getattr(frame.toloka, method)
    _check_refused(server, lambda: call(output_spec=SPEC, **kwargs))


def test_ids_never_become_paths_of_their_own(server: LocalTolokaServer) -> None:
    """``../operations`` is one escaped id of the resource it was given for."""
    with Client(TOKEN, url=server.url, max_attempts=1) as client:
        for call in (
            lambda: read_aggregated_solutions("../operations", client=client),
            lambda: read_aggregated_solutions(operation_id="../../x", client=client),
            lambda: read_responses("../../operations", client=client),
            lambda: client.get_operation("a/../../pools/p"),
        ):
            server.request_log.clear()
            with pytest.raises(TolokaError):
                call()
            paths = [path for _, path in server.request_log.snapshot()]
            assert paths, "the id was escaped, then sent and answered (404)"
            for path in paths:
                segments = path.split("?")[0].split("/")
                assert ".." not in segments and len(segments) == 5, path  # /api/v1/<what>/<id>
        for bad in (".", "..", "a\nb", ""):
            server.request_log.clear()
            with pytest.raises(TolokaError):
                client.get_operation(bad)
            assert server.request_log.requests_seen == 0


def test_local_ids_are_normalized_once() -> None:
    frame = pd.DataFrame(
        {
            "task_id": ["1", 1, 1.0, "2", 2, 2],
            "worker_id": ["a", "b", "c", "a", "b", "c"],
            "result": ["cat", "cat", "dog", "dog", "dog", "dog"],
            "pool_id": [1001, "1001", 1001.0, 1001, "1001", 1001.0],
            "status": "ACCEPTED",
        }
    )
    result = frame.toloka.aggregate_locally(type="MAJORITY_VOTE", output_spec=SPEC)
    assert result["task_id"].tolist() == ["1", "2"]
    assert result["pool_id"].tolist() == ["1001", "1001"]
    assert result["result"].tolist() == ["cat", "dog"]
