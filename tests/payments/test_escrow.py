"""Escrow lifecycle: the transition table, fees, refunds, disputes, settlement, auto-release, signals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.core import jobs
from market.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from market.core.money import MAX_FEN
from market.extensions import db
from payments import escrow as E
from payments import ledger, signals
from payments.ledger import JournalEntry, Posting
from payments.models import AutoRelease, Payout
from tests.factories import make_company, make_escrow, make_funded_escrow
from tests.payments.conftest import assert_ledger_ok


def entry_count() -> int:
    return int(ledger.db.session.scalar(select(func.count(JournalEntry.id))) or 0)


def test_partial_then_full_funding_then_release_in_two_lots(app):
    escrow = make_escrow(1_000_000)
    E.record_funding(escrow, 400_000, source="sandbox", source_ref="p1")
    assert escrow.status == "awaiting_funds"
    assert escrow.due_fen == 600_000
    E.record_funding(escrow, 600_000, source="sandbox", source_ref="p2")
    assert escrow.status == "funded"
    first = E.release(escrow, 300_000, milestone_ref="lot-1")
    # 0.5 % of ¥3,000 is ¥15.00 (above the ¥10 minimum)
    assert (first.fee_fen, first.net_fen) == (1_500, 298_500)
    assert escrow.status == "partially_released"
    E.release(escrow, 700_000, milestone_ref="lot-2")
    assert escrow.status == "released"
    assert escrow.held_fen == 0
    assert ledger.held_balance(ledger.find_account("platform_revenue", "CNY")) == 1_500 + 3_500
    payable = ledger.find_account("seller_payable", "CNY", party_id=escrow.payee_id)
    assert ledger.held_balance(payable) == 1_000_000 - 5_000
    assert_ledger_ok()


def test_minimum_fee_applies_to_small_releases(app):
    escrow = make_funded_escrow(50_000)
    result = E.release(escrow, 50_000, milestone_ref="only")
    assert result.fee_fen == app.config["PLATFORM_FEE_MIN_FEN"] == 1_000
    assert result.net_fen == 49_000


def test_overpayment_is_refunded_at_once(app):
    """Finding 8: the buyer's extra is not held (nor shown to the seller as held) until final settlement."""
    escrow = make_escrow(100_000)
    E.record_funding(escrow, 60_000, source="bank_transfer", source_ref="line-0")
    E.record_funding(escrow, 70_000, source="bank_transfer", source_ref="line-1")
    assert escrow.status == "funded"
    assert (escrow.overpaid_fen, escrow.refunded_fen, escrow.held_fen) == (30_000, 30_000, 100_000)
    refund = db.session.scalars(select(Payout)).one()
    assert (refund.kind, refund.amount_fen, refund.party_id) == ("refund", 30_000, escrow.payer_id)
    E.release(escrow, 100_000, milestone_ref="all")
    assert escrow.status == "released"
    assert_ledger_ok()


def test_refund_before_release_and_full_refund_closes(app):
    escrow = make_funded_escrow(100_000)
    E.refund(escrow, 40_000, refund_ref="short-delivery")
    assert escrow.status == "funded"
    assert escrow.held_fen == 60_000
    E.refund(escrow, 60_000, refund_ref="cancelled")
    assert escrow.status == "refunded"
    payouts = ledger.db.session.scalars(select(Payout).order_by(Payout.id)).all()
    assert [(p.kind, p.amount_fen, p.party_id) for p in payouts] == [
        ("refund", 40_000, escrow.payer_id), ("refund", 60_000, escrow.payer_id)]


def test_dispute_freezes_until_operator_splits(app):
    escrow = make_funded_escrow(100_000)
    E.release(escrow, 20_000, milestone_ref="lot-1")
    E.freeze(escrow, "moisture above contract")
    for attempt in (lambda: E.release(escrow, 1_000, milestone_ref="lot-2"),
                    lambda: E.refund(escrow, 1_000, refund_ref="r"),
                    lambda: E.freeze(escrow, "again")):
        with pytest.raises(InvalidTransition):
            attempt()
    with pytest.raises(ValidationFailed):
        E.resolve_dispute(escrow, 50_000, 20_000, resolution_ref="d1")  # must add up to 80 000
    E.resolve_dispute(escrow, 50_000, 30_000, resolution_ref="d1")
    assert escrow.status == "released"
    assert (escrow.released_fen, escrow.refunded_fen, escrow.held_fen) == (70_000, 30_000, 0)
    assert_ledger_ok()


def test_settle_releases_adjusted_amount_and_refunds_the_rest(app):
    escrow = make_funded_escrow(1_000_000)
    E.settle(escrow, 962_345, ref="inspection-1")
    assert escrow.status == "released"
    assert (escrow.released_fen, escrow.refunded_fen) == (962_345, 37_655)
    assert_ledger_ok()


def test_cancel_unfunded_and_partly_funded(app):
    empty = make_escrow(100_000)
    E.cancel_escrow(empty, ref="buyer-cancelled")
    assert empty.status == "cancelled"
    partly = make_escrow(100_000)
    E.record_funding(partly, 10_000, source="sandbox", source_ref="x")
    E.cancel_escrow(partly, ref="buyer-cancelled")
    assert partly.status == "refunded"
    assert partly.refunded_fen == 10_000


