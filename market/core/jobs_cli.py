"""``jinshang jobs``: what the worker is stuck on or gave up on, and ``jinshang jobs retry ID``.

Operators' English only (a console tool, like ``ledger-check``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from market.core import jobs
from market.core.errors import DomainError
from market.core.timeutil import utcnow
from market.extensions import db


def age(since: datetime | None, now: datetime) -> str:
    """``3d4h``, ``2h05m``, ``7m12s``, ``9s``: how long ago, to the two largest units."""
    if since is None:
        return "-"
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _table(rows: list[jobs.Job], now: datetime, *, running: bool) -> None:
    click.echo(f"  {'id':>8}  {'kind':<28} {'tries':>5}  {'age':>7}  {'detail'}")
    for job in rows:
        if running:
            expired = job.lease_until is None or job.lease_until < now
            detail = (f"worker {job.claimed_by or '?'}, running {age(job.claimed_at, now)}, "
                      + ("lease expired " + age(job.lease_until, now) + " ago" if expired else "lease held"))
            if job.last_error:
                detail += f"; last error: {job.last_error.splitlines()[0][:100]}"
        else:
            detail = (job.last_error or "").splitlines()[0][:140] if job.last_error else "(no error recorded)"
        click.echo(f"  {job.id:>8}  {job.kind[:28]:<28} {job.attempts:>5}  {age(job.created_at, now):>7}  {detail}")


@click.group("jobs", invoke_without_command=True)
@click.option("--stuck-after", type=float, default=None,
              help="Seconds a job may run before it counts as stuck [JOB_STUCK_SECONDS, 900].")
@click.pass_context
@with_appcontext
def jobs_command(ctx: click.Context, stuck_after: float | None) -> None:
    """List stuck jobs (lease expired, or running too long) and failed jobs."""
    if ctx.invoked_subcommand is not None:
        return
    now = utcnow()
    limit = stuck_after if stuck_after is not None else float(current_app.config.get("JOB_STUCK_SECONDS", 900))
    counts = dict(db.session.execute(select(jobs.Job.status, func.count(jobs.Job.id)).group_by(jobs.Job.status)).all())
    click.echo("jobs: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("queued", "running", "done", "failed")))
    stuck = jobs.stuck_jobs(running_too_long=timedelta(seconds=limit), now=now)
    failed = jobs.failed_jobs()
    click.echo(f"stuck (lease expired, or running over {age(now - timedelta(seconds=limit), now)}): {len(stuck)}")
    if stuck:
        _table(stuck, now, running=True)
        click.echo("  A job whose lease expired goes back to the queue when a worker polls: "
                   "is `jinshang worker` running?")
    click.echo(f"failed (gave up after {jobs.MAX_ATTEMPTS} attempts): {len(failed)}")
    if failed:
        _table(failed, now, running=False)
        click.echo("  Fix the cause, then: jinshang jobs retry ID")
    if not stuck and not failed:
        click.echo("nothing stuck or failed.")


@jobs_command.command("retry")
@click.argument("job_id", type=int)
@with_appcontext
def retry_command(job_id: int) -> None:
    """Requeue the failed job JOB_ID with a fresh set of attempts."""
    try:
        job = jobs.retry(job_id)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"job {job_id}: {exc.message}") from exc
    db.session.commit()
    click.echo(f"job {job.id} ({job.kind}) requeued; the worker runs it on its next poll.")
