"""gzip answers and the simulated network (latency, a shared bandwidth cap)."""

from __future__ import annotations

import gzip
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server._network import accepts_gzip

from .conftest import CAT_DOG, TOKEN, Api, cat_dog_responses
from .rawhttp import exchange

AUTH = {"Authorization": f"ApiKey {TOKEN}"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate", True),  # what requests sends
        ("GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("deflate, br", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("identity", False),
        ("x-gzip", True),
        ("gzip;q=oops", False),
        ("", False),
        (None, False),
    ],
)
def test_accepts_gzip(header, expected):
    assert accepts_gzip(header) is expected


def _big_page(server: LocalTolokaServer) -> str:
    api = Api(server)
    operation_id = api.run("7")
    return f"{server.url}/api/v1/aggregated-solutions/{operation_id}?sort=task_id&limit=1000"


@pytest.fixture
def big_pool_server():
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool("7", responses=cat_dog_responses(n_tasks=300), output_spec=CAT_DOG)
    with server:
        yield server


def test_gzip_when_asked_and_requests_decodes_it(big_pool_server):
    url = _big_page(big_pool_server)
    plain = requests.get(url, headers={**AUTH, "Accept-Encoding": "identity"}, timeout=10)
    zipped = requests.get(url, headers=AUTH, timeout=10)  # requests asks for gzip by default
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.json() == plain.json() and len(plain.json()["items"]) == 300
    assert int(zipped.headers["Content-Length"]) < len(plain.content) / 3


def test_gzip_body_on_the_wire_is_one_gzip_member(big_pool_server):
    path = _big_page(big_pool_server).removeprefix(big_pool_server.url)
    request = (
        f"GET {path} HTTP/1.1\r\nAccept-Encoding: gzip\r\nAuthorization: ApiKey {TOKEN}\r\n\r\n"
    )
    answer = exchange(big_pool_server.url, request.encode())
    assert answer.headers["content-encoding"] == "gzip"
    assert gzip.decompress(answer.body).startswith(b'{"items":[')


def test_small_answers_and_errors_stay_plain(big_pool_server):
    response = requests.get(big_pool_server.url + "/api/v1/pools/7", headers=AUTH, timeout=5)
    assert "Content-Encoding" not in response.headers  # under gzip_min_bytes


def test_gzip_can_be_switched_off():
    server = LocalTolokaServer(token=TOKEN, gzip=False)
    server.add_pool("7", responses=cat_dog_responses(n_tasks=300), output_spec=CAT_DOG)
    with server:
        response = requests.get(_big_page(server), headers=AUTH, timeout=10)
        assert "Content-Encoding" not in response.headers and "Vary" not in response.headers
        assert len(response.json()["items"]) == 300


def test_dropped_gzip_answer_is_still_an_incomplete_read(big_pool_server):
    url = _big_page(big_pool_server)
    big_pool_server.faults.add("drop", count=1, path="/api/v1/aggregated-solutions")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, headers=AUTH, timeout=10)


# Lower bounds only: the simulated network can only make answers slower, so these cannot
# fail on a busy machine; how fast the reader is over such a link is benchmarks/' job.


def test_latency_delays_every_answer():
    with LocalTolokaServer(token=TOKEN, latency=0.2) as server:
        session = requests.Session()
        start = time.monotonic()
        for _ in range(3):
            assert session.get(server.url + "/api/v1/pools", headers=AUTH, timeout=5).ok
        assert time.monotonic() - start >= 0.6


def test_bandwidth_caps_a_link_shared_by_connections():
    server = LocalTolokaServer(token=TOKEN, bandwidth=400_000, gzip=False)
    server.add_pool("7", responses=cat_dog_responses(n_tasks=1000), output_spec=CAT_DOG)
    with server:
        url = _big_page(server)
        start = time.monotonic()
        with ThreadPoolExecutor(2) as pool:  # two connections at once share the link
            sizes = list(
                pool.map(lambda _: len(requests.get(url, headers=AUTH, timeout=20).content), "ab")
            )
        assert time.monotonic() - start >= sum(sizes) / 400_000 * 0.95
