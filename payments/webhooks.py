"""Webhook processing: verify, store once per ``(provider, event id)``, apply, in one transaction.

Every rail's confirmations come through :func:`receive` — the HTTP endpoint, the sandbox's simulated
deliveries and bank notifications alike — and every normalised event through :func:`apply_event`
Bank notification lines are booked by :mod:`payments.statements` (the same path as a statement import,
so a line announced first and imported later is one line). Duplicates find the stored event and change
nothing; out-of-order delivery converges because each effect is additive or final (``paid`` beats ``failed``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market.core import jobs
from market.core.validation import FEN_MAX, BigId, JsonModel, Text, field_errors, has_control_chars
from market.extensions import db
from payments import statements
from payments.booking import book_payin, park_in_suspense
from payments.ledger import check_amount
from payments.models import WebhookEvent
from payments.payouts import confirm_payout, fail_payout, find_payout
from payments.providers import get_provider
from payments.providers.bank_transfer import row_from_event
from payments.providers.base import EventKind, ProviderEvent, WebhookRejected
from payments.providers.sandbox import DELIVER_JOB, SandboxProvider

log = logging.getLogger(__name__)


def receive(provider_name: str, body: bytes, headers: Mapping[str, str]) -> list[str]:
    """Handle one delivery. Raises WebhookRejected (400) for bad signatures/stale timestamps, NotFound for
    unknown objects, ValidationFailed for amounts that do not fit — in every such case nothing is written."""
    provider = get_provider(provider_name)
    try:
        events = provider.parse_webhook(body, headers)
    except WebhookRejected as exc:
        log.warning("webhook rejected from %s: %s", provider_name, exc.message)
        raise
    for event in events:
        check_event(event)
    try:
        payload: dict[str, Any] = json.loads(body)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict) or has_control_chars(json.dumps(payload, ensure_ascii=False)):
        payload = {}  # stored for the operator; NUL and friends never reach a text/JSON column
    return [apply_event(provider_name, event, payload if len(events) == 1 else {}) for event in events]


class NeutralEvent(JsonModel):
    """The bounds of a rail's event once its provider parsed it (whatever the rail sent)."""

    event_id: Text(120, min_length=1)
    object_ref: Text(255) = ""
    amount_fen: Annotated[int, Field(ge=-FEN_MAX, le=FEN_MAX, strict=True)] = 0
    currency: Text(8) = "CNY"
    reference: Text(64) = ""
    payout_id: BigId | None = None
    payout_code: Text(64) = ""
    charge_ref: Text(255) | None = None
    raw_type: Text(120) = ""


def check_event(event: ProviderEvent) -> None:
    """Refuse (400, nothing written) an event whose fields are out of bounds: control characters, ids
    past BIGINT, amounts past any order — a validly signed payload is still input."""
    fields = {name: getattr(event, name) for name in NeutralEvent.model_fields}
    try:
        NeutralEvent.model_validate(fields)
    except PydanticError as exc:
        raise WebhookRejected("Unreadable event.", field_errors=field_errors(exc)) from None
    for value in event.detail.values():
        if isinstance(value, str) and has_control_chars(value):
            raise WebhookRejected("Unreadable event.")


def apply_event(provider_name: str, event: ProviderEvent, payload: dict[str, Any] | None = None) -> str:
    """Store and apply one event; returns what happened (``duplicate`` for a replay)."""
    if not event.event_id or len(event.event_id) > 120:
        raise WebhookRejected("Event without an id.")
    seen = select(WebhookEvent.id).where(WebhookEvent.provider == provider_name,
                                         WebhookEvent.event_id == event.event_id)
    if db.session.scalar(seen) is not None:
        return "duplicate"
    row = WebhookEvent(provider=provider_name, event_id=event.event_id, kind=str(event.kind),
                       payload=payload or {"type": event.raw_type})
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # a concurrent delivery of the same event won
        return "duplicate"
    row.outcome = _dispatch(provider_name, event)[:200]
    db.session.flush()
    return row.outcome


def _dispatch(provider_name: str, event: ProviderEvent) -> str:
    kind = event.kind
    if kind == EventKind.PAYIN_SUCCEEDED:
        return book_payin(provider_name, event.object_ref, event.reference, event.amount_fen, event.currency,
                          event.charge_ref)
    if kind == EventKind.STATEMENT_LINE:
        line = statements.book_row(row_from_event(event))
        return "already imported" if line is None else f"{line.status}:{line.reason}".rstrip(":")
    if kind in (EventKind.PAYOUT_PAID, EventKind.REFUND_SUCCEEDED):
        payout = find_payout(payout_id=event.payout_id, provider_ref=event.object_ref, code=event.payout_code)
        check_amount(event.amount_fen)
        return confirm_payout(payout, source=provider_name, source_ref=event.object_ref or payout.code,
                              amount_fen=event.amount_fen, currency=event.currency)
    if kind in (EventKind.PAYOUT_FAILED, EventKind.REFUND_FAILED):
        payout = find_payout(payout_id=event.payout_id, provider_ref=event.object_ref, code=event.payout_code)
        return fail_payout(payout, str(event.detail.get("reason") or event.raw_type))
    if kind == EventKind.UNMATCHED:
        return park_in_suspense(provider_name, event.object_ref or event.event_id, event.amount_fen, event.currency,
                                str(event.detail.get("why") or "unmatched"))
    return "ignored"


@jobs.handler(DELIVER_JOB)
def deliver_sandbox_event(event: dict[str, Any]) -> None:
    """The sandbox rail's simulated callback, delivered through the same entry point as a real webhook
    (registered here, so the rail only enqueues it and never imports upwards)."""
    from flask import current_app

    provider = SandboxProvider.from_config(current_app.config)
    body, headers = provider.signed(event)
    receive("sandbox", body, headers)
