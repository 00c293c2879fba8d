"""Sign-in throttling, after OWASP's Authentication Cheat Sheet ("account lockout": prefer throttling with
a short, growing delay to a hard lock a stranger could impose on the owner). See docs/security.md.

Three counters, shared by every worker and host (:mod:`market.core.throttle`):

- per account (the user, found through :func:`normalise.account_key`, so every spelling of an email
  address or mobile number is one account): the first ``LOGIN_ACCOUNT_FREE_ATTEMPTS`` failures in
  ``LOGIN_WINDOW_SECONDS`` cost nothing; each one after that imposes a delay doubling from 1 s up to
  ``LOGIN_BACKOFF_MAX_SECONDS`` (60 s) during which nobody, from any address, has a password checked for
  that account. The owner waits at most a minute, a guesser gets one try a minute.
- per account and address: ``LOGIN_ACCOUNT_FREE_ATTEMPTS`` failures block that address for that account
  for the rest of the window (the guesser, not the owner on another address).
- per address: ``LOGIN_ADDRESS_LIMIT`` failures in the window block the address for every account
  (one machine spraying passwords over many accounts).

A blocked attempt is refused with 429 and Retry-After before any password is checked.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request

from market.core import throttle


def _cfg(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _keys(account: str, address: str) -> tuple[str, str, str, str]:
    # hashed so that no address or identifier sits in Redis or the counter table in clear text
    acct = hashlib.sha256(account.encode()).hexdigest()[:32]
    addr = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"login:a:{acct}", f"login:wait:{acct}", f"login:p:{acct}:{addr}", f"login:ip:{addr}"


def client_address() -> str:
    """The client's address (ProxyFix has applied the trusted hops)."""
    return request.remote_addr or "unknown"


def retry_after(account: str, address: str) -> int:
    """Seconds until this account may be tried from this address (0: go ahead)."""
    if not throttle.enabled():
        return 0
    store = throttle.store()
    _, wait_key, pair_key, ip_key = _keys(account, address)
    free = _cfg("LOGIN_ACCOUNT_FREE_ATTEMPTS", 5)
    waits = [store.get(wait_key)[1]]
    pair_count, pair_left = store.get(pair_key)
    if pair_count >= free:
        waits.append(pair_left)
    ip_count, ip_left = store.get(ip_key)
    if ip_count >= _cfg("LOGIN_ADDRESS_LIMIT", 30):
        waits.append(ip_left)
    return max(waits)


def failed(account: str, address: str) -> None:
    """Count a failed attempt (the caller commits: the database store writes in the request's transaction)."""
    if not throttle.enabled():
        return
    store = throttle.store()
    window = _cfg("LOGIN_WINDOW_SECONDS", 15 * 60)
    account_key, wait_key, pair_key, ip_key = _keys(account, address)
    count, _ = store.incr(account_key, window)
    store.incr(pair_key, window)
    store.incr(ip_key, window)
    over = count - _cfg("LOGIN_ACCOUNT_FREE_ATTEMPTS", 5)
    if over > 0:
        store.put(wait_key, 1, min(2 ** (over - 1), _cfg("LOGIN_BACKOFF_MAX_SECONDS", 60)))


def succeeded(account: str, address: str) -> None:
    """The owner got in: forget the account's failures (the address counter stays)."""
    if not throttle.enabled():
        return
    store = throttle.store()
    account_key, wait_key, pair_key, _ = _keys(account, address)
    for key in (account_key, wait_key, pair_key):
        store.clear(key)
