"""Readable names for the kinds of object the audit trail records (the codes stay visible for precision)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

OBJECT_TYPE_LABELS = {
    "category": _l("Category"),
    "company": _l("Company"),
    "contract": _l("Contract"),
    "credit_gate_setting": _l("Credit gate setting"),
    "credit_override": _l("Credit override"),
    "delivery_lot": _l("Delivery lot"),
    "dispute": _l("Dispute"),
    "escrow": _l("Escrow"),
    "invitation": _l("Invitation"),
    "listing": _l("Listing"),
    "membership": _l("Membership"),
    "payout": _l("Payout"),
    "quote": _l("Quote"),
    "rating": _l("Rating"),
    "reconciliation_run": _l("Reconciliation run"),
    "rfq": _l("Request for quotation"),
    "statement": _l("Bank statement"),
    "statement_line": _l("Bank statement line"),
    "trade_order": _l("Order"),
    "user": _l("User"),
    "verification_request": _l("Verification request"),
}


def object_type_label(code: str) -> str:
    """The translated name of an audited object type; unknown codes show as they are."""
    return str(OBJECT_TYPE_LABELS.get(code, code))
