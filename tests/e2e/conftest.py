"""Browser tests: gunicorn + the worker on 127.0.0.1 with demo data, driven by Debian's Chromium.

``TEST_DATABASE_URL`` on PostgreSQL: the server gets its own database (name + "_e2e"), dropped afterwards.
Screenshots go to tests/e2e/screenshots/ (git-ignored) so that a person can look at them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from market.config import PROJECT_ROOT
from tests.servers import marketplace

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

def _postgres_admin(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("+psycopg", ""), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of gunicorn serving the app with demo data, plus a running worker."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {**os.environ, "JINSHANG_INSTANCE": str(instance), "MAIL_BACKEND": "file", "SECRET_KEY": "e2e-secret",
           "JINSHANG_MODE": "demo",
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
    # the schema and demo data exactly as `jinshang load-demo` makes them
    subprocess.run([sys.executable, "-m", "market.cli", "load-demo"], env=env, cwd=PROJECT_ROOT,
                   check=True, timeout=300, stdout=subprocess.DEVNULL)
    log = (instance / "gunicorn.log").open("w")
    try:
        with marketplace(env, web_log=log, worker_log=log) as url:
            yield url
    finally:
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