@pytest.mark.parametrize("amount", [0, -1, MAX_FEN + 1, 1.5, True, "100"])
def test_bad_amounts_post_nothing(app, amount):
    escrow = make_funded_escrow(100_000)
    before = entry_count()
    for call in (lambda: E.record_funding(escrow, amount, source="sandbox", source_ref="bad"),
                 lambda: E.release(escrow, amount, milestone_ref="bad"),
                 lambda: E.refund(escrow, amount, refund_ref="bad")):
        with pytest.raises(ValidationFailed):
            call()
    assert entry_count() == before
    with pytest.raises(ValidationFailed):
        make_escrow(amount)


def test_rejections_post_nothing(app):
    escrow = make_funded_escrow(100_000)
    before = entry_count()
    with pytest.raises(ValidationFailed):
        E.release(escrow, 100_001, milestone_ref="too-much")  # beyond funded
    with pytest.raises(ValidationFailed):
        E.record_funding(escrow, 10, source="sandbox", source_ref="usd", currency="USD")  # currency mismatch
    E.release(escrow, 60_000, milestone_ref="lot-1")
    after_release = entry_count()
    with pytest.raises(Conflict):
        E.release(escrow, 10_000, milestone_ref="lot-1")  # double release
    E.release(escrow, 40_000, milestone_ref="lot-2")
    with pytest.raises(InvalidTransition):
        E.refund(escrow, 1, refund_ref="late")  # refund after release
    with pytest.raises(InvalidTransition):
        E.record_funding(escrow, 10, source="sandbox", source_ref="late")  # closed escrows take no money
    assert entry_count() == after_release + 1
    assert before < after_release
    with pytest.raises(InvalidTransition):
        E.release(make_escrow(100), 50, milestone_ref="unfunded")


def test_open_validates_parties_reference_and_currency(app):
    a, b = make_company(), make_company()
    with pytest.raises(ValidationFailed):
        E.open_escrow("X-1", a.id, a.id, 100)
    with pytest.raises(ValidationFailed):
        E.open_escrow("X-1", a.id, b.id, 100, "XYZ")
    with pytest.raises(ValidationFailed):
        E.open_escrow("", a.id, b.id, 100)
    E.open_escrow("X-1", a.id, b.id, 100)
    with pytest.raises(Conflict):
        E.open_escrow("X-1", a.id, b.id, 100)
    with pytest.raises(NotFound):
        E.get_escrow("nope")
    assert E.get_escrow("X-1").pay_code.startswith("JS")


def test_signals_are_sent_with_the_escrow(app):
    seen: list[tuple[str, dict]] = []
    receivers = {name: (lambda sender, _n=name, **kw: seen.append((_n, {"ref": sender.reference, **kw})))
                 for name in ("escrow_funded", "escrow_released", "escrow_refunded", "escrow_frozen")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    try:
        escrow = make_escrow(100_000, reference="SIG-1")
        E.record_funding(escrow, 50_000, source="sandbox", source_ref="a")
        E.record_funding(escrow, 50_000, source="sandbox", source_ref="b")
        E.release(escrow, 30_000, milestone_ref="lot")
        E.refund(escrow, 10_000, refund_ref="r")
        E.freeze(escrow, "quality")
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver)
    assert [name for name, _ in seen] == ["escrow_funded", "escrow_released", "escrow_refunded", "escrow_frozen"]
    assert seen[0][1] == {"ref": "SIG-1", "amount_fen": 100_000}
    assert seen[1][1]["milestone_ref"] == "lot"
    assert seen[1][1]["final"] is False


def test_auto_release_runs_when_due_and_not_after_acceptance_or_dispute(app):
    due, accepted, disputed = (make_funded_escrow(100_000) for _ in range(3))
    for escrow in (due, accepted, disputed):
        E.schedule_auto_release(escrow, "lot-1", 100_000, delay=timedelta(0))
    assert E.schedule_auto_release(due, "lot-1", 100_000, delay=timedelta(0)).status == "armed"  # re-arm: one row
    E.release(accepted, 100_000, milestone_ref="lot-1")
    E.freeze(disputed, "short weight")
    ledger.db.session.commit()
    jobs.run_pending()
    assert due.status == "released"
    assert accepted.released_fen == 100_000  # released once, by acceptance
    assert disputed.status == "frozen"
    assert disputed.released_fen == 0
    rows = {r.escrow_id: r.status for r in ledger.db.session.scalars(select(AutoRelease))}
    assert rows == {due.id: "done", accepted.id: "done", disputed.id: "cancelled"}
    assert_ledger_ok()


def test_auto_release_default_delay_from_config(app):
    escrow = make_funded_escrow(100_000)
    row = E.schedule_auto_release(escrow, "lot-1", 100_000)
    days = app.config["ESCROW_AUTO_RELEASE_DAYS"]
    assert timedelta(days=days) - timedelta(minutes=1) < row.due_at - row.created_at < timedelta(days=days, minutes=1)
    ledger.db.session.commit()
    assert jobs.run_pending() == 0  # not due yet
    assert escrow.status == "funded"


def test_postings_are_immutable(app):
    make_funded_escrow(100_000)
    posting = ledger.db.session.scalars(select(Posting)).first()
    posting.amount_fen = 1
    with pytest.raises(RuntimeError, match="immutable"):
        ledger.db.session.flush()
