"""Signing in and out, password reset by emailed token, password change.

A session stores ``user id:session_version``; bumping the version (password change or reset) signs out
every other session, and reset tokens are bound to the version and the password hash, so a used or
outdated link stops working.
"""

from __future__ import annotations

import hashlib

from flask import current_app, session
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from market.accounts import normalise
from market.accounts.models import User
from market.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from market.core.audit import record
from market.core.errors import BadRequest, ValidationFailed
from market.core.mail import send_mail
from market.core.timeutil import utcnow
from market.extensions import db

# A real hash to verify against when the account does not exist, so both cases take the same time.
_DUMMY_HASH = hash_password("no such account, constant time")


def find_user(identifier: str | None) -> User | None:
    """The user whose email or mobile number is ``identifier`` (normalised), or None."""
    key = normalise.account_key(identifier)
    if not key:
        return None
    column = User.email if "@" in key else User.mobile
    return db.session.scalars(select(User).where(column == key)).first()


def throttle_account(identifier: str | None) -> str:
    """What the login limit counts against: the user behind any spelling of the identifier, else that spelling."""
    user = find_user(identifier)
    return f"user:{user.id}" if user is not None else "id:" + normalise.account_key(identifier)


def authenticate(identifier: str | None, password: str | None) -> User | None:
    """The active user with these credentials, or None (the caller shows one message for every failure)."""
    user = find_user(identifier)
    if user is None:
        verify_password(_DUMMY_HASH, password or "")
        return None
    if not verify_password(user.password_hash, password or "") or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password or "")
    return user


def start_session(user: User, *, remember: bool = False) -> None:
    """Log in with a fresh session (no data from before the login survives, except the language)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user, remember=remember)
    session.permanent = True
    user.last_login_at = utcnow()
    record("user.login", "user", user.id, actor_user_id=user.id)
    db.session.flush()


def end_session() -> None:
    """Sign out and revoke the session on the server: the user's session version moves on, so a copy of
    this cookie (or a remember-me cookie) no longer signs anyone in, on any host. The caller commits."""
    from flask_login import current_user

    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        if user is not None:
            user.session_version += 1
            record("user.logout", "user", user.id, actor_user_id=user.id)
            db.session.flush()
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(user: User) -> str:
    # Part of the token: once the password (hash) or the session version changes, the token is dead.
    return hashlib.sha256(f"{user.password_hash}:{user.session_version}".encode()).hexdigest()[:20]


def reset_token(user: User) -> str:
    return _serializer("password-reset").dumps({"uid": user.id, "fp": _fingerprint(user)})


def user_for_reset_token(token: str) -> User:
    """The user a reset link is for. Raises BadRequest for an expired, used or forged link."""
    try:
        data = _serializer("password-reset").loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise BadRequest("This link has expired. Please ask for a new one.") from None
    except BadSignature:
        raise BadRequest("This link is not valid. Please ask for a new one.") from None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("fp") != _fingerprint(user):
        raise BadRequest("This link has already been used or is no longer valid. Please ask for a new one.")
    return user


def request_password_reset(identifier: str | None) -> None:
    """Email a reset link if an account with an email address matches. Says nothing about whether one did."""
    from market.accounts.services import public_url

    user = find_user(identifier)
    if user is None or not user.active or not user.email:
        return
    link = public_url("accounts.reset_password", token=reset_token(user))
    hours = current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600
    send_mail(user.email, _("Reset your Jinshang password"),
              _("Someone (hopefully you) asked to reset the password of your Jinshang account.\n\n"
                "Open this link within %(hours)s hours to choose a new password:\n%(link)s\n\n"
                "If it was not you, ignore this email; your password stays the same.", hours=hours, link=link))
    record("user.password_reset_requested", "user", user.id, actor_user_id=user.id)


def _set_password(user: User, new_password: str) -> None:
    problem = password_problem(new_password or "", user.name, user.email or "", user.mobile or "")
    if problem:
        raise ValidationFailed(problem, field_errors={"password": problem})
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    db.session.flush()


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link; every existing session is signed out."""
    user = user_for_reset_token(token)
    _set_password(user, new_password)
    record("user.password_reset", "user", user.id, actor_user_id=user.id)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change one's password; other sessions are signed out (this one is renewed by the caller)."""
    if not verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed("Your current password is not correct.",
                               field_errors={"current_password": "Your current password is not correct."})
    _set_password(user, new_password)
    record("user.password_changed", "user", user.id, actor_user_id=user.id)


def renew_session(user: User) -> None:
    """After a password change: keep this browser signed in under the new session version."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    session.permanent = True
