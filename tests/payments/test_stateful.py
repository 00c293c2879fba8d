"""Property-based: random sequences of fund / release / refund / dispute / resolve / settle /
duplicate-webhook operations keep every ledger invariant after every step, and a refused operation
posts nothing. Runs on whichever database the suite runs on (SQLite or PostgreSQL)."""

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
from payments.models import Escrow
from payments.providers.sandbox import SandboxProvider
from payments.webhooks import receive
from tests.conftest import _empty_all_tables

amounts = st.one_of(st.integers(min_value=1, max_value=400_000), st.sampled_from([0, -5, 10**16]))


class EscrowMachine(RuleBasedStateMachine):
    escrows = Bundle("escrows")

    def __init__(self) -> None:
        super().__init__()
        _empty_all_tables()
        self.provider = SandboxProvider.from_config(current_app.config)
        self.delivered: list[dict[str, Any]] = []
        self.received_fen = 0  # money the rail reported and we accepted (into an escrow or, if closed, suspense)
        self.n = 0

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

    @invariant()
    def ledger_invariants_hold(self) -> None:
        assert find_violations() == []
        clearing = ledger.find_account("provider_clearing", "CNY", provider="sandbox")
        assert ledger.held_balance(clearing) == self.received_fen
        funded = sum(e.funded_fen for e in db.session.scalars(select(Escrow)))
        assert funded + ledger.held_balance(ledger.find_account("suspense", "CNY")) == self.received_fen
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
