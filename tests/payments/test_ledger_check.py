"""``jinshang ledger-check`` passes on a healthy ledger and fails, clearly, on corrupted copies."""

from __future__ import annotations

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy import text

from market.extensions import db
from payments import escrow as E
from payments import ledger
from payments.check import find_violations
from payments.ledger import Purpose
from tests.factories import make_funded_escrow


@pytest.fixture
def healthy(app):  # type: ignore[no-untyped-def]
    escrow = make_funded_escrow(500_000, reference="LC-1")
    E.release(escrow, 200_000, milestone_ref="lot-1")
    E.refund(escrow, 100_000, refund_ref="r-1")
    db.session.commit()
    return escrow


def run_check(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["ledger-check"])


def test_passes_on_a_healthy_ledger(app, healthy):
    result = run_check(app)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


@pytest.mark.parametrize(("corruption", "message"), [
    ("UPDATE posting SET amount_fen = amount_fen + 1 WHERE id = (SELECT MIN(id) FROM posting)", "does not balance"),
    ("UPDATE escrow SET released_fen = released_fen - 5", "disagree with the ledger"),
    ("DELETE FROM posting WHERE id = (SELECT MAX(id) FROM posting)", "does not balance"),
])
def test_fails_on_a_corrupted_database(app, healthy, corruption, message):
    db.session.execute(text(corruption))  # raw SQL: the ORM refuses to change postings
    db.session.commit()
    result = run_check(app)
    assert result.exit_code == 1
    assert message in result.output


def test_fails_when_an_escrow_account_goes_below_zero(app, healthy):
    # a forged entry that takes more out of the escrow than it holds (bypassing the services)
    held = E.held_account(healthy)
    revenue = ledger.account(Purpose.PLATFORM_REVENUE, "CNY")
    ledger.post("forged", "x", "release", "CNY", [(held, 900_000), (revenue, -900_000)], escrow_id=healthy.id)
    db.session.commit()
    result = run_check(app)
    assert result.exit_code == 1
    assert "below zero" in result.output
    assert "disagree with the ledger" in result.output


def test_unbalanced_entries_are_refused_before_writing(app):
    acct = ledger.account(Purpose.SUSPENSE, "CNY")
    other = ledger.account(Purpose.PLATFORM_REVENUE, "CNY")
    with pytest.raises(ValueError, match="unbalanced"):
        ledger.post("test", "1", "x", "CNY", [(acct, 100), (other, -99)])
    usd = ledger.account(Purpose.SUSPENSE, "USD")
    from market.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        ledger.post("test", "2", "x", "CNY", [(usd, 100), (other, -100)])
    assert ledger.snapshot() == {}


@pytest.fixture
def bank_world(app):  # type: ignore[no-untyped-def]
    """A bank-funded escrow, a paid payout, a suspense line, a written-off line and a duplicate debit."""
    from payments.payouts import set_bank_account
    from payments.statements import import_statement, write_off
    from tests.factories import make_escrow
    from tests.payments.conftest import run_jobs

    header = "transaction_id,value_date,direction,amount,currency,counterparty_name,counterparty_account,memo\n"
    escrow = make_escrow(100_000, reference="LB-1")
    set_bank_account(escrow.payee_id, account_name="卖方", account_no="62220000111", bank_name="工行")
    import_statement(header + f"B1,2025-03-01,CR,1000.00,CNY,买方,62220000222,{escrow.pay_code}\n"
                     "B2,2025-03-01,DR,5.00,CNY,银行,,手续费\nB3,2025-03-01,CR,9.00,CNY,不明,,\n")
    E.release(escrow, 100_000, milestone_ref="lot")
    db.session.commit()
    run_jobs()
    from payments.models import Payout

    payout = db.session.scalars(sa_select(Payout)).one()
    amount = f"{payout.amount_fen / 100:.2f}"
    import_statement(header + f"B4,2025-03-02,DR,{amount},CNY,卖方,62220000111,{payout.code}\n"
                     f"B5,2025-03-03,DR,{amount},CNY,卖方,62220000111,{payout.code}\n")
    from payments.models import StatementLine

    write_off(db.session.scalar(sa_select(StatementLine.id).where(StatementLine.transaction_id == "B3")),
              "unknown small credit, sender unreachable")
    db.session.commit()
    assert find_violations() == []
    return escrow


@pytest.mark.parametrize(("corruption", "message"), [
    # a line whose booking vanished (simulated by renaming the ledger's reference)
    ("UPDATE journal_entry SET source_ref = 'line:gone' WHERE source_ref = 'line:B2'", "moved 0 fen"),
    # a line cleared without its clearing entry
    ("UPDATE journal_entry SET source_ref = 'x' WHERE source_ref = 'line:B3:written_off'", "nothing took it out"),
    # a duplicate that names no earlier line
    ("UPDATE statement_line SET duplicate_of_id = 999 WHERE transaction_id = 'B5'", "duplicate of no earlier line"),
    # a payout marked sent with no destination
    ("UPDATE payout SET dest_account = ''", "without a destination account"),
    # a payout row that disagrees with the release (a third, independent source)
    ("UPDATE payout SET amount_fen = amount_fen - 1", "seller payouts + fee"),
])
def test_each_new_invariant_fails_on_its_corruption(app, bank_world, corruption, message):
    db.session.execute(text(corruption))
    db.session.commit()
    result = run_check(app)
    assert result.exit_code == 1
    assert message in result.output, result.output
