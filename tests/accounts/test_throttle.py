"""Sign-in throttling: every spelling of an account counts against one limit, shared by every worker (two
apps on one database or one Redis), refused before any password is checked, and a stranger's failures
keep the owner out for seconds, not for good."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import redis

from market.accounts import auth
from market.app import create_app
from market.extensions import limiter
from tests.conftest import app_config
from tests.factories import PASSWORD, make_member

REDIS_URL = "redis://127.0.0.1:6379/15"
SPELLINGS = ["millet@example.cn", "m illet@example.cn", "ｍｉｌｌｅｔ@example.cn", "MILLET@example.cn ",
             "mi\u200bllet@example.cn", "+8613803510003", "138-0351-0003", "138 0351 0003"]


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["database", "redis"])
def workers(request, app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two apps (two gunicorn workers, or two hosts) on the same database, counting in the database or in
    Redis, with 3 free attempts and a backoff capped at 1 s."""
    extra: dict[str, object] = {}
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
        extra = {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex}:"}
    saved = (limiter.enabled, limiter.initialized)
    apps = [create_app(app_config(tmp_path / str(n), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                  RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_FREE_ATTEMPTS=3, LOGIN_BACKOFF_MAX_SECONDS=1,
                                  LOGIN_ADDRESS_LIMIT=8, **extra)) for n in range(2)]
    yield apps
    limiter.reset()
    limiter.enabled, limiter.initialized = saved


def _client(app, address: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _post(client, identifier: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"identifier": identifier, "password": password})


@pytest.fixture
def millet(db):  # type: ignore[no-untyped-def]
    user = make_member(email="millet@example.cn", mobile="13803510003")
    db.session.commit()
    return user


@pytest.fixture
def password_checks(monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[int] = []
    real = auth.verify_password

    def counting(hashed: str, password: str) -> bool:
        calls.append(1)
        return real(hashed, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    return calls


def test_every_spelling_counts_against_one_limit_across_workers(workers, millet, password_checks) -> None:
    first, second = (_client(app, "203.0.113.7") for app in workers)
    # three failures, alternating workers and spellings of the same account (email and mobile alike)
    for n, spelling in enumerate(SPELLINGS[:3]):
        assert _post((first, second)[n % 2], spelling, "wrong-guess-1").status_code == 401
    checked = len(password_checks)
    for n, spelling in enumerate(SPELLINGS):
        # the right password, in every spelling, through either worker: refused before it is checked
        blocked = _post((first, second)[n % 2], spelling, PASSWORD)
        assert blocked.status_code == 429, spelling
        assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert len(password_checks) == checked


def test_a_strangers_failures_keep_the_owner_out_for_seconds_only(workers, millet) -> None:
    # a guesser: 3 free failures from one address (now blocked there), a 4th from another sets a delay
    for n in range(3):
        assert _post(_client(workers[n % 2], "198.51.100.0"), "millet@example.cn", f"guess-{n}").status_code == 401
    assert _post(_client(workers[1], "198.51.100.1"), "millet@example.cn", "guess-4").status_code == 401
    owner = _client(workers[1], "192.0.2.50")
    response = _post(owner, "millet@example.cn", PASSWORD)
    if response.status_code == 429:  # within the backoff: told how long, at most the configured cap
        assert int(response.headers["Retry-After"]) <= 1
        time.sleep(int(response.headers["Retry-After"]) + 0.1)
        response = _post(owner, "millet@example.cn", PASSWORD)
    assert response.status_code == 302
    # and the guesser's own address stays blocked for that account
    assert _post(_client(workers[0], "198.51.100.0"), "millet@example.cn", PASSWORD).status_code == 429


def test_one_address_guessing_many_accounts_is_blocked(workers, db) -> None:
    sprayer = _client(workers[0], "203.0.113.99")
    for n in range(8):
        assert _post(sprayer, f"nobody{n}@example.cn", "wrong-guess-1").status_code == 401
    assert _post(_client(workers[1], "203.0.113.99"), "someone@example.cn", "x").status_code == 429
    assert _post(_client(workers[1], "203.0.113.100"), "someone@example.cn", "x").status_code == 401


def test_throttle_page_in_english_and_as_problem_json(workers, db) -> None:
    client = _client(workers[0], "203.0.113.8")
    client.get("/lang/en")
    for _ in range(3):
        _post(client, "a@example.cn", "wrong-guess-1")
    blocked = _post(client, "a@example.cn", "x")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    as_json = client.post("/login", data={"identifier": "a@example.cn", "password": "x"},
                          headers={"Accept": "application/json"})
    assert as_json.status_code == 429
    assert as_json.mimetype == "application/problem+json"


def test_successful_logins_do_not_count(workers, millet) -> None:
    for _ in range(6):
        assert _post(_client(workers[0], "203.0.113.9"), "millet@example.cn", PASSWORD).status_code == 302
