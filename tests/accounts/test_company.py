"""The company page: roles, removing members, the last owner, invitations, switching company, profile."""

from __future__ import annotations

import re

from sqlalchemy import select

from market.accounts.models import Company, Invitation, Membership, User
from market.core.audit import AuditLog
from market.core.jobs import run_pending
from market.core.mail import MemoryBackend
from tests.factories import PASSWORD, login, make_company, make_member

NEW_PASSWORD = "Fenhe-river-walnut-7319"


def membership_of(db, user_id: int, company_id: int | None = None) -> Membership:  # type: ignore[no-untyped-def]
    """Look up afresh: after a request the session is new and earlier objects are detached."""
    stmt = select(Membership).where(Membership.user_id == user_id)
    if company_id is not None:
        stmt = stmt.where(Membership.company_id == company_id)
    return db.session.scalars(stmt).one()


def test_company_page_shows_members_and_roles(app, db):
    company = make_company("大同市云冈晋北煤业有限公司")
    owner = make_member(company, "owner", name="王建国")
    make_member(company, "sales", name="马小军")
    client = app.test_client()
    login(client, owner)
    page = client.get("/company").get_data(as_text=True)
    assert "大同市云冈晋北煤业有限公司" in page
    assert "马小军" in page
    assert "销售" in page


def test_owner_changes_a_role_and_it_is_audited(app, db):
    company = make_company()
    owner = make_member(company, "owner")
    owner_id, clerk_id = owner.id, make_member(company, "sales").id
    client = app.test_client()
    login(client, owner)
    target_id = membership_of(db, clerk_id).id
    assert client.post(f"/company/members/{target_id}/role", data={"role": "finance"}).status_code == 302
    assert db.session.get(Membership, target_id).role == "finance"
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "membership.role_changed")).one()
    assert (row.before, row.after, row.actor_user_id) == ({"role": "sales"}, {"role": "finance"}, owner_id)


def test_sales_cannot_invite_or_change_roles(app, db):
    company = make_company()
    make_member(company, "owner")
    sales = make_member(company, "sales")
    other_id = make_member(company, "finance").id
    client = app.test_client()
    login(client, sales)
    assert client.post("/company/invitations", data={"email": "x@example.cn", "role": "sales"}).status_code == 403
    target_id = membership_of(db, other_id).id
    assert client.post(f"/company/members/{target_id}/role", data={"role": "admin"}).status_code == 403
    assert client.post(f"/company/members/{target_id}/remove").status_code == 403
    assert db.session.scalars(select(Invitation)).first() is None
    assert db.session.get(Membership, target_id).role == "finance"


def test_admin_cannot_touch_owners_or_make_owners(app, db):
    company = make_company()
    owner_id = make_member(company, "owner").id
    admin = make_member(company, "admin")
    clerk_id = make_member(company, "sales").id
    client = app.test_client()
    login(client, admin)
    owner_membership, clerk_membership = membership_of(db, owner_id).id, membership_of(db, clerk_id).id
    assert client.post(f"/company/members/{owner_membership}/role", data={"role": "sales"}).status_code == 403
    assert client.post(f"/company/members/{clerk_membership}/role", data={"role": "owner"}).status_code == 403
    assert client.post(f"/company/members/{clerk_membership}/role", data={"role": "purchasing"}).status_code == 302
    assert db.session.get(Membership, owner_membership).role == "owner"
    assert db.session.get(Membership, clerk_membership).role == "purchasing"


def test_last_owner_cannot_be_removed_or_demoted(app, db):
    company = make_company()
    company_id = company.id
    owner = make_member(company, "owner")
    owner_id = owner.id
    client = app.test_client()
    login(client, owner)
    mine = membership_of(db, owner_id).id
    assert client.post(f"/company/members/{mine}/remove").status_code == 409
    assert client.post(f"/company/members/{mine}/role", data={"role": "sales"}).status_code == 409
    # with a second owner, the first may leave
    second_id = make_member(db.session.get(Company, company_id), "owner").id
    db.session.commit()
    assert client.post(f"/company/members/{mine}/remove").status_code == 302
    remaining = db.session.scalars(select(Membership).where(Membership.company_id == company_id)).all()
    assert [m.user_id for m in remaining] == [second_id]


