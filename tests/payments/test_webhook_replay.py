"""1,000 webhook events delivered in order, then shuffled with 30 % duplicates: the same final ledger,
escrow states and payout states. Includes payout.failed/payout.paid pairs whose order flips."""

from __future__ import annotations

import random
from typing import Any

from flask import current_app
from sqlalchemy import select

from market.extensions import db
from payments import escrow as E
from payments import ledger
from payments.models import Escrow, Payout
from payments.providers.sandbox import SandboxProvider
from payments.webhooks import receive
from tests.conftest import _empty_all_tables
from tests.payments.conftest import assert_ledger_ok

FUNDED_ESCROWS = 220
PAID_ESCROWS = 60


def build_world(seed: int = 7) -> list[dict[str, Any]]:
    """Escrows and payouts to talk about, and exactly 1,000 events (deterministic ids and contents)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []

    def event(kind: str, **data: Any) -> None:
        events.append({"id": f"evt-{len(events):04d}", "type": kind, "created": 0, "data": data})

    for i in range(PAID_ESCROWS):  # already funded and released/refunded: their payouts get confirmed
        escrow = E.open_escrow(f"P-{i:03d}", 1000 + i, 5000 + i, 100_000)
        E.record_funding(escrow, 100_000, source="sandbox", source_ref=f"pre-{i}")
        E.release(escrow, 70_000, milestone_ref="lot")
        E.refund(escrow, 30_000, refund_ref="rest")
    for i in range(FUNDED_ESCROWS):
        E.open_escrow(f"F-{i:03d}", 3000 + i, 7000 + i, rng.randrange(10_000, 2_000_000))
    db.session.flush()
    for payout in db.session.scalars(select(Payout).order_by(Payout.id)):
        kind = "payout.paid" if payout.kind == "payout" else "refund.succeeded"
        if payout.kind == "payout":  # a failure notice that may arrive before or after the success
            event("payout.failed", object_ref=f"po-{payout.business_ref}", payout_id=payout.id,
                  amount_fen=payout.amount_fen, currency="CNY", reason="bank timeout")
        event(kind, object_ref=f"po-{payout.business_ref}", payout_id=payout.id, amount_fen=payout.amount_fen,
              currency="CNY")
    while len(events) < 1000:
        escrow = db.session.scalar(select(Escrow).where(Escrow.reference == f"F-{rng.randrange(FUNDED_ESCROWS):03d}"))
        event("payin.succeeded", reference=escrow.reference, amount_fen=rng.randrange(1, escrow.amount_fen // 2 + 2),
              currency="CNY", object_ref=f"pay-{len(events)}")
    db.session.commit()
    return events


def deliver(events: list[dict[str, Any]]) -> None:
    provider = SandboxProvider.from_config(current_app.config)
    for n, event in enumerate(events, start=1):
        receive("sandbox", *provider.signed(event))
        if n % 100 == 0:
            db.session.commit()
    db.session.commit()


def final_state() -> dict[str, Any]:
    refs = dict(db.session.execute(select(Escrow.id, Escrow.reference)).all())
    balances = {}
    for key, total in ledger.snapshot().items():
        for escrow_id, ref in refs.items():
            key = key.replace(f"escrow={escrow_id}", f"escrow={ref}") if key.endswith(f"escrow={escrow_id}") else key
        balances[key] = total
    escrows = {e.reference: (e.status, e.funded_fen, e.released_fen, e.refunded_fen)
               for e in db.session.scalars(select(Escrow))}
    # over-payments are refunded as they arrive, so which payment crossed the amount (and names the refund)
    # depends on the order of delivery; what was refunded per escrow does not (``escrows`` above)
    payouts = {p.business_ref: p.status for p in db.session.scalars(select(Payout))
               if "/refund/overpaid/" not in p.business_ref}
    return {"balances": balances, "escrows": escrows, "payouts": payouts}


def test_shuffled_replay_with_duplicates_matches_in_order_delivery(app):
    events = build_world()
    assert len(events) == 1000
    deliver(events)
    in_order = final_state()
    assert_ledger_ok()

    _empty_all_tables()
    events = build_world()
    rng = random.Random(2024)
    stream = events + rng.sample(events, k=300)  # 30 % duplicates
    rng.shuffle(stream)
    deliver(stream)
    assert final_state() == in_order
    assert_ledger_ok()
    assert sum(1 for status in in_order["escrows"].values() if status[0] == "funded") > 50
    assert set(in_order["payouts"].values()) == {"paid"}
