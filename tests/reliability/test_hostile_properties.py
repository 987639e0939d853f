"""Property: any hostile page -- any size, depth, encoding, cut, NaN or wrong type -- gives exact rows or a typed error.

Hypothesis builds the hostile answer; a fake server (tests/fakes.py) sends it in place
of one page of a small operation's results, once or on every attempt, and the reader
must return exactly the fault-free frame or raise a ``TolokaError``: never another
exception, never other rows. Time and memory are bounded by the client's own bounds
(``deadline=``, ``max_attempts=``, ``max_answer_bytes=`` far below what a bomb inflates to).
"""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from fakes import Answer, Request, json_answer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pandas_toloka import read_aggregated_solutions
from pandas_toloka.client import Client
from pandas_toloka.errors import TolokaError

pytestmark = pytest.mark.reliability

SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
ITEMS = [
    {
        "pool_id": "7",
        "task_id": f"t{n:02d}",
        "confidence": 0.5 + n / 40,
        "output_values": {"result": "cat" if n % 3 else "dog"},
    }
    for n in range(9)
]
PAGE = 4  # three pages
CAP = 256 << 10  # max_answer_bytes of the client under test
ROUTES: dict[str, Any] = {
    "/api/v1/pools/7": {"id": "7", "project_id": "70"},
    "/api/v1/projects/70": {"id": "70", "task_spec": {"output_spec": SPEC}},
    "/api/v1/operations/op-1": {
        "id": "op-1",
        "type": "SOLUTION.AGGREGATE",
        "status": "SUCCESS",
        "submitted": "2023-04-13T16:39:12.422",
        "parameters": {"pool_id": "7", "aggregated_output_fields": ["result"]},
        "details": {},
    },
}


def _page(after: str | None, limit: int) -> bytes:
    rest = [item for item in ITEMS if after is None or item["task_id"] > after]
    page = {"items": rest[:limit], "has_more": len(rest) > limit}
    return json.dumps(page, separators=(",", ":")).encode()


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _nan(constant: bytes) -> Any:
    return lambda body: (body.replace(b'"confidence":0.', b'"confidence":' + constant, 1), {})


def _wrong(key: str, value: Any) -> Any:
    def spoil(body: bytes) -> tuple[bytes, dict[str, str]]:
        page = json.loads(body)
        page[key] = value
        return json.dumps(page).encode(), {}

    return spoil


# One hostile answer: (body, headers), built from the good page's bytes.
def _hostile() -> st.SearchStrategy[Any]:
    def cut(at: float) -> Any:
        return lambda body: (body[: int(len(body) * at)], {})

    def deep(depth: int, where: str) -> Any:
        if where == "item":
            return lambda body: (body.replace(b'"cat"', _deep(depth), 1), {})
        return lambda body: (body[:-1] + b',"x":' + _deep(depth) + b"}", {})

    def padded(size: int, encode: bool) -> Any:
        def spoil(body: bytes) -> tuple[bytes, dict[str, str]]:
            whole = body[:-1] + b"," + b'"pad":"' + b"x" * size + b'"}'
            if encode:
                return gzip.compress(whole, 1), {"Content-Encoding": "gzip"}
            return whole, {}

        return spoil

    def gzipped(cut_at: float | None) -> Any:
        def spoil(body: bytes) -> tuple[bytes, dict[str, str]]:
            packed = gzip.compress(body)
            if cut_at is not None:
                packed = packed[: int(len(packed) * cut_at)]
            return packed, {"Content-Encoding": "gzip"}

        return spoil

    def bad_bytes(raw: bytes) -> Any:
        return lambda body: (body.replace(b'"t0', b'"' + raw + b"t0", 1), {})

    fraction = st.floats(0.0, 0.999)
    return st.one_of(
        st.builds(cut, fraction),
        st.builds(_nan, st.sampled_from([b"NaN", b"Infinity", b"-Infinity"])),
        st.builds(deep, st.integers(1, 20_000), st.sampled_from(["item", "member"])),
        st.builds(
            _wrong,
            st.sampled_from(["items", "has_more"]),
            st.sampled_from([None, 5, "x", {}, [1], [None], True, 1.5]),
        ),
        st.builds(padded, st.integers(0, 2 * CAP), st.booleans()),
        st.builds(gzipped, st.none() | fraction),
        st.builds(bad_bytes, st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\\ud800"])),
    )


class _Script:
    """The fake server's state for one example: which page is spoiled, how, how often."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spoil: Any = None
        self.page = 0
        self.hits = 0

    def answer(self, request: Request) -> Answer:
        if request.path in ROUTES:
            return json_answer(200, ROUTES[request.path])
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.target).query).items()}
        after = query.get("task_id_gt")
        body = _page(after, int(query.get("limit", PAGE)))
        index = 0 if after is None else sum(item["task_id"] <= after for item in ITEMS) // PAGE
        with self.lock:
            if self.spoil is not None and index == self.page and self.hits > 0:
                self.hits -= 1
                spoiled, headers = self.spoil(body)
                return Answer(200, spoiled, {"Content-Type": "application/json", **headers})
        return Answer(200, body, {"Content-Type": "application/json"})


def _read(url: str) -> pd.DataFrame:
    with Client(
        "t",
        url=url,
        max_attempts=2,
        backoff_base=0.001,
        backoff_max=0.002,
        timeout=(2.0, 2.0),
        deadline=3.0,
        max_answer_bytes=CAP,
    ) as client:
        return read_aggregated_solutions(
            "7", operation_id="op-1", client=client, page_size=PAGE, progress_bar=False
        )


def test_any_hostile_page_gives_exact_rows_or_a_typed_error(fake_server: Any) -> None:
    script = _Script()
    server = fake_server(script.answer)
    expected = _read(server.url)
    assert len(expected) == len(ITEMS)

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(spoil=_hostile(), page=st.integers(0, 2), hits=st.sampled_from([1, 2]))
    @example(spoil=_wrong("items", None), page=2, hits=2)  # rows lost silently, once
    @example(spoil=_nan(b"NaN"), page=0, hits=2)  # a NaN confidence in the frame, once
    def check(spoil: Any, page: int, hits: int) -> None:
        with script.lock:
            script.spoil, script.page, script.hits = spoil, page, hits
        try:
            frame = _read(server.url)
        except TolokaError:
            return  # a typed error (the retries ran out, or the answer was final)
        pd.testing.assert_frame_equal(frame, expected)

    check()
