"""Background jobs through an outbox table written in the same transaction as the change.

A rolled-back request never indexes or pays anything: its jobs roll back with it. ``jinshang worker``
claims due jobs (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; a conditional update on SQLite) and runs
the handler registered for the job's kind. Handlers must be idempotent: a crash between the handler's
effect and the job's commit runs it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db

log = logging.getLogger(__name__)

Handler = Callable[..., None]
_HANDLERS: dict[str, Handler] = {}
_PERIODIC: dict[str, timedelta] = {}
MAX_ATTEMPTS = 8
PERIODIC_CHECK_SECONDS = 60


class Job(db.Model):
    """A unit of work for the worker."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")  # queued|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    run_after = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (db.Index("ix_job_due", "status", "run_after"),)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(func: Handler) -> Handler:
        _HANDLERS[kind] = func
        return func

    return register


def every(interval: timedelta, kind: str) -> None:
    """Run the job ``kind`` (no payload) about once per ``interval``: the worker queues it when due.

    For sweeps that no event triggers (an unpaid order grows later every day). Two workers may both
    queue one; handlers are idempotent, so that costs a repeat, not a wrong result.
    """
    _PERIODIC[kind] = interval


def schedule_periodic() -> int:
    """Queue each periodic job whose latest run is older than its interval; returns how many were queued."""
    queued = 0
    now = utcnow()
    for kind, interval in _PERIODIC.items():
        latest = db.session.scalar(select(func.max(Job.created_at)).where(Job.kind == kind))
        if latest is None or latest <= now - interval:
            enqueue(kind)
            queued += 1
    db.session.commit()
    return queued


def enqueue(kind: str, *, delay: timedelta | None = None, **payload: Any) -> Job:
    """Add a job to the current transaction; it runs only if the transaction commits."""
    job = Job(kind=kind, payload=payload, run_after=utcnow() + (delay or timedelta()))
    db.session.add(job)
    db.session.flush()
    return job


def _claim(limit: int) -> list[Job]:
    now = utcnow()
    due = (
        select(Job)
        .where(Job.status == "queued", Job.run_after <= now)
        .order_by(Job.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        jobs = list(db.session.scalars(due.with_for_update(skip_locked=True)))
        for job in jobs:
            job.status = "running"
            job.attempts += 1
        db.session.commit()
        return jobs
    claimed = []
    for job_id in db.session.scalars(due.with_only_columns(Job.id)).all():
        result = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", attempts=Job.attempts + 1)
        )
        if result.rowcount == 1:
            claimed.append(job_id)
    db.session.commit()
    return [db.session.get(Job, job_id) for job_id in claimed]


def run_pending(limit: int = 100) -> int:
    """Run up to ``limit`` due jobs, each in its own transaction. Returns how many ran."""
    ran = 0
    for job in _claim(limit):
        job_id, kind, payload = job.id, job.kind, dict(job.payload)
        func = _HANDLERS.get(kind)
        try:
            if func is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            func(**payload)
            finished = db.session.get(Job, job_id)
            finished.status, finished.finished_at = "done", utcnow()
            db.session.commit()
        except Exception as exc:  # a failing job must not stop the worker
            db.session.rollback()
            log.exception("job %s (%s) failed", job_id, kind)
            failed = db.session.get(Job, job_id)
            failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if failed.attempts >= MAX_ATTEMPTS:
                failed.status = "failed"
            else:
                failed.status = "queued"
                failed.run_after = utcnow() + timedelta(seconds=2**failed.attempts)
            db.session.commit()
        ran += 1
    return ran


def run_worker(*, poll_seconds: float = 0.3, once: bool = False, stop: Callable[[], bool] | None = None) -> None:
    """Poll for due jobs until stopped. Must run inside an app context."""
    next_periodic = 0.0
    while True:
        if time.monotonic() >= next_periodic:
            schedule_periodic()
            next_periodic = time.monotonic() + PERIODIC_CHECK_SECONDS
        ran = run_pending()
        db.session.remove()
        if once or (stop and stop()):
            return
        if not ran:
            time.sleep(poll_seconds)
