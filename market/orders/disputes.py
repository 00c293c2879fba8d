"""Disputes: a party objects (with evidence files), the escrow freezes; the other party answers (text and
evidence) by a deadline, with a reminder the day before; either party may propose a settlement the other
accepts; an operator decides whatever stays open. Every decision goes through :func:`_decide`, so the
order, the dispute, the escrow and the ledger move together in one transaction.

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
from market.core.jobs import enqueue, handler
from market.core.notify import notify_company
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.core.uploads import check_pdf, clean_filename, reencode_image, write_upload
from market.extensions import db
from market.orders import escrow_link
from market.orders.lifecycle import BUYER, LOT, OPERATOR, SELLER, SYSTEM, announce, party_of, transition
from market.orders.models import Dispute, DisputeMessage, TradeOrder
from market.orders.services import get_lot

# an operator decides; SYSTEM carries out a settlement both parties agreed (the service checks who accepts)
DISPUTE = Lifecycle("dispute", Dispute, {("open", "resolved"): {OPERATOR, SYSTEM}})
PROPOSAL = Lifecycle("dispute_proposal", DisputeMessage, {("open", "accepted"): {BUYER, SELLER},
                                                          ("open", "superseded"): {ANYONE}})
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
        if suffix == ".pdf":
            data = check_pdf(data, "evidence")
        else:  # decoded and written again: what is kept is our encoder's output
            data, _type, extension = reencode_image(data, "evidence")
            suffix = "." + extension
        clean_filename(upload.filename, "evidence")  # refuses disguised (bidi) names
        checked.append((upload, suffix, data))
    return checked


def open_dispute(order: TradeOrder, company_id: int, *, reason: str, lot_id: Any = None,
                 claimed_fen: int | None = None, files: list[FileStorage] | None = None) -> Dispute:
    """The buyer or seller disputes the delivery or an inspection; the escrow is frozen."""
    party = party_of(order, company_id)
    if party not in (BUYER, SELLER):
        raise NotFound("Not found")
    escrow_link.lock_for(order)
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
    dispute.evidence = evidence = _store(order, dispute, checked, company_id)
    days = int(current_app.config.get("DISPUTE_RESPONSE_DAYS", 5))
    dispute.respond_by = utcnow() + timedelta(days=days)
    enqueue("orders.dispute_reminder", delay=timedelta(days=max(days - 1, 0)), dispute_id=dispute.id)
    record("dispute.open", "dispute", dispute.id, actor_company_id=company_id,
           after={"order": order.number, "lot": lot.seq if lot else None, "files": len(evidence)})
    db.session.flush()
    return dispute


def _store(order: TradeOrder, dispute: Dispute, checked: list[tuple[FileStorage, str, bytes]],
           company_id: int) -> list[dict[str, Any]]:
    folder = _evidence_dir(order.id)
    evidence = []
    for upload, suffix, data in checked:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{dispute.id}-{secrets.token_hex(8)}{suffix}"
        write_upload(folder / name, data)
        evidence.append({"file": name, "original": clean_filename(upload.filename, "evidence")[:120],
                         "size": len(data),
                         "by": company_id})
    return evidence


def evidence_path(order: TradeOrder, name: str) -> Path:
    """The stored file for an evidence name listed on one of the order's disputes (NotFound otherwise)."""
    for dispute in order.disputes:
        files = list(dispute.evidence) + [item for message in dispute.messages for item in message.evidence]
        if any(item["file"] == name for item in files):
            path = _evidence_dir(order.id) / name
            if path.is_file():
                return path
    raise NotFound("Not found")


def open_disputes() -> list[Dispute]:
    return list(db.session.scalars(select(Dispute).where(Dispute.status == "open").order_by(Dispute.opened_at)))


def open_dispute_of(order: TradeOrder) -> Dispute | None:
    return next((d for d in order.disputes if d.status == "open"), None)


def _open_for_party(dispute: Dispute, company_id: int) -> str:
    party = party_of(dispute.order, company_id)
    if party not in (BUYER, SELLER):
        raise NotFound("Not found")
    if dispute.status != "open":
        raise InvalidTransition("This dispute is already decided.")
    return party


def respond(dispute: Dispute, company_id: int, *, text: str, files: list[FileStorage] | None = None) -> DisputeMessage:
    """A party answers (typically the seller): text and evidence files, told to the other party."""
    party = _open_for_party(dispute, company_id)
    text = (text or "").strip()
    if len(text) < 10:
        raise ValidationFailed("Write your answer (at least 10 characters).",
                               field_errors={"text": "At least 10 characters."})
    checked = _check_files(files or [])
    message = DisputeMessage(dispute_id=dispute.id, company_id=company_id, kind="response", body=text[:4000],
                             evidence=[], status="")
    db.session.add(message)
    db.session.flush()
    message.evidence = _store(dispute.order, dispute, checked, company_id)
    record("dispute.respond", "dispute", dispute.id, actor_company_id=company_id,
           after={"files": len(message.evidence)})
    announce(dispute.order, "dispute_response", note=text[:300], to=(SELLER if party == BUYER else BUYER,))
    db.session.flush()
    return message


