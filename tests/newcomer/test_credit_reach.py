"""Credit is easy to reach and agrees with itself: badges link to the report for those who may read it,
one source of truth for rating counts, no future-dated history, a phone-sized chart, a rate-this-order link."""

from __future__ import annotations

from datetime import timedelta

from market.core.timeutil import utcnow
from market.credit import ratings, services
from market.credit.report import CreditReport
from market.credit.scoring import average_stars
from tests.factories import login, make_company, make_member
from tests.factories.credit import make_rating, make_trade_history_order
from tests.factories.orders import make_trade_listing, make_trader


def test_average_is_the_same_everywhere():
    assert average_stars([5, 5, 4, 5, 4, 5, 4, 5, 4, 5, 5, 5, 4, 5, 4, 4, 5, 5, 5, 4]) == "4.6"
    assert average_stars([4, 5]) == "4.5"
    assert average_stars([5, 5, 4, 5, 4, 5, 4, 5, 5, 4, 5, 5, 4, 5, 5, 4, 5, 5, 4, 5]) == "4.7"  # 4.65 → 4.7
    assert average_stars([]) is None


def test_summary_and_factor_table_count_the_same_ratings(db):
    seller, buyer = make_company(), make_company()
    for stars in (5, 4, 5):
        make_rating(make_trade_history_order(buyer, seller), buyer, stars=stars)
    # one more rating arrives after the report was computed
    snapshot = services.recompute(seller.id)
    later = make_trade_history_order(buyer, seller)
    make_rating(later, buyer, stars=1, created_at=utcnow() + timedelta(minutes=5))
    report = CreditReport.from_json(snapshot.report)
    factor = next(f for f in report.factors if f.code == "ratings")
    summary = ratings.ratings_summary(seller.id, as_of=snapshot.computed_at)
    assert (factor.params["count"], factor.params["average"]) == (summary["count"], summary["average"]) == (3, "4.7")


def test_grade_badge_links_to_the_report_only_for_those_who_may_read_it(client, db):
    seller, _ = make_trader(credit_grade="A", credit_score=75)
    listing = make_trade_listing(seller)
    stranger = make_company()
    partner = make_company()
    make_trade_history_order(partner, seller)
    stranger_user, partner_user = make_member(stranger), make_member(partner)
    db.session.commit()
    href = f'href="/credit/companies/{seller.id}"'
    assert href not in client.get(f"/listings/{listing.id}").get_data(as_text=True)  # visitor
    login(client, stranger_user)
    assert href not in client.get(f"/listings/{listing.id}").get_data(as_text=True)
    client.post("/logout")
    login(client, partner_user)
    assert href in client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert client.get(f"/credit/companies/{seller.id}").status_code == 200


def test_the_chart_has_a_phone_sized_copy_and_factors_carry_labels(client, db):
    company = make_company()
    partner = make_company()
    make_rating(make_trade_history_order(partner, company), partner, stars=5)
    services.recompute(company.id, now=utcnow() - timedelta(days=30))
    services.recompute(company.id)
    user = make_member(company)
    db.session.commit()
    login(client, user)
    page = client.get("/credit/").get_data(as_text=True)
    assert 'class="credit-chart wide" viewBox="0 0 640' in page
    assert 'class="credit-chart narrow" viewBox="0 0 340' in page
    assert 'data-label="' in page


def test_a_settled_order_links_to_its_rating(client, db):
    seller, buyer = make_company(), make_company()
    order = make_trade_history_order(buyer, seller)
    user = make_member(buyer)
    db.session.commit()
    login(client, user)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f'href="/credit/orders/{order.id}/rating"' in page