def test_unknown_role_is_refused(app, db):
    company = make_company()
    owner = make_member(company, "owner")
    clerk_id = make_member(company, "sales").id
    client = app.test_client()
    login(client, owner)
    assert client.post(f"/company/members/{membership_of(db, clerk_id).id}/role",
                       data={"role": "emperor"}).status_code == 422


def _invitation_token(address: str) -> str:
    run_pending()
    mail = next(m for m in reversed(MemoryBackend.outbox) if m.to == address)
    return re.search(r"/invite/(\S+)", mail.body).group(1)


def test_invite_round_trip_creates_user_and_membership(app, db):
    company = make_company("孝义市鑫源焦化有限公司")
    company_id = company.id
    owner = make_member(company, "owner")
    client = app.test_client()
    login(client, owner)
    MemoryBackend.outbox.clear()
    response = client.post("/company/invitations", data={"email": "Finance@Example.cn", "role": "finance"})
    assert response.status_code == 302
    token = _invitation_token("finance@example.cn")
    newcomer = app.test_client()
    assert "孝义市鑫源焦化有限公司" in newcomer.get(f"/invite/{token}").get_data(as_text=True)
    # weak password: refused, nothing created
    weak = newcomer.post(f"/invite/{token}", data={"contact_name": "钱会计", "password": "12345678"})
    assert weak.status_code == 422
    assert db.session.scalars(select(User).where(User.email == "finance@example.cn")).first() is None
    accepted = newcomer.post(f"/invite/{token}", data={"contact_name": "钱会计", "password": NEW_PASSWORD})
    assert accepted.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "finance@example.cn")).one()
    membership = membership_of(db, user.id)
    assert (membership.company_id, membership.role, membership.status) == (company_id, "finance", "active")
    assert newcomer.get("/company").status_code == 200
    # the link works once
    assert app.test_client().get(f"/invite/{token}").status_code == 400


def test_existing_user_accepts_invitation_when_signed_in(app, db):
    inviting = make_company()
    inviting_id, inviting_name = inviting.id, inviting.name_zh
    owner = make_member(inviting, "owner")
    elsewhere = make_member(make_company(), "owner", email="trader@example.cn")
    elsewhere_id = elsewhere.id
    client = app.test_client()
    login(client, owner)
    other = app.test_client()
    login(other, elsewhere)
    client.post("/company/invitations", data={"email": "trader@example.cn", "role": "purchasing"})
    token = _invitation_token("trader@example.cn")
    assert other.post(f"/invite/{token}").status_code == 302
    assert membership_of(db, elsewhere_id, inviting_id).role == "purchasing"
    # now in two companies: the switcher appears and switching works
    page = other.get("/company").get_data(as_text=True)
    assert 'name="company_id"' in page
    assert other.post("/company/switch", data={"company_id": inviting_id}).status_code == 302
    assert inviting_name in other.get("/company").get_data(as_text=True).split("<h1>")[1][:200]


def test_invitation_for_someone_else_is_refused(app, db):
    company = make_company()
    owner = make_member(company, "owner")
    stranger = make_member(make_company(), "owner", email="stranger@example.cn")
    client = app.test_client()
    login(client, owner)
    other = app.test_client()
    login(other, stranger)
    client.post("/company/invitations", data={"email": "intended@example.cn", "role": "sales"})
    token = _invitation_token("intended@example.cn")
    assert other.post(f"/invite/{token}").status_code == 403


def test_profile_update_validates_region(app, db):
    company = make_company()
    company_id = company.id
    owner = make_member(company, "owner")
    client = app.test_client()
    login(client, owner)
    data = {"name_en": "Taigu Millet", "kind": "farmer_cooperative", "industries": ["agriculture"],
            "region_code": "140703", "address": "太谷区", "contact_name": "", "contact_phone": "", "contact_email": ""}
    assert client.post("/company/profile", data=data).status_code == 302
    saved = db.session.get(Company, company_id)
    assert (saved.region_code, saved.kind, saved.industries) == ("140703", "farmer_cooperative", ["agriculture"])
    db.session.rollback()
    assert client.post("/company/profile", data={**data, "region_code": "110101"}).status_code == 422
    assert db.session.get(Company, company_id).region_code == "140703"


def test_company_page_without_company(app, db):
    from tests.factories import make_user

    user = make_user()
    client = app.test_client()
    login(client, user, PASSWORD)
    page = client.get("/company")
    assert page.status_code == 200
    assert "还没有加入任何单位" in page.get_data(as_text=True)
