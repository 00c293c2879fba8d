"""Logging: one JSON object per line (``LOG_FORMAT=json``, the default) carrying the request id.

The request id is set by :mod:`market.core.web` and sent back as ``X-Request-ID``, so a user's report
("request 3f2a…") finds its log lines; behind a trusted proxy the proxy's id is reused.
"""

from __future__ import annotations

import logging

from flask import g, has_app_context, has_request_context, request
from pythonjsonlogger.json import JsonFormatter


class RequestContext(logging.Filter):
    """Adds ``request_id``, ``method``, ``path`` and ``remote_addr`` to records logged inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "") if has_app_context() else ""
            record.method, record.path, record.remote_addr = request.method, request.path, request.remote_addr
        else:
            record.request_id = record.method = record.path = record.remote_addr = ""
        return True


def configure(log_format: str = "json", level: int = logging.INFO) -> None:
    """Configure the root logger once per process (gunicorn workers, the job worker, CLI)."""
    root = logging.getLogger()
    if getattr(root, "_jinshang_configured", None) == log_format:
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestContext())
    if log_format == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(method)s %(path)s %(remote_addr)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    root._jinshang_configured = log_format  # type: ignore[attr-defined]
