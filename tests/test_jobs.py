"""The outbox worker: jobs run after commit, failures retry with backoff, periodic sweeps are queued when due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from market.core import jobs
from market.core.jobs import Job, enqueue, handler, run_pending, schedule_periodic
from market.extensions import db

CALLS: list[dict] = []


@handler("test.record")
def _record(**payload: object) -> None:
    CALLS.append(payload)


@handler("test.fail")
def _fail() -> None:
    raise ValueError("boom")


def test_a_rolled_back_job_never_runs():
    CALLS.clear()
    enqueue("test.record", n=1)
    db.session.rollback()
    assert run_pending() == 0
    assert CALLS == []


def test_committed_jobs_run_once():
    CALLS.clear()
    enqueue("test.record", n=2)
    db.session.commit()
    assert run_pending() == 1
    assert run_pending() == 0
    assert CALLS == [{"n": 2}]
    assert db.session.scalars(select(Job.status)).one() == "done"


def test_a_failing_job_is_retried_later_with_its_error_kept():
    enqueue("test.fail")
    db.session.commit()
    run_pending()
    job = db.session.scalars(select(Job)).one()
    assert (job.status, job.attempts) == ("queued", 1)
    assert "boom" in job.last_error
    assert run_pending() == 0  # backoff: not due yet


def test_periodic_jobs_are_queued_once_per_interval(monkeypatch):
    monkeypatch.setattr(jobs, "_PERIODIC", {"test.record": timedelta(hours=1)})
    assert schedule_periodic() == 1
    assert schedule_periodic() == 0  # queued a moment ago: not due again
    assert db.session.scalar(select(db.func.count(Job.id)).where(Job.kind == "test.record")) == 1
