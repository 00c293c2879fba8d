"""Worker heartbeats: each ``jinshang worker`` process says "still alive" every few seconds.

``/readyz`` reads the newest beat: no worker seen recently means search indexing, mail and payouts are
stalled even though the web answers.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db

BEAT_EVERY_SECONDS = 5.0
_last = {"at": 0.0}


class WorkerHeartbeat(db.Model):
    """The latest sign of life of one worker process (``host:pid``)."""

    __tablename__ = "worker_heartbeat"

    worker: Mapped[str] = mapped_column(String(120), primary_key=True)
    beat_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


def beat(force: bool = False) -> None:
    """Record this process's heartbeat (at most every BEAT_EVERY_SECONDS). Commits its own transaction."""
    now = time.monotonic()
    if not force and now - _last["at"] < BEAT_EVERY_SECONDS:
        return
    _last["at"] = now
    name = f"{socket.gethostname()}:{os.getpid()}"[:120]
    try:
        row = db.session.get(WorkerHeartbeat, name)
        if row is None:
            db.session.add(WorkerHeartbeat(worker=name, beat_at=utcnow()))
        else:
            row.beat_at = utcnow()
        db.session.commit()
    finally:
        db.session.remove()


def latest_age() -> timedelta | None:
    """How long ago any worker last beat, or None if none ever did."""
    latest = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    return None if latest is None else utcnow() - latest
