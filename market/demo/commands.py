"""The demo commands: ``jinshang demo`` (schema, demo data, gunicorn + the worker) and ``load-demo``.

They live in the demo package, above every domain package, so the kernel imports none of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect

from market.config import PROJECT_ROOT
from market.extensions import db

DEMO_COMMANDS = ("demo", "load-demo")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(load_demo_command)


def upgrade_database() -> None:
    """Create or upgrade the schema with the Alembic migrations."""
    from flask_migrate import upgrade

    upgrade(directory=str(PROJECT_ROOT / "migrations"))


def database_is_empty() -> bool:
    from market.accounts.models import Company

    return "company" not in inspect(db.engine).get_table_names() or db.session.query(Company.id).first() is None


@click.command("load-demo")
@with_appcontext
def load_demo_command() -> None:
    """Upgrade the database and load the demo data if it is empty."""
    from market import demo

    upgrade_database()
    if database_is_empty():
        demo.load(echo=click.echo)
    else:
        click.echo("Database already has data; demo data not loaded.")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn web workers")
@with_appcontext
def demo_command(host: str, port: int, workers: int) -> None:
    """Create or upgrade the database, load demo data if empty, and serve with gunicorn + the worker."""
    from market import demo
    from market.core.jobs import run_pending

    base_url = os.environ.get("PUBLIC_BASE_URL") or f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"  # noqa: S104
    current_app.config["PUBLIC_BASE_URL"] = base_url  # links in the demo data's notifications too
    click.echo("1/3 database: upgrading schema ...")
    upgrade_database()
    if database_is_empty():
        click.echo("2/3 demo data: loading (first start only) ...")
        demo.load(echo=click.echo)
        click.echo("    indexing for search ...")
        while run_pending(limit=500):
            pass
    else:
        click.echo("2/3 demo data: already present")
    demo.print_logins(echo=click.echo)
    # End this process's transaction: on SQLite an open one holds the write lock the servers need.
    db.session.remove()

    env = {**os.environ, "JINSHANG_INSTANCE": current_app.instance_path, "JINSHANG_MODE": "demo",
           "PUBLIC_BASE_URL": base_url}
    # our own interpreter running our own modules: no untrusted input reaches these commands
    worker = subprocess.Popen([sys.executable, "-m", "market.cli", "worker"], env=env, cwd=PROJECT_ROOT)
    web = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--config", str(PROJECT_ROOT / "gunicorn.conf.py"),
         "--workers", str(workers), "--bind", f"{host}:{port}", "wsgi:app"],
        env=env,
        cwd=PROJECT_ROOT,
    )
    click.echo(f"3/3 serving on http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        while web.poll() is None and worker.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("\nstopping ...")
    finally:
        for proc in (web, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (web, worker):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
