"""Factories for escrows (funded or not) and signed provider deliveries."""

from __future__ import annotations

import itertools

from payments import escrow as escrows
from payments.models import Escrow

__all__ = ["make_escrow", "make_funded_escrow"]

_refs = itertools.count(1)


def make_escrow(amount_fen: int = 1_000_000, *, payer_id: int | None = None, payee_id: int | None = None,
                reference: str | None = None, currency: str = "CNY") -> Escrow:
    """An escrow awaiting funds between two (new, verified) companies unless ids are given."""
    from tests.factories.accounts import make_company

    payer_id = payer_id or make_company().id
    payee_id = payee_id or make_company().id
    return escrows.open_escrow(reference or f"JS-T{next(_refs):06d}", payer_id, payee_id, amount_fen, currency)


def make_funded_escrow(amount_fen: int = 1_000_000, *, source: str = "sandbox", **kwargs: object) -> Escrow:
    escrow = make_escrow(amount_fen, **kwargs)  # type: ignore[arg-type]
    return escrows.record_funding(escrow, amount_fen, source=source, source_ref=f"fund-{escrow.reference}")
