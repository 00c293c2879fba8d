"""``jinshang ledger-check`` passes on a healthy ledger and fails, clearly, on corrupted copies."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from market.extensions import db
from payments import escrow as E
from payments import ledger
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
