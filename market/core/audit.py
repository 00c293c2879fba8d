"""The append-only audit trail: who did what to which object, with before and after, and when.

Every service that changes state calls :func:`record` in the same transaction as the change.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, BigInteger, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db

log = logging.getLogger(__name__)


class AuditLog(db.Model):
    """One state change. Rows are never updated or deleted (enforced below)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_company_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(String(40), nullable=False)
    object_id: Mapped[str] = mapped_column(String(64), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (db.Index("ix_audit_log_object", "object_type", "object_id"),)


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _append_only(*_args: Any) -> None:
    raise RuntimeError("audit_log is append-only")


def record(
    action: str,
    obj_type: str,
    obj_id: object,
    *,
    actor_user_id: int | None = None,
    actor_company_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditLog:
    """Add an audit row to the current transaction (flushed, not committed)."""
    if actor_user_id is None:
        actor_user_id = _current_user_id()
    row = AuditLog(
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        actor_user_id=actor_user_id,
        actor_company_id=actor_company_id,
        before=before,
        after=after,
        note=note,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def record_refusal(action: str, obj_type: str, obj_id: object, *, note: str) -> None:
    """After a refused request rolled back: one audit row in its own short transaction. The refusal stands
    even if the row cannot be written; that failure is logged, never swallowed."""
    try:
        record(action, obj_type, obj_id, note=note)
        db.session.commit()
    except Exception:  # a broken audit write must not turn a 4xx into a 500
        db.session.rollback()
        log.exception("could not write the audit row %s for %s %s", action, obj_type, obj_id)


def _current_user_id() -> int | None:
    if not has_request_context():
        return None
    from flask_login import current_user

    return current_user.id if current_user.is_authenticated else None
