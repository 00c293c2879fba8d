"""CSRF rejection, language switching and tenant scoping (login throttling: test_throttle.py)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from market.accounts import uscc
from market.accounts.models import Company, Membership, User
from market.app import create_app
from tests.conftest import app_config
from tests.factories import PASSWORD, login, make_company, make_member


def _second_app(app, tmp_path: Path, **extra):  # type: ignore[no-untyped-def]
    """Another app on the same database with some protections switched on."""
    return create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], **extra))


def companies(db) -> int:  # type: ignore[no-untyped-def]
    count = db.session.scalar(select(func.count(Company.id)))
    db.session.rollback()  # release SQLite's lock for the other app
    return count


def test_post_without_csrf_token_is_refused_and_writes_nothing(app, db, tmp_path):
    protected = _second_app(app, tmp_path, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    data = {"company_name": "无令牌合作社", "uscc": uscc.make("93", "140921", "MA0C3RF01"),
            "contact_name": "赵", "contact": "csrf@example.cn", "password": PASSWORD}
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert companies(db) == 0
    # with the token from the page the same form goes through
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/signup").get_data(as_text=True)).group(1)
    assert client.post("/signup", data={**data, "csrf_token": token}).status_code == 302
    assert companies(db) == 1


def test_logout_without_csrf_token_is_refused(app, db, tmp_path):
    email = make_member().email
    db.session.commit()
    protected = _second_app(app, tmp_path, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"identifier": email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    assert client.post("/logout").status_code == 400
    assert client.get("/company").status_code == 200  # still signed in


def test_chinese_by_default_english_after_switch(client, db):
    page = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "免费注册" in page
    assert client.get("/lang/en", headers={"Referer": "/signup"}).headers["Location"].endswith("/signup")
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Join free" in page
    client.get("/lang/zh_CN")
    assert "免费注册" in client.get("/").get_data(as_text=True)
    assert client.get("/lang/fr").status_code == 404


def test_language_choice_follows_the_user(app, db):
    user = make_member()
    user_id = user.id
    first = app.test_client()
    login(first, user)
    first.get("/lang/en")  # a GET only sets this browser's session: it never writes
    assert db.session.get(User, user_id).locale != "en"
    db.session.rollback()
    first.post("/lang/en")  # the switch in the page header is a POST: saved on the account
    again = db.session.get(User, user_id)
    assert again.locale == "en"
    other_device = app.test_client()
    login(other_device, again)
    assert 'lang="en"' in other_device.get("/company").get_data(as_text=True)


def test_another_tenants_ids_are_404(app, db):
    me = make_member(make_company(), "owner")
    theirs = make_company()
    their_owner = make_member(theirs, "owner")
    theirs_id = theirs.id
    membership_id = db.session.scalars(select(Membership.id).where(Membership.user_id == their_owner.id)).one()
    client = app.test_client()
    login(client, me)
    assert client.post(f"/company/members/{membership_id}/role", data={"role": "sales"}).status_code == 404
    assert client.post(f"/company/members/{membership_id}/remove").status_code == 404
    assert client.post(f"/company/members/{membership_id}/decide", data={"decision": "approve"}).status_code == 404
    assert client.post("/company/switch", data={"company_id": theirs_id}).status_code == 404
    assert client.post("/company/invitations/999/revoke").status_code == 404
    assert db.session.get(Membership, membership_id).role == "owner"


def test_json_errors_are_problem_documents(app, db):
    user = make_member()
    client = app.test_client()
    login(client, user)
    response = client.post("/company/members/12345/role", data={"role": "sales"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
