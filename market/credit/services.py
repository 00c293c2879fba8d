"""The credit write path: recompute a company's report, keep the denormalised grade, set L2.

L2 rule (the hook's part of the verification ladder): a verified (L1) company whose combined score is
**70 or more** (grade A or better) becomes L2_CREDIT_CHECKED. An L2 company whose score falls **below 60**
(or that is no longer rated) goes back to L1. The gap keeps a company hovering near 70 from flapping.
L0 companies are never raised: a credit score does not replace licence verification.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from market.accounts.models import Company, Verification
from market.core.audit import record
from market.core.errors import NotFound
from market.core.jobs import enqueue, every, handler
from market.core.timeutil import utcnow
from market.credit.events import RECOMPUTE_JOB, request_recompute
from market.credit.hook import compute_report
from market.credit.models import CreditSnapshot
from market.credit.report import CreditReport
from market.extensions import db

L2_MIN_SCORE = 70
L2_KEEP_SCORE = 60


@handler(RECOMPUTE_JOB)
def _recompute_job(company_id: int) -> None:
    recompute(company_id)


RECOMPUTE_ALL_JOB = "credit.recompute_all"


@handler(RECOMPUTE_ALL_JOB)
def _recompute_all_job() -> None:
    """The daily sweep: scores also move with time alone (an unpaid order grows later every day)."""
    for company_id in db.session.scalars(select(Company.id).where(Company.status == "active")):
        request_recompute(company_id)


every(timedelta(days=1), RECOMPUTE_ALL_JOB)


def recompute(company_id: int, *, now: datetime | None = None, config: Any = None,
              providers: Any = None) -> CreditSnapshot:
    """Compute, store a snapshot, update ``Company.credit_score``/``credit_grade`` and the L2 level.

    Idempotent in effect: running it twice adds a second identical snapshot and changes nothing else.
    """
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound("Company not found")
    now = now or utcnow()
    report = compute_report(company, now, config or current_app.config, providers)
    snapshot = CreditSnapshot(company_id=company.id, score=report.score, grade=report.grade,
                              source=report.source, report=report.to_json(), computed_at=now)
    db.session.add(snapshot)
    before = {"credit_score": company.credit_score, "credit_grade": company.credit_grade,
              "verification_level": company.verification_level}
    company.credit_score, company.credit_grade = report.score, report.grade
    _apply_l2_rule(company, report)
    after = {"credit_score": company.credit_score, "credit_grade": company.credit_grade,
             "verification_level": company.verification_level}
    if after != before:
        record("credit.rated", "company", company.id, actor_company_id=None, before=before, after=after,
               note=f"source={report.source}")
    if before["credit_grade"] != after["credit_grade"]:
        enqueue("search.reindex_seller", company_id=company.id)  # listings show and sort by the grade
    db.session.flush()
    return snapshot


def _apply_l2_rule(company: Company, report: CreditReport) -> None:
    level = company.verification_level
    if level == Verification.L1_VERIFIED and report.score is not None and report.score >= L2_MIN_SCORE:
        company.verification_level = Verification.L2_CREDIT_CHECKED
    elif level == Verification.L2_CREDIT_CHECKED and (report.score is None or report.score < L2_KEEP_SCORE):
        company.verification_level = Verification.L1_VERIFIED


def latest_snapshot(company_id: int) -> CreditSnapshot | None:
    return db.session.scalars(
        select(CreditSnapshot).where(CreditSnapshot.company_id == company_id)
        .order_by(CreditSnapshot.computed_at.desc(), CreditSnapshot.id.desc()).limit(1)
    ).first()


def score_history(company_id: int, *, limit: int = 90) -> list[tuple[datetime, int | None]]:
    """The last rated score of each day (up to ``limit`` days with a snapshot), oldest first, for the chart."""
    rows = db.session.execute(
        select(CreditSnapshot.computed_at, CreditSnapshot.score).where(CreditSnapshot.company_id == company_id)
        .order_by(CreditSnapshot.computed_at.desc(), CreditSnapshot.id.desc()).limit(limit * 20)
    ).all()
    by_day: dict[Any, tuple[datetime, int | None]] = {}
    for at, score in rows:  # newest first: the first row of each day wins
        by_day.setdefault(at.date(), (at, score))
    return sorted(by_day.values())[-limit:]


def report_visible_to(company_id: int, viewer_company_id: int | None) -> bool:
    """A company sees its own report; a counterparty sees it once they had an (accepted) order together."""
    from market.credit.history import traded_together

    if viewer_company_id is None:
        return False
    return viewer_company_id == company_id or traded_together(company_id, viewer_company_id)
