"""``jinshang jobs``: stuck and failed jobs listed with what an operator needs; ``retry`` requeues one."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from market.core.jobs import Job, enqueue
from market.core.jobs_cli import age
from market.core.timeutil import utcnow
from market.extensions import db


def _jobs(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["jobs", *args])


def _seed() -> tuple[Job, Job, Job, Job]:
    now = utcnow()
    dead = enqueue("mail.send", to="a@example.com", subject="s", body="b")
    dead.status, dead.attempts, dead.claimed_by = "running", 1, "host:4242:abcd"
    dead.claimed_at, dead.lease_until = now - timedelta(minutes=7), now - timedelta(minutes=6)
    dead.created_at = now - timedelta(minutes=7, seconds=3)
    slow = enqueue("credit.recompute", company_id=1)
    slow.status, slow.attempts, slow.claimed_by = "running", 1, "host:77:ef01"
    slow.claimed_at, slow.lease_until = now - timedelta(hours=2), now + timedelta(seconds=50)
    broken = enqueue("search.index_listing", listing_id=9)
    broken.status, broken.attempts, broken.last_error = "failed", 8, "OperationalError: disk full\ntraceback..."
    healthy = enqueue("orders.close", order_id=1)
    db.session.commit()
    return dead, slow, broken, healthy


def test_lists_stuck_and_failed_jobs_with_kind_attempts_error_and_age(app):
    dead, slow, broken, healthy = _seed()
    result = _jobs(app)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "jobs: 1 queued, 2 running, 0 done, 1 failed" in out
    assert "stuck (lease expired, or running over 15m00s): 2" in out
    dead_line = next(line for line in out.splitlines() if line.strip().startswith(str(dead.id)))
    assert "mail.send" in dead_line
    assert "host:4242:abcd" in dead_line
    assert re.search(r" 7m0\ds  .*lease expired 6m0\ds ago", dead_line), dead_line
    slow_line = next(line for line in out.splitlines() if line.strip().startswith(str(slow.id)))
    assert re.search(r"running 2h0[01]m", slow_line)
    assert "lease held" in slow_line
    assert "failed (gave up after 8 attempts): 1" in out
    broken_line = next(line for line in out.splitlines() if line.strip().startswith(str(broken.id)))
    assert "search.index_listing" in broken_line
    assert "OperationalError: disk full" in broken_line
    assert "traceback" not in out
    assert not any(line.strip().startswith(f"{healthy.id} ") for line in out.splitlines())


def test_a_shorter_stuck_limit_and_a_clean_queue(app):
    assert "nothing stuck or failed." in _jobs(app).output
    job = enqueue("orders.close", order_id=1)
    job.status, job.claimed_at, job.lease_until = "running", utcnow() - timedelta(seconds=90), utcnow() + timedelta(60)
    db.session.commit()
    assert "stuck (lease expired, or running over 15m00s): 0" in _jobs(app).output
    assert "stuck (lease expired, or running over 1m00s): 1" in _jobs(app, "--stuck-after", "60").output


def test_retry_requeues_a_failed_job_with_fresh_attempts(app):
    _dead, _slow, broken, _healthy = _seed()
    result = _jobs(app, "retry", str(broken.id))
    assert result.exit_code == 0, result.output
    assert f"job {broken.id} (search.index_listing) requeued" in result.output
    db.session.expire_all()
    job = db.session.get(Job, broken.id)
    assert (job.status, job.attempts) == ("queued", 0)
    assert job.run_after <= utcnow()


def test_retry_refuses_jobs_that_did_not_fail(app):
    dead, _slow, _broken, healthy = _seed()
    for job_id in (dead.id, healthy.id):
        result = _jobs(app, "retry", str(job_id))
        assert result.exit_code == 1
        assert "Only failed jobs can be retried." in result.output
    assert "No such job." in _jobs(app, "retry", "999999").output
    assert db.session.scalars(select(Job.status).where(Job.id == dead.id)).one() == "running"


def test_age_reads_at_a_glance():
    now = utcnow()
    assert [age(now - timedelta(seconds=s), now) for s in (9, 432, 7500, 3 * 86400 + 4 * 3600)] == [
        "9s", "7m12s", "2h05m", "3d4h"]
    assert age(None, now) == "-"
