"""The audit log page: staff only, filterable, paginated, newest first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from market.core.audit import AuditLog
from market.core.timeutil import utcnow
from tests.factories import login, make_company, make_member, make_staff


def _rows(db, company_id: int, user_id: int) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    for n in range(55):
        db.session.add(AuditLog(action="listing.published" if n % 2 else "order.created", object_type="listing",
                                object_id=str(n), actor_user_id=user_id, actor_company_id=company_id,
                                after={"title": f"动力煤 {n}"}, at=now - timedelta(minutes=n)))
    db.session.add(AuditLog(action="company.verified", object_type="company", object_id=str(company_id),
                            at=now - timedelta(days=40)))
    db.session.commit()


def test_operator_and_regulator_browse_with_filters(app, db):
    company = make_company("大同市云冈晋北煤业有限公司")
    seller = make_member(company, "owner", email="coal@example.cn")
    company_id, seller_id, code = company.id, seller.id, company.uscc
    _rows(db, company_id, seller_id)
    for role in ("operator", "regulator"):
        client = app.test_client()
        login(client, make_staff(role))
        page = client.get("/supervision/audit").get_data(as_text=True)
        total = db.session.scalar(select(func.count(AuditLog.id)))  # 56 + the staff sign-ins
        db.session.rollback()
        assert f"共 {total} 条" in page
        assert "动力煤 0" in page  # Chinese stays readable
        assert "第 1 / 2 页" in page
    assert "共 28 条" in client.get("/supervision/audit?action=order.").get_data(as_text=True)
    assert "共 27 条" in client.get("/supervision/audit?action=listing").get_data(as_text=True)
    assert "共 1 条" in client.get("/supervision/audit?object_type=listing&object_id=7").get_data(as_text=True)
    assert "共 55 条" in client.get("/supervision/audit?actor=coal@example.cn").get_data(as_text=True)
    assert "共 55 条" in client.get(f"/supervision/audit?company={code}").get_data(as_text=True)
    assert "共 0 条" in client.get("/supervision/audit?actor=nobody@example.cn").get_data(as_text=True)
    since = (utcnow() + timedelta(hours=8) - timedelta(days=1)).date().isoformat()
    recent = client.get(f"/supervision/audit?date_from={since}&action=listing").get_data(as_text=True)
    assert "共 27 条" in recent
    # malformed filters are refused at the edge, each field named (never a 500)
    refused = client.get("/supervision/audit?date_from=yesterday&page=abc")
    assert refused.status_code == 422
    assert "date_from" in refused.get_data(as_text=True)
    assert "page" in refused.get_data(as_text=True)


def test_company_users_cannot_see_the_audit_log(app, db):
    client = app.test_client()
    login(client, make_member())
    assert client.get("/supervision/audit").status_code == 403
    assert app.test_client().get("/supervision/audit").status_code == 302
