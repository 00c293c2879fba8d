"""Done-when of issue 3: with 5 gunicorn workers and the worker, concurrent edits saved through one web
worker are searchable through another within 2 s, and no LockError (or any 5xx) ever reaches a user.

Real processes: gunicorn serves ``wsgi:app`` on the test database, ``jinshang worker`` writes the
Whoosh index, the web workers only read and refresh it.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from catalog.services import request_reindex
from market.extensions import db
from tests.factories import PASSWORD, make_company, make_listing, make_member
from tests.servers import marketplace

WEB_WORKERS = 5
EDITORS = 5
EDITS_EACH = 3
VISIBLE_WITHIN = 2.0
FORM = {"title_zh": "", "title_en": "Datong thermal coal", "unit": "t", "unit_price": "780.00",
        "min_order_quantity": "100", "available_quantity": "5000", "origin_region_code": "140213",
        "delivery_terms": "rail_station", "lead_time_days": "5", "specs.qnet_ar": "5500", "specs.st_d": "0.8",
        "specs.size": "0-13"}


def csrf_token(session: requests.Session, url: str) -> str:
    """The real site checks CSRF: read the token from the page's meta tag, as the browser would."""
    html = session.get(url, timeout=10).text
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def wait_until(check, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture
def stack(app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """gunicorn with 5 workers + the job worker, on the test database and a fresh index directory."""
    env = {**os.environ, "JINSHANG_INSTANCE": str(tmp_path), "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SEARCH_INDEX_DIR": str(tmp_path / "index"), "SEARCH_BACKEND": "whoosh", "SECRET_KEY": "multiworker",
           "JINSHANG_MODE": "test",
           "MAIL_BACKEND": "memory", "LOGIN_RATE_LIMIT": "1000 per minute", "JINSHANG_EXPOSE_WORKER_PID": "1",
           "PYTHONUNBUFFERED": "1"}
    logs = {name: (tmp_path / f"{name}.log").open("w+") for name in ("web", "worker")}
    try:
        with marketplace(env, web_log=logs["web"], worker_log=logs["worker"], web_workers=WEB_WORKERS,
                         gunicorn_args=["--preload", "--timeout", "60"], worker_args=["--poll", "0.1"]) as base:
            yield base, logs
    finally:
        for handle in logs.values():
            handle.close()


def test_edits_through_one_worker_are_found_through_another(app, stack) -> None:  # type: ignore[no-untyped-def]
    seller = make_company("大同云冈测试煤业有限公司")
    users = [make_member(seller, email=f"editor{n}@example.cn") for n in range(EDITORS)]
    emails = [u.email for u in users]
    listing_ids = [make_listing(seller, title_zh=f"初始动力煤 {n}").id for n in range(EDITORS)]
    for listing_id in listing_ids:
        request_reindex(listing_id)
    db.session.commit()
    base, logs = stack

    # Warm every web worker (jieba's dictionary loads on a process's first query) and wait for indexing.
    seen: set[str] = set()

    def warmed() -> bool:
        response = requests.get(f"{base}/api/v1/search", params={"q": "初始动力煤"}, timeout=5)
        seen.add(response.headers.get("X-Worker-Pid", ""))
        return len(seen - {""}) >= WEB_WORKERS and response.json()["total"] == EDITORS

    assert wait_until(warmed, 30), f"workers seen {seen}"

    failures: list[str] = []
    delays: list[float] = []
    statuses: list[int] = []

    def editor(n: int) -> None:
        session = requests.Session()
        login = session.post(f"{base}/login", data={"identifier": emails[n], "password": PASSWORD,
                                                     "csrf_token": csrf_token(session, f"{base}/login")},
                             allow_redirects=False, timeout=10)
        statuses.append(login.status_code)
        edit_url = f"{base}/my/listings/{listing_ids[n]}/edit"
        form_token = csrf_token(session, edit_url)
        for round_ in range(EDITS_EACH):
            token = f"edit{uuid.uuid4().hex[:10]}"
            saved = session.post(edit_url, data={**FORM, "title_zh": f"大同动力煤 {token}", "csrf_token": form_token},
                                 allow_redirects=False, timeout=10)
            statuses.append(saved.status_code)
            if saved.status_code != 302:
                failures.append(f"editor {n} round {round_}: save answered {saved.status_code}")
                continue
            saved_at, saved_by = time.monotonic(), saved.headers["X-Worker-Pid"]
            found = False
            while time.monotonic() - saved_at < VISIBLE_WITHIN:
                # a fresh connection each time: the kernel hands it to any of the 5 workers
                response = requests.get(f"{base}/api/v1/search", params={"q": token}, timeout=5)
                statuses.append(response.status_code)
                if response.headers["X-Worker-Pid"] != saved_by and response.json()["total"] == 1:
                    found = True
                    delays.append(time.monotonic() - saved_at)
                    break
                time.sleep(0.05)
            if not found:
                failures.append(f"editor {n} round {round_}: not searchable through another worker in 2 s")

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(EDITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    output = "".join(Path(handle.name).read_text() for handle in logs.values())
    assert not failures, failures
    assert len(delays) == EDITORS * EDITS_EACH
    assert all(status < 500 for status in statuses), sorted(set(statuses))
    assert "LockError" not in output
    assert "Traceback" not in output, output[-3000:]
