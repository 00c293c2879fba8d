"""Sign-in by email or mobile, session rotation, sign-out, password reset and change."""

from __future__ import annotations

import re

from flask import session
from sqlalchemy import select

from market.accounts import auth
from market.accounts.models import User
from market.core.audit import AuditLog
from market.core.jobs import run_pending
from market.core.mail import MemoryBackend
from tests.factories import PASSWORD, login, make_member

NEW_PASSWORD = "Fenhe-river-walnut-7319"


def _mails_to(address: str) -> list:
    run_pending()
    return [m for m in MemoryBackend.outbox if m.to == address]


def test_login_by_email_and_by_mobile(client, db):
    user_id = make_member(email="coal@example.cn", mobile="13903510001").id
    db.session.commit()
    response = client.post("/login", data={"identifier": " COAL@example.cn ", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/company")
    client.post("/logout")
    response = client.post("/login", data={"identifier": "+86 139 0351 0001", "password": PASSWORD})
    assert response.status_code == 302
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "user.login",
                                                      AuditLog.actor_user_id == user_id)).all()


def test_wrong_password_is_one_message_and_a_401(client, db):
    make_member(email="coal@example.cn")
    db.session.commit()
    client.get("/lang/en")
    wrong = client.post("/login", data={"identifier": "coal@example.cn", "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"identifier": "nobody@example.cn", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    message = "The email/mobile number or the password is not correct."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_login_rotates_the_session_and_keeps_the_language(client, db):
    user = make_member()
    db.session.commit()
    user_id = user.id
    client.get("/lang/en")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker before login"
    login(client, db.session.get(User, user_id))
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["lang"] == "en"
        assert sess["_user_id"] == f"{user_id}:1"
        assert "_remember" not in sess or sess["_remember"] != "set"


def test_no_remember_cookie_by_default(client, db):
    user = make_member()
    login(client, user)
    assert client.get_cookie("remember_token") is None


def test_logout_needs_post_and_ends_the_session(client, db):
    user = make_member()
    login(client, user)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/company").status_code == 302  # back to the login page


def test_next_parameter_cannot_leave_the_site(client, db):
    user = make_member()
    db.session.commit()
    response = client.post("/login?next=https://evil.example/", data={"identifier": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/company")
    response = client.post("/login?next=/supervision/audit", data={"identifier": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/supervision/audit")


def test_password_reset_round_trip(client, db, app):
    user_id = make_member(email="walnut@example.cn").id
    db.session.commit()
    MemoryBackend.outbox.clear()
    response = client.post("/password/forgot", data={"identifier": "walnut@example.cn"})
    assert response.status_code == 302
    mails = _mails_to("walnut@example.cn")
    assert len(mails) == 1
    link = re.search(r"http://\S+/password/reset/(\S+)", mails[0].body)
    assert link, mails[0].body
    token = link.group(1)
    assert client.get(f"/password/reset/{token}").status_code == 200
    # a weak new password is refused and nothing changes
    assert client.post(f"/password/reset/{token}", data={"password": "12345678"}).status_code == 422
    response = client.post(f"/password/reset/{token}", data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert auth.authenticate("walnut@example.cn", NEW_PASSWORD) is not None
    assert auth.authenticate("walnut@example.cn", PASSWORD) is None
    # the link works once only
    assert client.get(f"/password/reset/{token}").status_code == 400
    assert db.session.get(User, user_id).session_version == 2


def test_reset_for_unknown_address_sends_nothing_and_says_the_same(client, db):
    MemoryBackend.outbox.clear()
    response = client.post("/password/forgot", data={"identifier": "nobody@example.cn"})
    assert response.status_code == 302
    assert _mails_to("nobody@example.cn") == []


def test_forged_or_expired_reset_token_is_a_400(client, db, app, monkeypatch):
    user = make_member()
    db.session.commit()
    with app.test_request_context():
        token = auth.reset_token(user)
    assert client.get("/password/reset/not-a-token").status_code == 400
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    assert client.get(f"/password/reset/{token}").status_code == 400


def test_change_password_signs_out_other_sessions(app, db):
    user = make_member()
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user)
    login(laptop, user)
    response = laptop.post("/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert laptop.get("/company").status_code == 200  # this browser stays signed in
    assert phone.get("/company").status_code == 302  # the other one is signed out


def test_change_password_needs_the_current_one(client, db):
    user = make_member()
    email = user.email
    login(client, user)
    response = client.post("/account/password", data={"current_password": "wrong-password", "password": NEW_PASSWORD})
    assert response.status_code == 422
    assert auth.authenticate(email, PASSWORD) is not None


def test_session_is_bound_to_the_version(client, db):
    user = make_member()
    login(client, user)
    with client.session_transaction() as sess:
        user_id, version = sess["_user_id"].split(":")
    assert version == "1"
    db.session.get(User, int(user_id)).session_version += 1
    db.session.commit()
    assert client.get("/company").status_code == 302


def test_session_cookie_flags(client, db, app):
    user = make_member()
    db.session.commit()
    response = client.post("/login", data={"identifier": user.email, "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert session is not None
