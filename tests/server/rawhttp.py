"""A tiny raw-socket HTTP client for tests that need to send what ``requests`` will not."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(url: str, timeout: float = 10.0) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_answer(sock: socket.socket) -> RawAnswer:
    """Read one answer (status line, headers, ``Content-Length`` body) off ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole head: {data[:200]!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), lines[0]
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return RawAnswer(status, headers, rest[:length])


def exchange(url: str, data: bytes, timeout: float = 10.0) -> RawAnswer:
    """Send ``data`` on a new connection and read one answer."""
    with connect(url, timeout) as sock:
        sock.sendall(data)
        return read_answer(sock)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (reads EOF or a reset)."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
