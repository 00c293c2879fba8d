"""The transition kernel: one conditional UPDATE per move, a 409 for the loser, and no other status writes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from market.config import PROJECT_ROOT
from market.core.errors import InvalidTransition
from market.core.transitions import StaleState, lifecycles
from market.extensions import db
from tests.factories import make_company, make_listing

STATUS_COLUMNS = {"status", "state"}
# rows whose "status" is machinery, not a lifecycle: the job queue claims with its own conditional UPDATE
EXEMPT = {"market/core/jobs.py"}


def _status_writes(path: Path) -> list[int]:
    """Line numbers of ``x.status = …`` / ``x.state = …`` (also inside tuple assignments)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign):
            targets = []
            for target in node.targets:
                targets.extend(target.elts if isinstance(target, ast.Tuple) else [target])
            if any(isinstance(t, ast.Attribute) and t.attr in STATUS_COLUMNS for t in targets):
                lines.append(node.lineno)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and isinstance(node.target, ast.Attribute) \
                and node.target.attr in STATUS_COLUMNS and node.value is not None:
            lines.append(node.lineno)
    return lines


def test_nothing_but_the_kernel_writes_a_status_column():
    offenders = []
    for package in ("market", "catalog", "payments"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if rel in EXEMPT or rel.startswith("market/demo/"):
                continue
            offenders += [f"{rel}:{line}" for line in _status_writes(path)]
    assert offenders == [], "status written outside market.core.transitions: " + ", ".join(offenders)


def test_every_lifecycle_is_registered(app):
    names = set(lifecycles())
    assert {"trade_order", "delivery_lot", "contract", "dispute", "escrow", "auto_release", "listing", "rfq",
            "quote", "verification_request", "invitation", "membership", "payin", "statement_line"} <= names


def test_illegal_move_is_invalid_transition(app):
    from catalog.services import LISTING

    seller = make_company(verified=True)
    listing = make_listing(seller)  # published
    with pytest.raises(InvalidTransition):
        LISTING.move(listing, "draft")
    db.session.rollback()


def test_a_row_moved_by_someone_else_is_stale(app):
    """The in-memory object still says 'published'; the row does not: the conditional UPDATE matches nothing."""
    from catalog.models import Listing
    from catalog.services import LISTING

    seller = make_company(verified=True)
    listing = make_listing(seller)
    db.session.commit()
    assert listing.status == "published"  # loaded in this transaction
    db.session.execute(db.update(Listing).where(Listing.id == listing.id).values(status="paused")
                       .execution_options(synchronize_session=False))
    with pytest.raises(StaleState):
        LISTING.move(listing, "paused")  # read 'published', the row is 'paused' now
    assert db.session.scalar(db.select(Listing.status).where(Listing.id == listing.id)) == "paused"
    db.session.rollback()
