"""Property-based: random sequences of fund / release / refund / dispute / resolve (from the console or the
service) / settle / top-up and waive / over- and partial payments by webhook and by bank statement /
duplicate webhooks, re-imported statement lines and duplicate debits / payouts executed and confirmed keep
every ledger invariant (the extended ``ledger-check``) after every step, and a refused operation posts
nothing. Runs on whichever database the suite runs on (SQLite or PostgreSQL). The order-level half
(disputes decided from either page, seller answers, over- and under-delivery) is
``tests/orders/test_stateful_orders.py``."""

from __future__ import annotations

from typing import Any

from flask import current_app
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from market.core.errors import DomainError
from market.extensions import db
from payments import escrow as E
from payments import ledger
from payments.check import find_violations
from payments.ledger import JournalEntry
from payments.models import Escrow, Payout
from payments.payouts import set_bank_account
from payments.providers.sandbox import SandboxProvider
from payments.statements import import_statement
from payments.webhooks import receive
from tests.conftest import _empty_all_tables
from tests.payments.conftest import run_jobs

HEADER = "transaction_id,value_date,direction,amount,currency,counterparty_name,counterparty_account,memo\n"

amounts = st.one_of(st.integers(min_value=1, max_value=400_000), st.sampled_from([0, -5, 10**16]))


