"""``jinshang backup`` and ``jinshang restore``: the database and the uploaded files, in one folder.

SQLite is copied with its online backup API (consistent while the app runs); PostgreSQL with ``pg_dump
--format=custom`` and restored with ``pg_restore --clean``. Uploads are a gzip'd tar. The search index is
derived data: after a restore, ``jinshang reindex`` rebuilds it (Whoosh) — PostgreSQL search lives in the
database and comes back with it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from market.core.timeutil import utcnow
from market.extensions import db

MANIFEST = "manifest.json"


def _libpq_url() -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _sqlite_path() -> Path:
    return Path(make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database or "")


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise click.ClickException(f"{tool} is not installed (Debian: apt-get install postgresql-client).")
    return path


def backup_to(folder: Path) -> Path:
    """Write database + uploads into a new folder under ``folder``; returns it."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"jinshang-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    dialect = db.engine.dialect.name
    db.session.remove()
    if dialect == "sqlite":
        with sqlite3.connect(_sqlite_path()) as source, sqlite3.connect(target / "database.sqlite3") as copy:
            source.backup(copy)  # page by page, consistent while others write
        database = "database.sqlite3"
    elif dialect == "postgresql":
        # our own configured URL as an argument, no shell
        subprocess.run([_need("pg_dump"), "--format=custom", "--no-owner",  # noqa: S603
                        "--file", str(target / "database.dump"), _libpq_url()], check=True)
        database = "database.dump"
    else:
        raise click.ClickException(f"backup does not support {dialect}")
    uploads = Path(current_app.config["UPLOAD_DIR"])
    with tarfile.open(target / "uploads.tar.gz", "w:gz") as archive:
        if uploads.exists():
            archive.add(uploads, arcname="uploads")
    (target / MANIFEST).write_text(json.dumps({"created": stamp, "dialect": dialect, "database": database,
                                               "uploads": "uploads.tar.gz"}, indent=1))
    return target


def restore_from(source: Path) -> None:
    """Replace the database and the uploads with a backup made by :func:`backup_to`."""
    manifest = json.loads((source / MANIFEST).read_text())
    dialect = db.engine.dialect.name
    if manifest["dialect"] != dialect:
        raise click.ClickException(f"this backup is of a {manifest['dialect']} database, the app uses {dialect}")
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        with sqlite3.connect(source / manifest["database"]) as copy, sqlite3.connect(_sqlite_path()) as live:
            copy.backup(live)
    else:
        subprocess.run([_need("pg_restore"), "--clean", "--if-exists", "--no-owner",  # noqa: S603
                        "--single-transaction", "--dbname", _libpq_url(), str(source / manifest["database"])],
                       check=True)
    uploads = Path(current_app.config["UPLOAD_DIR"])
    if uploads.exists():
        shutil.rmtree(uploads)
    uploads.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / manifest["uploads"], "r:gz") as archive:
        members = [m for m in archive.getmembers() if m.name == "uploads" or m.name.startswith("uploads/")]
        archive.extractall(uploads.parent, members=members, filter="data")  # no links or paths out of the folder
        extracted = uploads.parent / "uploads"
        if extracted != uploads and extracted.exists():
            extracted.rename(uploads)


@click.command("backup")
@click.option("--to", "folder", default="backups", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write the backup into (a new sub-folder per backup).")
@with_appcontext
def backup_command(folder: str) -> None:
    """Back up the database and the uploaded files."""
    target = backup_to(Path(folder))
    click.echo(f"backup written to {target}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: str, yes: bool) -> None:
    """Replace the database and the uploaded files with a backup (stop the app and workers first)."""
    if not yes:
        click.confirm("This replaces the current database and uploads. Continue?", abort=True)
    restore_from(Path(source))
    click.echo("restored; now run `jinshang reindex` to rebuild the search index")