def propose(dispute: Dispute, company_id: int, *, payee_fen: int, text: str) -> DisputeMessage:
    """A party proposes a split of what the escrow holds; an earlier open proposal is superseded."""
    party = _open_for_party(dispute, company_id)
    held = escrow_link.held_fen(dispute.order)
    if isinstance(payee_fen, bool) or not isinstance(payee_fen, int) or not 0 <= payee_fen <= held:
        raise ValidationFailed("Between zero and what the escrow holds.",
                               field_errors={"payee": "Between zero and what the escrow holds."})
    for earlier in dispute.messages:
        if earlier.kind == "proposal" and earlier.status == "open":
            PROPOSAL.move(earlier, "superseded", audit_row=False)
    message = DisputeMessage(dispute_id=dispute.id, company_id=company_id, kind="proposal",
                             body=(text or "").strip()[:4000], payee_fen=payee_fen, evidence=[], status="open")
    db.session.add(message)
    db.session.flush()
    record("dispute.propose", "dispute", dispute.id, actor_company_id=company_id, after={"payee_fen": payee_fen})
    announce(dispute.order, "settlement_proposed", note=f"{payee_fen / 100:.2f}",
             to=(SELLER if party == BUYER else BUYER,))
    return message


def accept_proposal(dispute: Dispute, company_id: int, message_id: object) -> Dispute:
    """The other party accepts an open proposal: the dispute is decided on it, like an operator's split."""
    party = _open_for_party(dispute, company_id)
    message = next((m for m in dispute.messages if str(m.id) == str(message_id) and m.kind == "proposal"), None)
    if message is None:
        raise NotFound("Not found")
    if message.company_id == company_id:
        raise InvalidTransition("The other party accepts a proposal, not the one who made it.")
    PROPOSAL.move(message, "accepted", party=party, actor_company_id=company_id)
    held = escrow_link.held_fen(dispute.order)
    payee = message.payee_fen or 0
    outcome = "seller_won" if payee == held else "buyer_won" if payee == 0 else "split"
    return _decide(dispute, party=SYSTEM, user_id=None, payee_fen=payee, outcome=outcome,
                   decision=f"Settled by agreement (proposal #{message.id}). {message.body}"[:4000])


@handler("orders.dispute_reminder")
def remind(dispute_id: int) -> None:
    """The day before the deadline: remind the party that has not answered (idempotent)."""
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or dispute.status != "open":
        return
    order = dispute.order
    other = order.seller_id if dispute.opened_by_company_id == order.buyer_id else order.buyer_id
    if any(m.company_id == other for m in dispute.messages):
        return
    announce(order, "dispute_response", note=f"respond by {dispute.respond_by:%Y-%m-%d}" if dispute.respond_by
             else None, to=(SELLER if other == order.seller_id else BUYER,))


def resolve(dispute: Dispute, *, operator_user_id: int | None, payee_fen: int, outcome: str,
            decision: str) -> Dispute:
    """The operator splits what the escrow holds: ``payee_fen`` to the seller, the rest back to the buyer."""
    return _decide(dispute, party=OPERATOR, user_id=operator_user_id, payee_fen=payee_fen, outcome=outcome,
                   decision=decision)


def _decide(dispute: Dispute, *, party: str, user_id: int | None, payee_fen: int, outcome: str,
            decision: str) -> Dispute:
    """The one path for every decision: dispute, escrow split (ledger), lots and order, in this transaction."""
    if dispute.status != "open":
        raise InvalidTransition("This dispute is already decided.")
    order = dispute.order
    escrow_link.lock_for(order)
    held = escrow_link.held_fen(order)
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "Choose the outcome."
    if not 0 <= payee_fen <= held:
        errors["payee"] = "Between zero and what the escrow holds."
    decision = (decision or "").strip()
    if len(decision) < 10:
        errors["decision"] = "Explain the decision (at least 10 characters)."
    if errors:
        raise ValidationFailed("Please check the decision.", field_errors=errors)
    DISPUTE.move(dispute, "resolved", party=party, audit_row=False, resolved_at=utcnow(),
                 resolved_by_user_id=user_id)  # audited with the split below
    escrow_link.resolve_for(order, payee_fen, dispute.id)
    loser = {"buyer_won": order.seller_id, "seller_won": order.buyer_id}.get(outcome)
    dispute.outcome, dispute.losing_company_id, dispute.decision = outcome, loser, decision[:4000]
    dispute.payee_fen, dispute.payer_fen = payee_fen, held - payee_fen
    for lot in order.lots:
        if lot.state not in ("accepted", "rejected"):
            LOT.move(lot, "decided", party=OPERATOR)  # decided for the lot, by the operator or by agreement
    order.settled_fen = sum(lot.released_fen for lot in order.lots) + payee_fen
    record("dispute.resolve", "dispute", dispute.id, after={"outcome": outcome, "payee_fen": payee_fen,
                                                           "payer_fen": held - payee_fen})
    transition(order, "settled", party=OPERATOR if party == OPERATOR else SYSTEM, actor_company_id=None,
               note=decision[:300])
    enqueue("orders.close", delay=timedelta(days=current_app.config.get("ORDER_CLOSE_DAYS", 7)), order_id=order.id)
    for company_id in (order.buyer_id, order.seller_id):
        notify_company(company_id, "dispute.resolved", _l("Order %(number)s: the dispute is decided",
                                                          number=order.number), decision[:500])
    db.session.flush()
    return dispute
