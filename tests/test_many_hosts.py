"""Many hosts: two gunicorn instances (two "app hosts") in production mode on one PostgreSQL database, with
SEARCH_BACKEND=postgres, Redis and job workers. A listing created through one is found through the other,
a session from one works on the other, logout on one revokes it on both, and the login limit is shared."""

from __future__ import annotations

import os
import re
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
import requests

from market.extensions import db
from tests.conftest import is_postgres
from tests.factories import PASSWORD, make_company, make_member, seed_tree
from tests.servers import marketplace

pytestmark = pytest.mark.skipif(not is_postgres(), reason="several app hosts share PostgreSQL (and Redis); "
                                "SQLite is one file on one host — run with TEST_DATABASE_URL (.ci/run does)")
REDIS_URL = "redis://127.0.0.1:6379/14"
FORM = {"title_zh": "", "title_en": "", "unit": "t", "unit_price": "812.00", "min_order_quantity": "100",
        "available_quantity": "6000", "origin_region_code": "140213", "delivery_terms": "rail_station",
        "lead_time_days": "5", "specs.qnet_ar": "5600", "specs.st_d": "0.7", "specs.size": "0-13"}


def token(session: requests.Session, url: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', session.get(url, timeout=10).text)
    assert match
    return match.group(1)


def sign_in(session: requests.Session, base: str, identifier: str, password: str = PASSWORD) -> int:
    return session.post(f"{base}/login", data={"identifier": identifier, "password": password,
                                               "csrf_token": token(session, f"{base}/login")},
                        allow_redirects=False, timeout=10).status_code


@pytest.fixture
def two_hosts(app, tmp_path: Path):  # type: ignore[no-untyped-def]
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    common = {**os.environ, "JINSHANG_MODE": "production", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
              "SEARCH_BACKEND": "postgres", "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": f"hosts-{uuid.uuid4().hex}:",
              "SECRET_KEY": "many-hosts-" + "x" * 40, "PUBLIC_BASE_URL": "http://127.0.0.1",
              "PAYMENT_PROVIDERS": "bank_transfer", "BANK_WEBHOOK_SECRETS": "bank-new,bank-old",
              "MAIL_BACKEND": "console", "LOGIN_ACCOUNT_FREE_ATTEMPTS": "3", "PYTHONUNBUFFERED": "1"}
    with ExitStack() as stack:
        bases = []
        for name in ("a", "b"):
            folder = tmp_path / name  # nothing shared on disk: each "host" has its own instance folder
            log = stack.enter_context((tmp_path / f"{name}.log").open("w"))
            bases.append(stack.enter_context(marketplace({**common, "JINSHANG_INSTANCE": str(folder)},
                                                         web_log=log, worker_log=log, web_workers=2)))
        yield bases


def test_two_app_hosts_share_everything_that_matters(two_hosts, db_seller) -> None:
    host_a, host_b = two_hosts
    email = db_seller
    seller = requests.Session()
    assert sign_in(seller, host_a, email) == 302

    # a listing created and published through host A ...
    title = f"朔州动力煤 {uuid.uuid4().hex[:8]}"
    new_url = f"{host_a}/my/listings/new?category=thermal-coal"
    created = seller.post(new_url, data={**FORM, "title_zh": title, "csrf_token": token(seller, new_url)},
                          allow_redirects=False, timeout=10)
    assert created.status_code == 302, created.text[:500]
    listing_id = int(re.search(r"/my/listings/(\d+)/edit", created.headers["Location"]).group(1))
    published = seller.post(f"{host_a}/my/listings/{listing_id}/status",
                            data={"action": "publish", "csrf_token": token(seller, created.headers["Location"]
                                                                          if created.headers["Location"]
                                                                          .startswith("http") else
                                                                          host_a + created.headers["Location"])},
                            allow_redirects=False, timeout=10)
    assert published.status_code == 302, published.text[:500]

    # ... is found through host B (the worker indexes into PostgreSQL)
    # (a worker's first query loads the Chinese segmenter's dictionary: allow for it on a busy machine)
    deadline, found = time.monotonic() + 45, False
    while time.monotonic() < deadline and not found:
        found = requests.get(f"{host_b}/api/v1/search", params={"q": title}, timeout=30).json()["total"] == 1
        time.sleep(0.2)
    assert found

    # the session cookie from host A works on host B
    assert seller.get(f"{host_b}/company", allow_redirects=False, timeout=10).status_code == 200
    stolen = dict(seller.cookies)
    # logout on B revokes it on both
    assert seller.post(f"{host_b}/logout", data={"csrf_token": token(seller, f"{host_b}/company")},
                       allow_redirects=False, timeout=10).status_code == 302
    for base in (host_a, host_b):
        replay = requests.Session()
        replay.cookies.update(stolen)
        assert replay.get(f"{base}/company", allow_redirects=False, timeout=10).status_code == 302

    # the login limit is shared: failures spread over both hosts count against one account
    guesser = requests.Session()
    for n in range(3):
        assert sign_in(guesser, (host_a, host_b)[n % 2], email.upper(), f"wrong-{n}") == 401
    assert sign_in(guesser, host_b, " " + email, PASSWORD) == 429
    assert sign_in(guesser, host_a, email, PASSWORD) == 429

    # and each host answers ready (database, search, a worker's heartbeat)
    for base in (host_a, host_b):
        deadline = time.monotonic() + 10
        while requests.get(f"{base}/readyz", timeout=5).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert requests.get(f"{base}/readyz", timeout=5).json()["status"] == "ok"


@pytest.fixture
def db_seller(app) -> str:  # type: ignore[no-untyped-def]
    seed_tree()
    company = make_company("朔州多主机测试煤业有限公司")
    email = make_member(company, email=f"hosts{uuid.uuid4().hex[:6]}@example.cn").email
    db.session.commit()
    return email
