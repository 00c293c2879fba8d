"""Browser tests: gunicorn + the worker on 127.0.0.1 with demo data, driven by Debian's Chromium.

``TEST_DATABASE_URL`` on PostgreSQL: the server gets its own database (name + "_e2e"), dropped afterwards.
Screenshots go to tests/e2e/screenshots/ (git-ignored) so that a person can look at them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from market.config import PROJECT_ROOT

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

PREPARE = """
from pathlib import Path
from market.app import create_app
from market.config import PROJECT_ROOT
from market.core import commands
from market.extensions import db
from market import demo

app = create_app()
with app.app_context():
    if any((PROJECT_ROOT / "migrations" / "versions").glob("*.py")):
        commands.upgrade_database()
    else:
        db.create_all()
    if commands.database_is_empty():
        demo.load(echo=print)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_admin(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("+psycopg", ""), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(statement)


def _wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up within {seconds} s")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of gunicorn serving the app with demo data, plus a running worker."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {**os.environ, "JINSHANG_INSTANCE": str(instance), "MAIL_BACKEND": "file", "SECRET_KEY": "e2e-secret",
           "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    database_url = os.environ.get("TEST_DATABASE_URL", "")
    e2e_db = ""
    if database_url.startswith(("postgres://", "postgresql")):
        parts = urlsplit(database_url)
        e2e_db = parts.path.lstrip("/") + "_e2e"
        _postgres_admin(database_url, f'DROP DATABASE IF EXISTS "{e2e_db}"')
        _postgres_admin(database_url, f'CREATE DATABASE "{e2e_db}"')
        env["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, "/" + e2e_db, parts.query, ""))
    subprocess.run([sys.executable, "-c", PREPARE], env=env, cwd=PROJECT_ROOT, check=True, timeout=300)
    port = _free_port()
    log = (instance / "gunicorn.log").open("w")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                           env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    worker = subprocess.Popen([sys.executable, "-m", "market.core.commands", "worker"], env=env, cwd=PROJECT_ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, web)
        yield url
    finally:
        for proc in (web, worker):
            proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        if e2e_db:
            _postgres_admin(database_url, f'DROP DATABASE IF EXISTS "{e2e_db}" WITH (FORCE)')


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright. Missing Chromium is a failure, not a skip."""
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is not installed: `apt-get install chromium` (.ci/run does this) to run the e2e tests")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture(scope="session")
def shot() -> object:
    """``shot(page, name)`` saves a full-page screenshot for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> None:  # type: ignore[no-untyped-def]
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}