class EscrowMachine(RuleBasedStateMachine):
    escrows = Bundle("escrows")

    def __init__(self) -> None:
        super().__init__()
        _empty_all_tables()
        self.provider = SandboxProvider.from_config(current_app.config)
        self.delivered: list[dict[str, Any]] = []
        self.received_fen = 0  # money the rail reported and we accepted (into an escrow or, if closed, suspense)
        self.lines: list[str] = []  # every statement line imported, as CSV
        self.bank_fen = 0  # signed sum of the bank lines: what the supervised account saw
        self.n = 0
        set_bank_account(2, account_name="卖方", account_no="62220000222", bank_name="工行")
        set_bank_account(1, account_name="买方", account_no="62220000111", bank_name="工行")

    def _next(self) -> int:
        self.n += 1
        return self.n

    def _entries(self) -> int:
        return int(db.session.scalar(select(func.count(JournalEntry.id))) or 0)

    def _attempt(self, action) -> bool:  # type: ignore[no-untyped-def]
        """Run a service call; on a domain error check that nothing was posted and roll it back."""
        before = self._entries()
        savepoint = db.session.begin_nested()
        try:
            action()
        except DomainError:
            savepoint.rollback()
            assert self._entries() == before
            return False
        savepoint.commit()
        return True

    @rule(target=escrows, amount=st.integers(min_value=1, max_value=1_000_000))
    def open(self, amount: int) -> str:
        ref = f"H-{self._next()}"
        E.open_escrow(ref, 1, 2, amount)
        return ref

    @rule(ref=escrows, amount=amounts)
    def fund_by_webhook(self, ref: str, amount: int) -> None:
        event = self.provider.event("payin.succeeded", reference=ref, amount_fen=amount, currency="CNY",
                                    object_ref=f"pay-{self._next()}")
        if self._attempt(lambda: receive("sandbox", *self.provider.signed(event))):
            self.delivered.append(event)
            self.received_fen += amount

    @rule(data=st.data())
    def duplicate_webhook(self, data: st.DataObject) -> None:
        if not self.delivered:
            return
        event = data.draw(st.sampled_from(self.delivered))
        before = self._entries()
        assert receive("sandbox", *self.provider.signed(event)) == ["duplicate"]
        assert self._entries() == before

    @rule(ref=escrows, amount=amounts)
    def release(self, ref: str, amount: int) -> None:
        self._attempt(lambda: E.release(E.get_escrow(ref), amount, milestone_ref=f"m-{self._next()}"))

    @rule(ref=escrows, amount=amounts)
    def refund(self, ref: str, amount: int) -> None:
        self._attempt(lambda: E.refund(E.get_escrow(ref), amount, refund_ref=f"r-{self._next()}"))

    @rule(ref=escrows)
    def dispute(self, ref: str) -> None:
        self._attempt(lambda: E.freeze(E.get_escrow(ref), "quality dispute"))

    @rule(ref=escrows, share=st.floats(min_value=0, max_value=1))
    def resolve(self, ref: str, share: float) -> None:
        escrow = E.get_escrow(ref)
        payee = int(escrow.held_fen * share)
        self._attempt(lambda: E.resolve_dispute(escrow, payee, escrow.held_fen - payee,
                                                resolution_ref=f"d-{self._next()}"))

    @rule(ref=escrows, share=st.floats(min_value=0, max_value=1))
    def settle(self, ref: str, share: float) -> None:
        escrow = E.get_escrow(ref)
        self._attempt(lambda: E.settle(escrow, int(escrow.held_fen * share), ref=f"s-{self._next()}"))

    def _import(self, line: str) -> None:
        import_statement(HEADER + line + "\n")
        self.lines.append(line)
        amount = int(line.split(",")[3].replace(".", ""))
        self.bank_fen += amount if line.split(",")[2] == "CR" else -amount

    @rule(ref=escrows, amount=st.integers(min_value=1, max_value=400_000), by_code=st.booleans())
    def fund_by_statement(self, ref: str, amount: int, by_code: bool) -> None:
        """A partial, exact or over-payment by bank transfer (without a code: matched by the payer's account)."""
        escrow = E.get_escrow(ref)
        memo = escrow.pay_code if by_code else "货款"
        self._import(f"L{self._next()},2025-03-01,CR,{amount / 100:.2f},CNY,买方,62220000111,{memo}")

    @rule(data=st.data())
    def reimport_a_line(self, data: st.DataObject) -> None:
        if not self.lines:
            return
        before = self._entries()
        counts = import_statement(HEADER + data.draw(st.sampled_from(self.lines)) + "\n")
        assert counts["already_imported"] == 1
        assert self._entries() == before

    @rule()
    def pay_out(self) -> None:
        """Run the payout jobs; the bank's debit lines confirm what was sent by bank transfer."""
        db.session.commit()
        run_jobs()
        for payout in db.session.scalars(select(Payout).where(Payout.status == "sent",
                                                              Payout.provider == "bank_transfer")):
            self._import(f"D{self._next()},2025-03-02,DR,{payout.amount_fen / 100:.2f},CNY,{payout.dest_name},"
                         f"{payout.dest_account},{payout.code}")

    @rule(data=st.data())
    def duplicate_debit(self, data: st.DataObject) -> None:
        paid = list(db.session.scalars(select(Payout).where(Payout.status == "paid",
                                                            Payout.provider == "bank_transfer")))
        if paid:
            payout = data.draw(st.sampled_from(paid))
            self._import(f"X{self._next()},2025-03-03,DR,{payout.amount_fen / 100:.2f},CNY,x,1,{payout.code}")

    @rule(ref=escrows, share=st.floats(min_value=0, max_value=1))
    def decide_from_console(self, ref: str, share: float) -> None:
        escrow = E.get_escrow(ref)
        payee = int(escrow.held_fen * share)
        self._attempt(lambda: E.decide(escrow, payee, escrow.held_fen - payee, note="console decision",
                                       operator_user_id=None))

    @rule(ref=escrows, amount=st.integers(min_value=1, max_value=200_000))
    def top_up(self, ref: str, amount: int) -> None:
        self._attempt(lambda: E.request_top_up(E.get_escrow(ref), amount, ref=f"t-{self._next()}"))

    @rule(ref=escrows)
    def waive(self, ref: str) -> None:
        escrow = E.get_escrow(ref)
        self._attempt(lambda: E.waive_top_up(escrow, escrow.due_fen, ref=f"w-{self._next()}"))

    @invariant()
    def ledger_invariants_hold(self) -> None:
        assert find_violations() == []
        clearing = ledger.find_account("provider_clearing", "CNY", provider="sandbox")
        paid_out = sum(p.amount_fen for p in db.session.scalars(select(Payout).where(
            Payout.status == "paid", Payout.provider == "sandbox")))
        assert ledger.held_balance(clearing) == self.received_fen - paid_out
        bank = ledger.find_account("provider_clearing", "CNY", provider="bank_transfer")
        assert ledger.held_balance(bank) == self.bank_fen
        for escrow in db.session.scalars(select(Escrow)):
            assert escrow.held_fen >= 0
            if escrow.status in ("released", "refunded", "cancelled"):
                assert escrow.held_fen == 0

    def teardown(self) -> None:
        db.session.rollback()
        _empty_all_tables()


EscrowMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=20, deadline=None,
                                          suppress_health_check=list(HealthCheck))


def test_escrow_state_machine(app):
    EscrowMachine.TestCase("runTest").runTest()
