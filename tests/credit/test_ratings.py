"""Ratings: only parties of a settled order, once per side, 1–5 stars, known tags, editable 30 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from market.core.audit import AuditLog
from market.core.errors import Conflict, NotFound, ValidationFailed
from market.core.jobs import Job
from market.core.timeutil import utcnow
from market.credit import ratings
from market.credit.models import Rating
from tests.factories import login, make_company, make_member, make_trade_history_order


def _settled_order():
    buyer, seller = make_company(), make_company()
    return buyer, seller, make_trade_history_order(buyer, seller)


def _input(stars=5, tags=("on_time",), comment="准时交货，质量稳定"):
    return ratings.parse_rating(stars, list(tags), comment)


def test_each_party_rates_the_other_once(db):
    buyer, seller, order = _settled_order()
    db.session.execute(Job.__table__.delete())  # forget the jobs the settled order queued
    by_buyer = ratings.submit_rating(order.id, buyer.id, _input())
    by_seller = ratings.submit_rating(order.id, seller.id, _input(4, ["paid_promptly"], None))
    assert (by_buyer.ratee_company_id, by_buyer.rater_role) == (seller.id, "buyer")
    assert (by_seller.ratee_company_id, by_seller.rater_role) == (buyer.id, "seller")
    with pytest.raises(Conflict, match="already rated"):
        ratings.submit_rating(order.id, buyer.id, _input(1))
    assert db.session.scalar(select(db.func.count(Rating.id))) == 2
    # each rating asks for the ratee's score to be recomputed, and is audited
    queued = [j.payload["company_id"] for j in db.session.scalars(select(Job).where(Job.kind == "credit.recompute"))]
    assert sorted(queued) == sorted([seller.id, buyer.id])
    assert db.session.scalar(select(db.func.count(AuditLog.id)).where(AuditLog.action == "rating.created")) == 2


def test_the_database_refuses_a_duplicate_too(db):
    buyer, _, order = _settled_order()
    ratings.submit_rating(order.id, buyer.id, _input())
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Rating(order_id=order.id, rater_company_id=buyer.id, ratee_company_id=order.seller_id,
                              rater_role="buyer", stars=3, tags=[]))


def test_outsiders_and_unsettled_orders_cannot_be_rated(db):
    buyer, seller, order = _settled_order()
    outsider = make_company()
    with pytest.raises(NotFound):
        ratings.submit_rating(order.id, outsider.id, _input())
    with pytest.raises(NotFound):
        ratings.submit_rating(999_999, buyer.id, _input())
    open_order = make_trade_history_order(buyer, seller, settled=False)
    with pytest.raises(Conflict, match="once the order is settled"):
        ratings.submit_rating(open_order.id, buyer.id, _input())
    assert db.session.scalar(select(db.func.count(Rating.id))) == 0


@pytest.mark.parametrize(
    ("stars", "tags", "comment", "field"),
    [
        (0, [], None, "stars"), (6, [], None, "stars"), ("five", [], None, "stars"), (None, [], None, "stars"),
        (4.5, [], None, "stars"), (True, [], None, "stars"),
        (5, ["excellent!!"], None, "tags"), (5, list(ratings.TAGS)[:6], None, "tags"), (5, [3], None, "tags"),
        (5, [], "长" * 1001, "comment"), (5, [], {"x": 1}, "comment"),
    ],
)
def test_bad_values_are_refused_by_field(stars, tags, comment, field):
    with pytest.raises(ValidationFailed) as caught:
        ratings.parse_rating(stars, tags, comment)
    assert field in caught.value.field_errors


def test_tags_are_deduplicated_and_comment_trimmed():
    data = ratings.parse_rating("4", ["on_time", "on_time", " late "], "  ok  ")
    assert data == ratings.RatingInput(4, ("on_time", "late"), "ok")
    assert ratings.parse_rating(3, None, "   ").comment is None


def test_a_rating_is_editable_for_thirty_days(db):
    buyer, seller, order = _settled_order()
    given = utcnow() - timedelta(days=29)
    rating = ratings.submit_rating(order.id, buyer.id, _input(2), now=given)
    ratings.edit_rating(order.id, buyer.id, _input(4, ["as_described"], "补发后满意"))
    assert (rating.stars, rating.tags, rating.comment) == (4, ["as_described"], "补发后满意")
    edit = db.session.scalars(select(AuditLog).where(AuditLog.action == "rating.edited")).one()
    assert edit.before["stars"] == 2
    assert edit.after["stars"] == 4
    with pytest.raises(Conflict, match="30 days"):
        ratings.edit_rating(order.id, buyer.id, _input(1), now=given + timedelta(days=31))
    assert rating.stars == 4
    with pytest.raises(NotFound):
        ratings.edit_rating(order.id, seller.id, _input(1))  # the seller has not rated yet


def test_summary_counts_for_profiles(db):
    seller = make_company()
    for stars, tags in ((5, ["on_time"]), (4, ["on_time", "as_described"]), (2, ["late"])):
        order = make_trade_history_order(make_company(), seller)
        ratings.submit_rating(order.id, order.buyer_id, _input(stars, tags))
    summary = ratings.ratings_summary(seller.id)
    assert summary["count"] == 3
    assert summary["average"] == "3.7"  # one formatting for every page (credit.scoring.average_stars)
    assert summary["by_stars"] == {5: 1, 4: 1, 3: 0, 2: 1, 1: 0}
    assert summary["tags"][0] == ("on_time", 2)
    assert ratings.ratings_summary(make_company().id) == {"count": 0, "average": None,
                                                          "by_stars": {5: 0, 4: 0, 3: 0, 2: 0, 1: 0}, "tags": []}


def test_rating_through_the_page(client, db):
    buyer, seller, order = _settled_order()
    user = make_member(buyer, role="purchasing")
    login(client, user)
    page = client.get(f"/credit/orders/{order.id}/rating")
    assert page.status_code == 200
    assert seller.name_zh in page.get_data(as_text=True)
    response = client.post(f"/credit/orders/{order.id}/rating", data={"stars": "5", "tags": ["on_time", "as_described"],
                                                                      "comment": "好"})
    assert response.status_code == 302
    saved = db.session.scalars(select(Rating)).one()
    assert (saved.stars, saved.tags, saved.created_by_user_id) == (5, ["on_time", "as_described"], user.id)
    db.session.commit()  # end the test's read transaction: each request has its own session
    # posting again edits the same rating instead of adding one
    client.post(f"/credit/orders/{order.id}/rating", data={"stars": "3"})
    assert db.session.scalars(select(Rating)).one().stars == 3
    db.session.commit()
    # bad input: 422 with a message, nothing changed
    bad = client.post(f"/credit/orders/{order.id}/rating", data={"stars": "9"})
    assert bad.status_code == 422
    assert db.session.scalars(select(Rating)).one().stars == 3
    db.session.commit()
    # the public ratings page shows it
    public = client.get(f"/credit/companies/{seller.id}/ratings")
    assert public.status_code == 200
    assert "★★★☆☆" in public.get_data(as_text=True)


def test_a_stranger_gets_404_for_someone_elses_order(client, db):
    _, _, order = _settled_order()
    login(client, make_member(make_company()))
    assert client.get(f"/credit/orders/{order.id}/rating").status_code == 404
    assert client.post(f"/credit/orders/{order.id}/rating", data={"stars": "1"}).status_code == 404
    assert db.session.scalar(select(db.func.count(Rating.id))) == 0


def test_roles_without_trading_rights_cannot_rate(client, db):
    buyer, _, order = _settled_order()
    login(client, make_member(buyer, role="finance"))
    assert client.post(f"/credit/orders/{order.id}/rating", data={"stars": "5"}).status_code == 403
