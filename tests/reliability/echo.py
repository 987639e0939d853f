"""A server on 127.0.0.1 that echoes the request's Authorization header back, in every form.

It plays a misconfigured proxy or API that copies credentials into its error
answers: as JSON members (once with JSON ``\\u`` escapes), inside an HTML page,
percent-encoded, and in the ``X-Request-Id`` and ``Location`` headers. It is
the tests' one fake server (tests/fakes.py) with an echoing answer.
"""

from __future__ import annotations

import json
import urllib.parse

from fakes import Answer, FakeServer, Request

MODES = ("json", "html", "urlencoded", "redirect", "ok-wrong-shape")


class EchoServer(FakeServer):
    """The echoing fake; set ``mode`` (one of :data:`MODES`) to pick the form."""

    def __init__(self) -> None:
        super().__init__(self._echo)
        self.mode = "json"

    def _echo(self, request: Request) -> Answer:
        header = request.headers.get("Authorization", "")
        secret = header.split(" ", 1)[-1]
        quoted = urllib.parse.quote(header, safe="")
        headers = {"Content-Type": "application/json", "X-Request-Id": secret}
        if self.mode == "html":
            body = f"<html><body>{'x' * 150}{header} {secret}</body></html>".encode()
            return Answer(502, body, {**headers, "Content-Type": "text/html"})
        if self.mode == "urlencoded":
            message = f"bad ?auth={quoted}&s={secret}"
            return Answer(
                400, json.dumps({"code": "VALIDATION_ERROR", "message": message}).encode(), headers
            )
        if self.mode == "redirect":
            return Answer(
                302, b"", {**headers, "Location": f"http://elsewhere.invalid/?token={quoted}"}
            )
        if self.mode == "ok-wrong-shape":
            return Answer(200, json.dumps([header, {secret: secret}]).encode(), headers)
        escaped = "".join(f"\\u{ord(c):04x}" for c in secret)
        text = json.dumps(
            {
                "code": header,
                "request_id": secret,
                "message": "bad " + header,
                "payload": {"header": header, "secret": secret},
            }
        )
        return Answer(400, text.replace('"bad ', '"bad ' + escaped + " ", 1).encode(), headers)
