"""Pages are built and sent piece by piece: the same bytes as a page built whole, whatever
the order, the encoding and the faults, while the server holds one piece at a time."""

from __future__ import annotations

import gzip
import json
import tracemalloc

import pytest
import requests

from pandas_toloka.server import LocalTolokaServer, _fastjson

from .conftest import CAT_DOG, TOKEN, Api, cat_dog_responses
from .rawhttp import connect

AUTH = {"Authorization": f"ApiKey {TOKEN}"}
N_TASKS = 3000
MB = 1 << 20


@pytest.fixture(scope="module")
def served():
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool("7", responses=cat_dog_responses(n_tasks=N_TASKS), output_spec=CAT_DOG)
    with server:
        api = Api(server)
        operation = api.run("7")
        yield server, f"{server.url}/api/v1/aggregated-solutions/{operation}"
        api.session.close()


def _page(url: str, sort: str | None, **headers: str) -> requests.Response:
    params = {"limit": 100_000, **({"sort": sort} if sort else {})}
    return requests.get(url, params=params, headers={**AUTH, **headers}, timeout=10)


@pytest.mark.parametrize("sort", ["task_id", "-task_id", None])
def test_pages_in_pieces_equal_pages_built_whole(served, monkeypatch, sort):
    _, url = served
    whole = _page(url, sort, **{"Accept-Encoding": "identity"})
    assert "Transfer-Encoding" not in whole.headers  # about 300 KB: one piece by default
    monkeypatch.setattr(_fastjson, "PIECE_BYTES", 4096)
    plain = _page(url, sort, **{"Accept-Encoding": "identity"})
    assert plain.headers["Content-Length"] == str(len(plain.content))
    assert plain.content == whole.content
    zipped = _page(url, sort)  # gzipped piece by piece, in chunks: no length known up front
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in zipped.headers
    assert zipped.content == whole.content
    assert len(json.loads(whole.content)["items"]) == N_TASKS


def test_a_chunked_gzip_page_is_one_gzip_member_on_the_wire(served, monkeypatch):
    server, url = served
    monkeypatch.setattr(_fastjson, "PIECE_BYTES", 4096)
    path = url.removeprefix(server.url) + "?limit=100000&sort=task_id"
    with connect(server.url) as sock:
        request = f"GET {path} HTTP/1.1\r\nAccept-Encoding: gzip\r\n"
        sock.sendall(
            f"{request}Authorization: ApiKey {TOKEN}\r\nConnection: close\r\n\r\n".encode()
        )
        raw = b""
        while data := sock.recv(65536):
            raw += data
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    body = b""
    while True:  # undo the chunked coding by hand
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        body, rest = body + rest[:size], rest[size + 2 :]
    assert json.loads(gzip.decompress(body))["has_more"] is False


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_dropped_page_in_pieces_is_an_incomplete_read(served, monkeypatch, encoding):
    server, url = served
    monkeypatch.setattr(_fastjson, "PIECE_BYTES", 4096)
    server.faults.add("drop", count=1, path="/api/v1/aggregated-solutions")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _page(url, "task_id", **{"Accept-Encoding": encoding})
    assert _page(url, "task_id").ok  # the next one is whole


def test_answering_a_page_holds_about_one_piece(served, monkeypatch):
    server, url = served
    monkeypatch.setattr(_fastjson, "PIECE_BYTES", 16 * 1024)
    path = url.removeprefix(server.url) + "?limit=100000"
    tracemalloc.start()
    try:
        with connect(server.url) as sock:  # read raw and drop: the client holds nothing
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nAuthorization: ApiKey {TOKEN}\r\n"
                "Accept-Encoding: identity\r\nConnection: close\r\n\r\n".encode()
            )
            received = 0
            while data := sock.recv(16 * 1024):
                received += len(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # A page built whole held it about three times over (Python strings, the joined
    # text, its bytes): ~0.8 MB here; in pieces, a few pieces and the row positions.
    assert received > 240_000
    assert peak < 200_000, peak
