"""Leases: a claimed job is held while its worker lives and comes back when the lease runs out.

Worker ids are passed explicitly so that one test can play two workers; the heartbeat test uses real
threads (a worker and a rival claiming every 50 ms) on both databases.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from market.core import audit, jobs
from market.core.audit import AuditLog
from market.core.jobs import Job, claim, enqueue, handler, run_claimed, run_pending
from market.core.mail import MemoryBackend, send_mail
from market.core.timeutil import utcnow
from market.extensions import db

CALLS: list[int] = []


@handler("test.effect")
def _effect(n: int) -> None:
    """A handler with a database effect (an audit row) that must commit with ``done`` or not at all."""
    CALLS.append(n)
    audit.record("test.effect", "job", str(n))


@handler("test.slow")
def _slow(seconds: float) -> None:
    time.sleep(seconds)
    CALLS.append(-1)


@handler("test.always_fails")
def _always_fails() -> None:
    raise RuntimeError("still broken")


def _expire_leases() -> None:
    db.session.execute(update(Job).where(Job.status == "running").values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def _effects() -> int:
    return db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "test.effect"))


def _job() -> Job:
    db.session.expire_all()
    return db.session.scalars(select(Job)).one()


def test_a_claim_holds_a_lease_that_keeps_other_workers_off():
    enqueue("test.effect", n=1)
    db.session.commit()
    (mine,) = claim(10, worker="A")
    job = _job()
    assert (job.status, job.claimed_by, job.attempts) == ("running", "A", 1)
    assert utcnow() < job.lease_until <= utcnow() + timedelta(seconds=jobs.lease_seconds())
    assert claim(10, worker="B") == []
    assert run_claimed(mine) is True
    assert (_job().status, _job().lease_until) == ("done", None)


def test_an_expired_lease_returns_the_job_to_the_queue():
    enqueue("test.effect", n=2)
    db.session.commit()
    claim(10, worker="A")  # ... and worker A is killed here
    _expire_leases()
    (again,) = claim(10, worker="B")
    assert (again.worker, again.attempts) == ("B", 2)
    assert run_claimed(again) is True
    assert (_job().status, _effects()) == ("done", 1)


def test_a_running_job_without_a_lease_predates_leases_and_is_claimed_again():
    job = enqueue("test.effect", n=3)
    job.status, job.attempts = "running", 1  # as the worker before leases left it after a SIGKILL
    db.session.commit()
    assert run_pending(worker="B") == 1
    assert (_job().status, _job().claimed_by, CALLS[-1]) == ("done", "B", 3)


def test_a_stale_worker_cannot_finish_and_its_effects_roll_back():
    enqueue("test.effect", n=4)
    db.session.commit()
    (stale,) = claim(10, worker="A")
    _expire_leases()  # A stalls past its lease (a long GC pause, a frozen VM)...
    (fresh,) = claim(10, worker="B")  # ... and B takes the job over
    assert run_claimed(stale) is False  # A wakes up and runs the handler: it may not mark the job done
    assert _effects() == 0  # and what it wrote is gone with it
    job = _job()
    assert (job.status, job.claimed_by) == ("running", "B")
    assert run_claimed(fresh) is True
    assert (_job().status, _effects()) == ("done", 1)


def test_a_stale_worker_failure_does_not_requeue_the_new_owners_job():
    enqueue("test.always_fails")
    db.session.commit()
    (stale,) = claim(10, worker="A")
    _expire_leases()
    claim(10, worker="B")
    assert run_claimed(stale) is False
    job = _job()
    assert (job.status, job.claimed_by, job.last_error) == ("running", "B", None)


def test_failures_back_off_exponentially_then_fail_for_good():
    enqueue("test.always_fails")
    db.session.commit()
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        before = utcnow()
        assert run_pending() == 1
        job = _job()
        assert job.attempts == attempt
        assert "still broken" in job.last_error
        if attempt < jobs.MAX_ATTEMPTS:
            assert job.status == "queued"
            delay = job.run_after - before
            assert timedelta(seconds=2**attempt) <= delay < timedelta(seconds=2**attempt + 5)
            assert run_pending() == 0  # not due yet
            db.session.execute(update(Job).values(run_after=utcnow()))
            db.session.commit()
    assert (_job().status, _job().finished_at is not None) == ("failed", True)
    assert run_pending() == 0


def test_a_job_that_keeps_killing_its_worker_fails_instead_of_being_claimed_again():
    job = enqueue("test.effect", n=5)
    job.status, job.attempts, job.claimed_by = "running", jobs.MAX_ATTEMPTS, "dead-worker"
    job.lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert claim(10, worker="B") == []
    job = _job()
    assert job.status == "failed"
    assert "lease expired" in job.last_error
    assert "dead-worker" in job.last_error


def test_mail_sent_before_a_crash_is_not_sent_again(app):
    MemoryBackend.outbox.clear()
    send_mail("buyer@example.com", "Order paid", "Your payment is in escrow.")
    db.session.commit()
    (first,) = claim(10, worker="A")
    jobs._HANDLERS["mail.send"](**first.payload)  # the message leaves ...
    db.session.rollback()  # ... and the worker dies before its commit
    _expire_leases()
    assert run_pending(worker="B") == 1
    assert [m.subject for m in MemoryBackend.outbox] == ["Order paid"]
    assert _job().status == "done"


def _run_with_rival(app, monkeypatch, *, heartbeat: bool) -> list:
    """Worker A runs a 2 s job under a 1 s lease (beats every third) while worker B tries to claim every 50 ms."""
    monkeypatch.setitem(app.config, "JOB_LEASE_SECONDS", 1.0)
    if not heartbeat:
        monkeypatch.setattr(jobs.Heartbeat, "beat", lambda self: 0)
    enqueue("test.slow", seconds=2.0)
    db.session.commit()
    stolen: list = []
    done = threading.Event()

    def rival() -> None:
        with app.app_context():
            while not done.is_set() and not stolen:
                stolen.extend(claim(1, worker="B"))
                time.sleep(0.05)
            db.session.remove()

    (held,) = claim(1, worker="A")  # A holds the job before B starts trying
    thread = threading.Thread(target=rival)
    thread.start()
    try:
        with jobs.Heartbeat(db.engine, "A", jobs.lease_seconds()):  # as run_pending does
            run_claimed(held)
    finally:
        done.set()
        thread.join()
    return stolen


def test_the_heartbeat_keeps_a_long_job_leased(app, monkeypatch):
    CALLS.clear()
    assert _run_with_rival(app, monkeypatch, heartbeat=True) == []
    assert (_job().status, _job().claimed_by, CALLS) == ("done", "A", [-1])


def test_without_a_heartbeat_the_same_job_is_taken_over(app, monkeypatch):
    """The control for the test above: it is the heartbeat, not luck, that keeps B away."""
    stolen = _run_with_rival(app, monkeypatch, heartbeat=False)
    assert [c.worker for c in stolen] == ["B"]
    job = _job()
    assert (job.status, job.claimed_by) == ("running", "B")  # A's finish was refused


@pytest.mark.parametrize("held", [True, False])
def test_the_heartbeat_extends_only_this_workers_running_jobs(held):
    enqueue("test.effect", n=6)
    enqueue("test.effect", n=7)
    db.session.commit()
    claim(1, worker="A")
    claim(1, worker="B" if held else "A")
    beat = jobs.Heartbeat(db.engine, "A", 300).beat()
    assert beat == (1 if held else 2)
    leases = db.session.scalars(select(Job.lease_until).where(Job.claimed_by == "A")).all()
    assert all(lease > utcnow() + timedelta(seconds=250) for lease in leases)
