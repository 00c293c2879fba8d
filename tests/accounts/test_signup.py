"""Sign-up: valid codes of every kind, malformed codes, duplicates and the join request, weak passwords."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market.accounts import uscc
from market.accounts.models import Company, Membership, User
from market.core.audit import AuditLog
from tests.factories import PASSWORD, login, make_company, make_member, valid_uscc


def form(**overrides: str) -> dict[str, str]:
    data = {"company_name": "忻州市原平市红枣专业合作社", "uscc": uscc.make("93", "140981", "MA0Q1W2E3"),
            "contact_name": "赵秀兰", "contact": "zhao@example.cn", "password": PASSWORD, "kind": ""}
    data.update(overrides)
    return data


def count(model) -> int:  # type: ignore[no-untyped-def]
    from market.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("prefix", "region", "kind"), [
    ("91", "140214", "enterprise"),
    ("92", "141182", "individual_business"),
    ("93", "140921", "farmer_cooperative"),
    ("N2", "141124", "village_collective"),
    ("11", "140728", "government_agency"),
])
def test_signup_with_valid_codes_infers_kind_and_region(client, prefix, region, kind):
    code = uscc.make(prefix, region, "MA0AB12CD")
    response = client.post("/signup", data=form(uscc=code, company_name=f"测试{prefix}单位"))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    company = Company.query.filter_by(uscc=code).one()
    assert (company.kind, company.region_code, company.verification_level) == (kind, region, 0)
    owner = Membership.query.filter_by(company_id=company.id).one()
    assert (owner.role, owner.status) == ("owner", "active")
    # signed in straight away, sent on to the licence upload
    assert response.headers["Location"].endswith("/company/verification")
    assert client.get("/company").status_code == 200


def test_input_is_normalised(client):
    code = uscc.make("93", "140921", "MA0KE5P2W")
    spaced = " " + code[:6].lower() + " " + code[6:12] + "\u3000" + code[12:].lower()
    fullwidth = "".join(chr(ord(ch) + 0xFEE0) if ch.isalnum() else ch for ch in spaced)
    response = client.post("/signup", data=form(uscc=fullwidth, contact="  ZHAO@Example.CN ",
                                                company_name="  定襄县  小米合作社 "))
    assert response.status_code == 302
    company = Company.query.one()
    assert company.uscc == code
    assert company.name_zh == "定襄县 小米合作社"
    assert User.query.one().email == "zhao@example.cn"


def test_kind_can_be_corrected(client):
    response = client.post("/signup", data=form(kind="service_provider", uscc=valid_uscc("91")))
    assert response.status_code == 302
    assert Company.query.one().kind == "service_provider"


def test_mobile_number_as_contact(client):
    response = client.post("/signup", data=form(contact="+86 139-0351-2345"))
    assert response.status_code == 302
    assert User.query.one().mobile == "13903512345"


@pytest.mark.parametrize(("code", "message"), [
    ("91140200MA0GQ7K3X", "18 characters"),  # 17 characters
    ("91140200MA0GQ7K3X01", "18 characters"),  # 19 characters
    ("91140200MA0GQ7K3XI", "never used"),  # I is not in the alphabet
    ("91140200MAOGQ7K3X0", "never used"),  # O is not in the alphabet
    ("9114020AMA0GQ7K3X0", "region code"),  # region part must be digits
])
def test_malformed_codes_are_refused_with_a_field_message(client, code, message):
    client.get("/lang/en")
    response = client.post("/signup", data=form(uscc=code))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Company) == 0
    assert count(User) == 0


def test_bad_check_character(client):
    good = uscc.make("93", "140921", "MA0KE5P2W")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    client.get("/lang/en")
    response = client.post("/signup", data=form(uscc=bad))
    assert response.status_code == 422
    assert "check character does not match" in response.get_data(as_text=True)
    assert count(Company) == 0
    assert count(User) == 0


def test_chinese_error_message_by_default(client):
    response = client.post("/signup", data=form(uscc="123"))
    assert response.status_code == 422
    assert "统一社会信用代码" in response.get_data(as_text=True)


@pytest.mark.parametrize("password", ["password1", "12345678", "qwertyuiop", "short", "Jinshang2024", "woaini1314",
                                      "shanxi123"])
def test_weak_or_common_passwords_are_refused(client, password):
    client.get("/lang/en")
    response = client.post("/signup", data=form(password=password))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "at least 8 characters" in text or "too common" in text
    assert count(Company) == 0
    assert count(User) == 0


def test_password_may_not_repeat_the_company_name(client):
    response = client.post("/signup", data=form(company_name="Pingyao Walnut Farm", password="Pingyao Walnut Farm"))
    assert response.status_code == 422


def test_duplicate_code_offers_to_join(client, db):
    existing = make_company("大同市云冈晋北煤业有限公司")
    existing_id, existing_code = existing.id, existing.uscc
    db.session.commit()
    client.get("/lang/en")
    response = client.post("/signup", data=form(uscc=existing_code, company_name="另一个名字"))
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "already registered" in text
    assert f"/companies/{existing_id}/join" in text
    assert count(Company) == 1
    assert count(User) == 0


def test_duplicate_name_ignores_spaces_and_full_width(client, db):
    make_company("山西晋商(集团)有限公司")
    db.session.commit()
    response = client.post("/signup", data=form(company_name="山西 晋商（集团）有限公司"))
    assert response.status_code == 409
    assert count(Company) == 1


def test_join_request_creates_pending_membership_the_owner_decides(client, app, db):
    company = make_company("孝义市鑫源焦化有限公司")
    company_id = company.id
    owner = make_member(company, "owner")
    owner_client = app.test_client()
    login(owner_client, owner)
    response = client.post(f"/companies/{company_id}/join",
                           data={"contact_name": "新同事", "contact": "colleague@example.cn", "password": PASSWORD})
    assert response.status_code == 302
    newcomer = User.query.filter_by(email="colleague@example.cn").one()
    pending = Membership.query.filter_by(user_id=newcomer.id).one()
    pending_id = pending.id
    assert (pending.status, pending.company_id) == ("pending", company_id)
    # a pending member does not act for the company yet
    assert "孝义市鑫源焦化有限公司" in client.get("/company").get_data(as_text=True)
    assert client.get("/company/verification").status_code == 403
    # the owner sees the request and accepts it with a role
    assert "新同事" in owner_client.get("/company").get_data(as_text=True)
    response = owner_client.post(f"/company/members/{pending_id}/decide", data={"decision": "approve",
                                                                                 "role": "purchasing"})
    assert response.status_code == 302
    decided = db.session.get(Membership, pending_id)
    assert (decided.status, decided.role) == ("active", "purchasing")
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"membership.requested", "membership.approved", "user.created"} <= actions


def test_join_request_can_be_declined(client, app, db):
    company = make_company()
    company_id = company.id
    owner = make_member(company, "owner")
    asker = make_member(make_company(), "owner")
    asker_id = asker.id
    owner_client = app.test_client()
    login(owner_client, owner)
    login(client, asker)
    assert client.post(f"/companies/{company_id}/join").status_code == 302
    pending_id = Membership.query.filter_by(user_id=asker_id, company_id=company_id).one().id
    assert client.post(f"/companies/{company_id}/join").status_code == 409  # asked already
    assert owner_client.post(f"/company/members/{pending_id}/decide", data={"decision": "decline"}).status_code == 302
    assert Membership.query.filter_by(user_id=asker_id, company_id=company_id).first() is None


def test_existing_account_cannot_sign_up_twice(client, db):
    make_member(email="zhao@example.cn")
    db.session.commit()
    response = client.post("/signup", data=form())
    assert response.status_code == 422
    assert count(Company) == 1


def test_sign_up_writes_audit_rows(client):
    client.post("/signup", data=form())
    from market.extensions import db

    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"user.created", "company.registered", "membership.created", "user.login"} <= actions
