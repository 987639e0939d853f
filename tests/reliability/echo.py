"""A server on 127.0.0.1 that echoes the request's Authorization header back, in every form.

It plays a misconfigured proxy or API that copies credentials into its error
answers: as JSON members (once with JSON ``\\u`` escapes), inside an HTML page,
percent-encoded, and in the ``X-Request-Id`` and ``Location`` headers.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("json", "html", "urlencoded", "redirect", "ok-wrong-shape")


class EchoServer:
    def __init__(self) -> None:
        self.mode = "json"
        echo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def _answer(self) -> None:
                header = self.headers.get("Authorization", "")
                secret = header.split(" ", 1)[-1]
                quoted = urllib.parse.quote(header, safe="")
                extra: dict[str, str] = {}
                status, kind = 400, "application/json"
                if echo.mode == "html":
                    body = f"<html><body>{'x' * 150}{header} {secret}</body></html>".encode()
                    status, kind = 502, "text/html"
                elif echo.mode == "urlencoded":
                    body = json.dumps(
                        {"code": "VALIDATION_ERROR", "message": f"bad ?auth={quoted}&s={secret}"}
                    ).encode()
                elif echo.mode == "redirect":
                    status, body = 302, b""
                    extra["Location"] = f"http://elsewhere.invalid/?token={quoted}"
                elif echo.mode == "ok-wrong-shape":
                    status, body = 200, json.dumps([header, {secret: secret}]).encode()
                else:
                    escaped = "".join(f"\\u{ord(c):04x}" for c in secret)
                    text = json.dumps(
                        {
                            "code": header,
                            "request_id": secret,
                            "message": "bad " + header,
                            "payload": {"header": header, "secret": secret},
                        }
                    )
                    body = text.replace('"bad ', '"bad ' + escaped + " ", 1).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("X-Request-Id", secret)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> EchoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
