"""The kernel's commands: ``worker``, ``jobs``, ``backup``/``restore``, ``i18n-compile``.

Packages add their own in their ``init_app`` (``reindex``, ``ledger-check``; ``demo`` and ``load-demo`` in
:mod:`market.demo.commands`). The console script itself is :mod:`market.cli`, above the composition root.
"""

from __future__ import annotations

import contextlib
import signal

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from market.core.backup import backup_command, restore_command
from market.core.i18n import i18n_compile_command
from market.core.jobs_cli import jobs_command


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(i18n_compile_command)
    app.cli.add_command(jobs_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the due jobs once and exit.")
@click.option("--poll", default=0.3, show_default=True, help="Seconds between polls when idle.")
@with_appcontext
def worker_command(once: bool, poll: float) -> None:
    """Run background jobs (search indexing, notifications, payouts) until stopped."""
    from market.config import require_production_ready
    from market.core.heartbeat import beat
    from market.core.jobs import run_worker

    require_production_ready(current_app.config)
    stopping = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(flag=True))
    click.echo("worker: started" + (" (once)" if once else ""))
    with contextlib.suppress(KeyboardInterrupt):
        # ``stop`` is asked between rounds, with no transaction open: the place to say "still alive"
        run_worker(poll_seconds=poll, once=once, stop=lambda: beat() or stopping["flag"])
    click.echo("worker: stopped")
