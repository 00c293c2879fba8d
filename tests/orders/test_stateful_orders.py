"""Property-based, order level: over-, exact and under-delivery, acceptance, top-ups paid or waived,
disputes opened by either party, answers, proposals accepted, and decisions from the dispute page or the
escrow console — the extended ``ledger-check`` (orders = escrows = ledger) holds after every step, and a
refused step changes nothing."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from market.core.errors import DomainError
from market.extensions import db
from market.orders import disputes, inspection, services
from market.orders.escrow_link import escrow_of
from market.orders.models import TradeOrder
from payments import escrow as E
from payments.check import find_violations
from tests.conftest import _empty_all_tables
from tests.factories import order_in_state
from tests.factories.orders import fund_order, inspect


class OrderMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        _empty_all_tables()

    def _attempt(self, action) -> bool:  # type: ignore[no-untyped-def]
        savepoint = db.session.begin_nested()
        try:
            action()
        except DomainError:
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    @rule(target=orders, delivered=st.sampled_from(["50", "60", "63"]))
    def delivered_order(self, delivered: str) -> int:
        order = order_in_state("funded", quantity="60")
        services.ship_lot(order, order.seller_id, line_id=order.lines[0].id, quantity=Decimal(delivered),
                          transport_ref="SM-1", final=True)
        services.confirm_delivery(order, order.buyer_id, order.lots[0].id, None)
        inspect(order, order.buyer, {"qnet_ar": "5500", "st_d": "0.8"}, quantity=delivered)
        return order.id

    def _order(self, order_id: int) -> TradeOrder:
        return db.session.get(TradeOrder, order_id)

    @rule(order_id=orders)
    def accept(self, order_id: int) -> None:
        order = self._order(order_id)
        self._attempt(lambda: inspection.accept_lot(order, order.buyer_id, order.lots[0].id))

    @rule(order_id=orders)
    def pay_top_up(self, order_id: int) -> None:
        order = self._order(order_id)
        escrow = escrow_of(order)
        if any(lot.topup_fen for lot in order.lots) and escrow.due_fen:
            self._attempt(lambda: fund_order(order))

    @rule(order_id=orders)
    def waive(self, order_id: int) -> None:
        order = self._order(order_id)
        self._attempt(lambda: inspection.waive_top_up(order, order.seller_id, order.lots[0].id))

    @rule(order_id=orders, by_seller=st.booleans())
    def open_dispute(self, order_id: int, by_seller: bool) -> None:
        order = self._order(order_id)
        self._attempt(lambda: disputes.open_dispute(order, order.seller_id if by_seller else order.buyer_id,
                                                    reason="质量与数量存在争议，请平台处理", lot_id=order.lots[0].id))

    @rule(order_id=orders)
    def seller_answers(self, order_id: int) -> None:
        order = self._order(order_id)
        current = disputes.open_dispute_of(order)
        if current is not None:
            self._attempt(lambda: disputes.respond(current, order.seller_id, text="卖方不同意买方的说法，附证据"))

    @rule(order_id=orders, share=st.floats(min_value=0, max_value=1))
    def agree(self, order_id: int, share: float) -> None:
        order = self._order(order_id)
        current = disputes.open_dispute_of(order)
        if current is None:
            return
        payee = int(escrow_of(order).held_fen * share)

        def both() -> None:
            proposal = disputes.propose(current, order.buyer_id, payee_fen=payee, text="和解")
            disputes.accept_proposal(current, order.seller_id, proposal.id)
        self._attempt(both)

    @rule(order_id=orders, share=st.floats(min_value=0, max_value=1), console=st.booleans())
    def decide(self, order_id: int, share: float, console: bool) -> None:
        order = self._order(order_id)
        current = disputes.open_dispute_of(order)
        escrow = escrow_of(order)
        payee = int(escrow.held_fen * share)
        if console:
            self._attempt(lambda: E.decide(escrow, payee, escrow.held_fen - payee, note="平台依据证据作出裁决",
                                           operator_user_id=None))
        elif current is not None:
            self._attempt(lambda: disputes.resolve(current, operator_user_id=None, payee_fen=payee, outcome="split",
                                                   decision="平台依据证据作出裁决"))

    @invariant()
    def everything_agrees(self) -> None:
        assert find_violations() == []

    def teardown(self) -> None:
        db.session.rollback()
        _empty_all_tables()


OrderMachine.TestCase.settings = settings(max_examples=6, stateful_step_count=10, deadline=None,
                                         suppress_health_check=list(HealthCheck))


def test_order_state_machine(app):
    OrderMachine.TestCase("runTest").runTest()
