"""Counters with an expiry, shared by every web worker and host: Redis when REDIS_URL is set, else the database.

Flask-Limiter keeps its counters in process memory without Redis, so each gunicorn worker counted on its
own (5 per minute allowed 14 tries with 3 workers). Sign-in and sign-up count here instead: one counter per
key for the whole deployment. The database store is one upsert per counted event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import Integer, String, case, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db


class ThrottleCounter(db.Model):
    """One counter (a key such as ``login:acct:<account>``), alive until ``expires_at``."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    expires_at = mapped_column(UTCDateTime(), nullable=False)


class CounterStore(Protocol):
    """Counters that expire ``window`` seconds after their first event."""

    def incr(self, key: str, window: int) -> tuple[int, int]:
        """Count one event; returns (count in the window, seconds until the window ends)."""
        ...

    def get(self, key: str) -> tuple[int, int]:
        """(count, seconds left) or (0, 0) when there is no live counter."""
        ...

    def put(self, key: str, value: int, seconds: int) -> None: ...

    def clear(self, key: str) -> None: ...


class DatabaseStore:
    """Counters in the ``throttle_counter`` table, written in the caller's transaction (the view commits)."""

    def _upsert(self, key: str, window: int, value: int | None) -> None:
        now = utcnow()
        table = ThrottleCounter.__table__
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        until = now + timedelta(seconds=window)
        live = table.c.expires_at > now
        if value is None:  # count one more in the live window, or start a new window
            new_count, new_expiry = case((live, table.c.count + 1), else_=1), case((live, table.c.expires_at),
                                                                                     else_=until)
            first = 1
        else:
            new_count, new_expiry, first = value, until, value
        statement = insert(table).values(key=key, count=first, expires_at=until)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.key], set_={"count": new_count, "expires_at": new_expiry}))

    def incr(self, key: str, window: int) -> tuple[int, int]:
        self._upsert(key, window, None)
        return self.get(key)

    def get(self, key: str) -> tuple[int, int]:
        row = db.session.execute(select(ThrottleCounter.count, ThrottleCounter.expires_at)
                                 .where(ThrottleCounter.key == key)).first()
        if row is None:
            return 0, 0
        left = (row.expires_at - utcnow()).total_seconds()
        return (row.count, max(1, round(left))) if left > 0 else (0, 0)

    def put(self, key: str, value: int, seconds: int) -> None:
        self._upsert(key, seconds, value)

    def clear(self, key: str) -> None:
        db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))


class RedisStore:
    """Counters in Redis (``REDIS_URL``), prefixed with ``REDIS_KEY_PREFIX``; Redis expires them itself."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def incr(self, key: str, window: int) -> tuple[int, int]:
        name = self.prefix + key
        pipe = self.redis.pipeline()
        pipe.set(name, 0, ex=window, nx=True)  # a new window starts with the first event
        pipe.incr(name)
        pipe.ttl(name)
        _, count, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def get(self, key: str) -> tuple[int, int]:
        pipe = self.redis.pipeline()
        pipe.get(self.prefix + key)
        pipe.ttl(self.prefix + key)
        value, ttl = pipe.execute()
        return (int(value), max(1, int(ttl))) if value is not None and ttl != -2 else (0, 0)

    def put(self, key: str, value: int, seconds: int) -> None:
        self.redis.set(self.prefix + key, value, ex=max(1, seconds))

    def clear(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


def store() -> CounterStore:
    """The deployment's counter store (one Redis client per app)."""
    cached = current_app.extensions.get("throttle_store")
    if cached is None:
        url = current_app.config.get("REDIS_URL") or ""
        cached = RedisStore(url, current_app.config.get("REDIS_KEY_PREFIX", "jinshang:")) if url else DatabaseStore()
        current_app.extensions["throttle_store"] = cached
    return cached


def enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def over_limit(key: str, limit: int, window: int) -> int:
    """Seconds to wait if ``key`` already counted ``limit`` events in its window, else 0 (nothing counted)."""
    if not enabled():
        return 0
    count, left = store().get(key)
    return left if count >= limit else 0


def count(key: str, window: int) -> None:
    """Count one event against ``key`` (the caller commits)."""
    if enabled():
        store().incr(key, window)
