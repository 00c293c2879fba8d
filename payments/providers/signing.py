"""HMAC-SHA256 webhook signatures for our own rails (sandbox, bank notifications).

Same construction as Stripe's: header ``t=<unix seconds>,v1=<hex hmac of "t." + body>``, checked in
constant time, with a freshness window so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

from payments.providers.base import WebhookRejected

TOLERANCE_SECONDS = 300


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(body: bytes, header: str | None, secret: str | Sequence[str], tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise :class:`WebhookRejected` unless ``header`` is a fresh, valid signature of ``body``.

    ``secret`` may be several (during a rotation the rail may still sign with the old one): any one matches.
    """
    candidates = [secret] if isinstance(secret, str) else list(secret)
    candidates = [c for c in candidates if c]
    if not header or not candidates:
        raise WebhookRejected("Missing signature.")
    try:
        parts = dict(item.strip().split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        raise WebhookRejected("Malformed signature header.") from None
    matches = [hmac.compare_digest(sign(body, c, timestamp).split("v1=", 1)[1], given) for c in candidates]
    if not any(matches):
        raise WebhookRejected("Bad signature.")
    if abs(time.time() - timestamp) > tolerance:
        raise WebhookRejected("Stale timestamp.")
