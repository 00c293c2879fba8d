"""Uploaded files follow the transaction: a file written during a request that rolls back is deleted.

Files are written before the commit (so a committed row never points at a missing file); the session
remembers them and removes them again if the transaction rolls back instead.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_KEY = "uploads_written"


def write_upload(path: Path, data: bytes, session: Session | None = None) -> Path:
    """Write ``data`` to ``path`` (creating folders) and tie the file to the current transaction."""
    from market.extensions import db

    session = session or db.session()
    if not session.in_transaction():
        session.begin()  # so the transaction's end, whichever it is, sees the file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    session.info.setdefault(_KEY, []).append(path)
    return path


@event.listens_for(Session, "after_commit")
def _keep(session: Session) -> None:
    session.info.pop(_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _remove(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit (rollback, or closed with changes pending)."""
    if transaction.parent is not None:
        return
    for path in session.info.pop(_KEY, []):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
