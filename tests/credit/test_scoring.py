"""The internal score's rules, tested directly on plain data (no database).

Monotonicity is checked with hypothesis over random histories: paying later never raises a score, a
lost dispute never raises it, and more on-time history never lowers it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.credit.report import GRADE_NAMES, CreditReport, grade_for
from market.credit.scoring import (
    CompanyHistory,
    DeliveryExperience,
    InspectionResult,
    OrderOutcome,
    PaymentExperience,
    exact_points,
    paydex_index,
    payment_experiences,
    score_history,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

amounts = st.integers(min_value=0, max_value=10**11)
days = st.floats(min_value=-60, max_value=200, allow_nan=False, allow_infinity=False)
parties = st.integers(min_value=1, max_value=6)


@st.composite
def payments(draw):
    due = NOW - timedelta(days=draw(st.integers(min_value=1, max_value=400)))
    late = draw(st.one_of(st.none(), days))
    paid = None if late is None else min(due + timedelta(days=late), NOW)
    return PaymentExperience(draw(parties), draw(amounts), due, paid)


@st.composite
def deliveries(draw):
    due = NOW - timedelta(days=draw(st.integers(min_value=1, max_value=400)))
    late = draw(st.one_of(st.none(), days))
    done = None if late is None else min(due + timedelta(days=late), NOW)
    return DeliveryExperience(draw(parties), draw(amounts), due, done)


@st.composite
def histories(draw):
    n_orders = draw(st.integers(min_value=0, max_value=8))
    orders = tuple(
        OrderOutcome(order_id=i, counterparty_id=draw(parties), amount_fen=draw(amounts), settled=draw(st.booleans()),
                     cancelled_by_self=draw(st.booleans()), dispute_lost=draw(st.booleans()))
        for i in range(n_orders)
    )
    return CompanyHistory(
        verification_level=draw(st.sampled_from([0, 1, 2])),
        registered_at=NOW - timedelta(days=draw(st.integers(min_value=0, max_value=3000))),
        orders=orders,
        payments=tuple(draw(st.lists(payments(), max_size=6))),
        deliveries=tuple(draw(st.lists(deliveries(), max_size=6))),
        inspections=tuple(InspectionResult(draw(amounts), draw(st.integers(0, 10_000)))
                          for _ in range(draw(st.integers(0, 3)))),
        ratings=tuple(draw(st.lists(st.integers(1, 5), max_size=6))),
    )


def _score(history: CompanyHistory) -> int | None:
    return score_history(history, NOW).score


def _on_time_order(history: CompanyHistory, counterparty: int, amount: int, as_buyer: bool) -> CompanyHistory:
    due = NOW - timedelta(days=30)
    order = OrderOutcome(order_id=10_000 + len(history.orders), counterparty_id=counterparty, amount_fen=amount,
                         settled=True)
    if as_buyer:
        return dataclasses.replace(history, orders=(*history.orders, order),
                                   payments=(*history.payments, PaymentExperience(counterparty, amount, due, due)))
    return dataclasses.replace(
        history, orders=(*history.orders, order),
        deliveries=(*history.deliveries, DeliveryExperience(counterparty, amount, due, due - timedelta(hours=1))),
        inspections=(*history.inspections, InspectionResult(amount, 0)),
    )


@SETTINGS
@given(histories(), st.data())
def test_paying_later_never_raises_the_score(history, data):
    if not history.payments:
        history = dataclasses.replace(history, payments=(data.draw(payments()),))
    i = data.draw(st.integers(0, len(history.payments) - 1))
    original = history.payments[i]
    delay = timedelta(days=data.draw(st.floats(min_value=0.001, max_value=300, allow_nan=False)))
    later_paid = None if original.paid_at is None else original.paid_at + delay
    if later_paid is not None and later_paid > NOW:
        later_paid = None  # not paid by now: overdue, counted as late until today
    later = dataclasses.replace(original, paid_at=later_paid)
    if original.paid_at is None:  # already unpaid: pay it later than "now" is the same thing
        later = original
    slower = dataclasses.replace(
        history, payments=tuple(later if j == i else p for j, p in enumerate(history.payments)))
    assert exact_points(slower, NOW) <= exact_points(history, NOW)
    before, after = _score(history), _score(slower)
    assert (before is None) == (after is None)
    if before is not None:
        assert after <= before


@SETTINGS
@given(histories(), st.data())
def test_a_lost_dispute_never_raises_the_score(history, data):
    if not history.orders:
        history = dataclasses.replace(history, orders=(OrderOutcome(1, 1, 100, True),))
    i = data.draw(st.integers(0, len(history.orders) - 1))
    lost = dataclasses.replace(history, orders=tuple(dataclasses.replace(o, dispute_lost=True) if j == i else o
                                                     for j, o in enumerate(history.orders)))
    assert exact_points(lost, NOW) <= exact_points(history, NOW)
    before, after = _score(history), _score(lost)
    if before is not None:
        assert after is not None
        assert after <= before


@SETTINGS
@given(histories(), parties, amounts, st.booleans(), st.integers(0, 1))
def test_more_on_time_history_never_lowers_the_score(history, counterparty, amount, as_buyer, with_rating):
    more = _on_time_order(history, counterparty, amount, as_buyer)
    if with_rating:
        more = dataclasses.replace(more, ratings=(*more.ratings, 5))
    assert exact_points(more, NOW) >= exact_points(history, NOW)
    before, after = _score(history), _score(more)
    if before is not None:
        assert after is not None
        assert after >= before


def test_a_lost_dispute_strictly_lowers_a_clean_record():
    history = _good_history()
    lost = dataclasses.replace(history, orders=(dataclasses.replace(history.orders[0], dispute_lost=True),
                                                *history.orders[1:]))
    assert _score(lost) < _score(history)


def test_paying_thirty_days_late_strictly_lowers_the_score():
    history = _good_history()
    late = dataclasses.replace(history, payments=tuple(dataclasses.replace(p, paid_at=p.due_at + timedelta(days=30))
                                                       for p in history.payments))
    assert _score(late) < _score(history)


def _good_history(n: int = 4) -> CompanyHistory:
    due = NOW - timedelta(days=40)
    return CompanyHistory(
        verification_level=1, registered_at=NOW - timedelta(days=700),
        orders=tuple(OrderOutcome(i, 1 + i % 2, 50_000_000, settled=True) for i in range(n)),
        payments=tuple(PaymentExperience(1 + i % 2, 50_000_000, due, due) for i in range(n)),
        ratings=(5, 4, 5),
    )


def test_not_enough_history_is_not_yet_rated_never_a_low_score():
    base = _good_history()
    # two settled orders only
    two = dataclasses.replace(base, orders=base.orders[:2])
    report = score_history(two, NOW)
    assert report.score is None
    assert report.grade is None
    assert report.notes
    assert report.notes[0].params == {"orders": 3, "parties": 2, "has_orders": 2, "has_parties": 2}
    # three orders but all with one counterparty
    one_party = dataclasses.replace(base, orders=tuple(dataclasses.replace(o, counterparty_id=7) for o in base.orders))
    assert score_history(one_party, NOW).score is None
    # unsettled orders do not count
    open_orders = dataclasses.replace(base, orders=tuple(dataclasses.replace(o, settled=False) for o in base.orders))
    assert score_history(open_orders, NOW).score is None
    # a brand-new company with nothing at all
    empty = CompanyHistory(verification_level=0, registered_at=NOW)
    assert score_history(empty, NOW).score is None
    # and the full history is rated, with a good grade
    rated = score_history(base, NOW)
    assert rated.score is not None
    assert rated.grade in ("AAA", "AA", "A")


def test_paydex_needs_three_experiences_from_two_counterparties():
    due = NOW - timedelta(days=10)
    two = [PaymentExperience(1, 100, due, due), PaymentExperience(2, 100, due, due)]
    assert not payment_experiences(two, NOW).qualifies
    three_one_party = [PaymentExperience(1, 100, due, due)] * 3
    assert not payment_experiences(three_one_party, NOW).qualifies
    assert payment_experiences([*two, PaymentExperience(1, 100, due, due)], NOW).qualifies


@pytest.mark.parametrize(("days_late", "index"), [(-45, 100), (-30, 100), (-10, 90), (0, 80), (15, 70), (30, 50),
                                                  (60, 40), (90, 30), (120, 20), (365, 20)])
def test_paydex_curve_prompt_is_eighty(days_late, index):
    assert paydex_index(Fraction(days_late)) == index


def test_paydex_is_weighted_by_amount():
    due = NOW - timedelta(days=100)
    big_on_time = PaymentExperience(1, 9_000, due, due)
    small_late = PaymentExperience(2, 1_000, due, due + timedelta(days=30))  # index 50
    result = payment_experiences([big_on_time, small_late], NOW)
    assert result.index == Fraction(9_000 * 80 + 1_000 * 50, 10_000)  # 77, not the unweighted 65


def test_unpaid_overdue_counts_as_late_until_paid():
    due = NOW - timedelta(days=30)
    assert payment_experiences([PaymentExperience(1, 100, due, None)], NOW).index == 50
    not_due_yet = PaymentExperience(1, 100, NOW + timedelta(days=3), None)
    assert payment_experiences([not_due_yet], NOW).count == 0


def test_factors_explain_every_point():
    report = score_history(_good_history(), NOW)
    total = sum(f.points for f in report.factors)
    assert abs(total - report.score) <= 1  # rounding of each displayed factor only
    codes = {f.code for f in report.factors}
    assert {"verification", "registration_age", "trade_volume", "fulfilment", "ratings", "late_payment",
            "disputes", "cancellations"} <= codes
    assert all(f.explanation for f in report.factors)


def test_grades_cover_the_scale():
    assert [grade_for(s) for s in (100, 90, 89, 80, 70, 60, 50, 40, 30, 20, 19, 0)] == [
        "AAA", "AAA", "AA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "C"]
    assert grade_for(None) is None
    assert set(GRADE_NAMES) == {"AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C"}
    with pytest.raises(ValueError, match="out of range"):
        grade_for(101)


def test_report_rejects_inconsistent_values_and_round_trips():
    with pytest.raises(ValueError, match="out of range"):
        CreditReport(score=120, grade="AAA", source="x", as_of=NOW)
    with pytest.raises(ValueError, match="does not match"):
        CreditReport(score=50, grade="AAA", source="x", as_of=NOW)
    report = score_history(_good_history(), NOW)
    assert CreditReport.from_json(report.to_json()) == report
