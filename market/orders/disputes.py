"""Disputes: a party objects (with evidence files), the escrow freezes, an operator decides the split.

The decision records which party lost (``outcome``, ``losing_company_id``) for the credit hook.
Evidence is stored under ``UPLOAD_DIR/disputes/<order id>/`` with random names; only the parties
and platform staff can download it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from market.core.audit import record
from market.core.errors import InvalidTransition, NotFound, ValidationFailed
from market.core.jobs import enqueue
from market.core.notify import notify_company
from market.core.timeutil import utcnow
from market.core.transitions import Lifecycle
from market.core.uploads import write_upload
from market.extensions import db
from market.orders import escrow_link
from market.orders.lifecycle import BUYER, LOT, OPERATOR, SELLER, party_of, transition
from market.orders.models import Dispute, TradeOrder
from market.orders.services import get_lot

DISPUTE = Lifecycle("dispute", Dispute, {("open", "resolved"): {OPERATOR}})
ALLOWED_TYPES = {".pdf": b"%PDF", ".png": b"\x89PNG", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}
MAX_FILES = 5
OUTCOMES = ("buyer_won", "seller_won", "split")


def _evidence_dir(order_id: int) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "disputes" / str(order_id)


def _check_files(files: list[FileStorage]) -> list[tuple[FileStorage, str, bytes]]:
    """Validate before writing anything: type by extension AND magic bytes, size limit, count."""
    files = [f for f in files if f and f.filename]
    if len(files) > MAX_FILES:
        raise ValidationFailed("At most five files.", field_errors={"evidence": "At most five files."})
    checked = []
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    for upload in files:
        suffix = Path(upload.filename or "").suffix.lower()
        data = upload.read(limit + 1)
        if suffix not in ALLOWED_TYPES or not data.startswith(ALLOWED_TYPES[suffix]):
            raise ValidationFailed("Evidence must be PDF, PNG or JPEG files.",
                                   field_errors={"evidence": "Evidence must be PDF, PNG or JPEG files."})
        if len(data) > limit:
            raise ValidationFailed("A file is too large.", field_errors={"evidence": "A file is too large."})
        checked.append((upload, suffix, data))
    return checked


def open_dispute(order: TradeOrder, company_id: int, *, reason: str, lot_id: Any = None,
                 claimed_fen: int | None = None, files: list[FileStorage] | None = None) -> Dispute:
    """The buyer or seller disputes the delivery or an inspection; the escrow is frozen."""
    party = party_of(order, company_id)
    if party not in (BUYER, SELLER):
        raise NotFound("Not found")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed("Describe the problem (at least 10 characters).",
                               field_errors={"reason": "Describe the problem (at least 10 characters)."})
    lot = get_lot(order, lot_id) if lot_id not in (None, "") else None
    if lot is not None and lot.state in ("accepted", "rejected"):
        raise InvalidTransition("This lot was already accepted.")
    if claimed_fen is not None and not 0 <= claimed_fen <= order.total_fen:
        raise ValidationFailed("The claimed amount must be between zero and the order total.",
                               field_errors={"claimed_fen": "Between zero and the order total."})
    checked = _check_files(files or [])
    transition(order, "disputed", party=party, actor_company_id=company_id, note=reason[:300])
    dispute = Dispute(order_id=order.id, lot_id=lot.id if lot else None, opened_by_company_id=company_id,
                      reason=reason[:4000], claimed_fen=claimed_fen, opened_at=utcnow(), evidence=[])
    db.session.add(dispute)
    db.session.flush()
    if lot is not None and lot.state == "inspected":
        LOT.move(lot, "disputed", party=party, actor_company_id=company_id)
    escrow_link.freeze_for(order, f"#{dispute.id}: {reason[:200]}")  # the dispute and its reason, in no fixed language
    folder = _evidence_dir(order.id)
    evidence = []
    for upload, suffix, data in checked:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{dispute.id}-{secrets.token_hex(8)}{suffix}"
        write_upload(folder / name, data)
        evidence.append({"file": name, "original": (upload.filename or "")[:120], "size": len(data),
                         "by": company_id})
    dispute.evidence = evidence
    record("dispute.open", "dispute", dispute.id, actor_company_id=company_id,
           after={"order": order.number, "lot": lot.seq if lot else None, "files": len(evidence)})
    db.session.flush()
    return dispute


def evidence_path(order: TradeOrder, name: str) -> Path:
    """The stored file for an evidence name listed on one of the order's disputes (NotFound otherwise)."""
    for dispute in order.disputes:
        if any(item["file"] == name for item in dispute.evidence):
            path = _evidence_dir(order.id) / name
            if path.is_file():
                return path
    raise NotFound("Not found")


def open_disputes() -> list[Dispute]:
    return list(db.session.scalars(select(Dispute).where(Dispute.status == "open").order_by(Dispute.opened_at)))


def resolve(dispute: Dispute, *, operator_user_id: int, payee_fen: int, outcome: str, decision: str) -> Dispute:
    """The operator splits what the escrow holds: ``payee_fen`` to the seller, the rest back to the buyer."""
    if dispute.status != "open":
        raise InvalidTransition("This dispute is already decided.")
    order = dispute.order
    held = escrow_link.held_fen(order)
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "Choose the outcome."
    if not 0 <= payee_fen <= held:
        errors["payee_fen"] = "Between zero and what the escrow holds."
    decision = (decision or "").strip()
    if len(decision) < 10:
        errors["decision"] = "Explain the decision (at least 10 characters)."
    if errors:
        raise ValidationFailed("Please check the decision.", field_errors=errors)
    DISPUTE.move(dispute, "resolved", party=OPERATOR, audit_row=False, resolved_at=utcnow(),
                 resolved_by_user_id=operator_user_id)  # audited with the split below
    escrow_link.resolve_for(order, payee_fen, dispute.id)
    loser = {"buyer_won": order.seller_id, "seller_won": order.buyer_id}.get(outcome)
    dispute.outcome, dispute.losing_company_id, dispute.decision = outcome, loser, decision[:4000]
    dispute.payee_fen, dispute.payer_fen = payee_fen, held - payee_fen
    for lot in order.lots:
        if lot.state not in ("accepted", "rejected"):
            LOT.move(lot, "decided", party=OPERATOR)
    order.settled_fen = sum(lot.released_fen for lot in order.lots) + payee_fen
    record("dispute.resolve", "dispute", dispute.id, after={"outcome": outcome, "payee_fen": payee_fen,
                                                           "payer_fen": held - payee_fen})
    transition(order, "settled", party=OPERATOR, actor_company_id=None, note=decision[:300])
    enqueue("orders.close", delay=timedelta(days=current_app.config.get("ORDER_CLOSE_DAYS", 7)), order_id=order.id)
    for company_id in (order.buyer_id, order.seller_id):
        notify_company(company_id, "dispute.resolved", _l("Order %(number)s: the dispute is decided",
                                                          number=order.number), decision[:500])
    db.session.flush()
    return dispute
