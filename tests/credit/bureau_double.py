"""A test double of a credit bureau: a real HTTP server on 127.0.0.1 speaking the adapter's wire format.

Each test scripts its answers as a list of behaviours, consumed one per request (the last repeats):
``("json", status, body)``, ``("raw", status, bytes)``, ``("sleep", seconds)`` then answer 200 late,
or ``("close",)`` to drop the connection without an answer.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class BureauDouble:
    def __init__(self) -> None:
        self.script: list[tuple[Any, ...]] = []
        self.requests: list[dict[str, str]] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                double.requests.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
                step = double.script.pop(0) if len(double.script) > 1 else double.script[0]
                kind = step[0]
                if kind == "close":
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind == "sleep":
                    time.sleep(step[1])
                    status, body = 200, json.dumps(step[2]).encode() if len(step) > 2 else b"{}"
                elif kind == "json":
                    status, body = step[1], json.dumps(step[2]).encode()
                else:
                    status, body = step[1], step[2]
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): expected in those tests

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> BureauDouble:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def report_body(uscc: str, score: int | None = 72, **extra: Any) -> dict[str, Any]:
    body = {"uscc": uscc, "score": score, "as_of": "2026-02-27T09:00:00+08:00",
            "factors": [{"code": "court_records", "label": "Court records", "weight": 20, "points": 18,
                         "explanation": "No enforcement cases in the last five years."}]}
    body.update(extra)
    return body
