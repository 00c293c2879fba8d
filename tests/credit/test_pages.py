"""Credit pages: my report with history chart and factors, a counterparty's report (others get 404)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from market.core.jobs import Job
from market.core.timeutil import utcnow
from market.credit import services
from market.credit.chart import history_svg
from tests.factories import login, make_company, make_member, make_staff, make_trade_history_order


def _rated_company():
    company = make_company(created_at=utcnow() - timedelta(days=500))
    partners = [make_company(), make_company()]
    for i in range(4):
        make_trade_history_order(company, partners[i % 2], total_fen=20_000_000)
    return company, partners


def test_my_report_shows_score_factors_and_history(client, db):
    company, _ = _rated_company()
    for days_ago in (20, 10, 0):  # computed over the history as it stood then
        services.recompute(company.id, now=utcnow() - timedelta(days=days_ago))
    login(client, make_member(company))
    client.get("/lang/en")
    page = client.get("/credit/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f">{company.credit_score}<small>" in html
    assert "<svg" in html
    assert html.count('class="dot"') == 2 * 3  # the wide chart and its phone-sized copy
    assert "Fulfilment record" in html
    assert "How to improve" in html
    assert "Orders waiting for your rating" in html
    assert "JS-TEST-" in html


def test_my_report_before_any_computation_and_refresh(client, db):
    company = make_company()
    login(client, make_member(company))
    html = client.get("/credit/").get_data(as_text=True)
    assert client.get("/credit/").status_code == 200
    assert "svg" not in html
    db.session.execute(Job.__table__.delete())
    db.session.commit()
    assert client.post("/credit/refresh").status_code == 302
    assert db.session.scalars(select(Job).where(Job.kind == "credit.recompute")).one().payload == {
        "company_id": company.id}


def test_a_counterparty_reads_the_report_others_get_404(client, db):
    company, partners = _rated_company()
    services.recompute(company.id)
    db.session.commit()
    login(client, make_member(partners[0]))
    assert client.get(f"/credit/companies/{company.id}").status_code == 200
    client.post("/logout")
    stranger = make_member(make_company(), email="stranger@example.cn")
    login(client, stranger)
    assert client.get(f"/credit/companies/{company.id}").status_code == 404
    assert client.get("/credit/companies/999999").status_code == 404


def test_staff_read_any_report(client, db):
    company, _ = _rated_company()
    login(client, make_staff("regulator"))
    assert client.get(f"/credit/companies/{company.id}").status_code == 200


def test_operator_recompute(client, db):
    company, _ = _rated_company()
    login(client, make_staff())
    assert client.post(f"/credit/operator/companies/{company.id}/recompute").status_code == 302
    db.session.expire_all()
    assert company.credit_score is not None
    assert client.post("/credit/operator/companies/999999/recompute").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/credit/").status_code == 302
    assert client.get("/credit/companies/1").status_code == 302


def test_chart_draws_gaps_for_unrated_days():
    now = utcnow()
    svg = str(history_svg([(now - timedelta(days=2), 60), (now - timedelta(days=1), None), (now, 80)],
                          label="<history>"))
    wide = svg.split("</svg>")[0]  # the same drawing follows at phone width
    assert wide.count("<polyline") == 2
    assert wide.count('class="dot"') == 2
    assert "&lt;history&gt;" in svg
