"""The internal provider: the platform's own trading history, scored by :mod:`market.credit.scoring`."""

from __future__ import annotations

from datetime import datetime

from market.accounts.models import Company
from market.credit.history import collect_history
from market.credit.report import CompanyRef, CreditReport, ProviderUnavailable
from market.credit.scoring import score_history
from market.extensions import db


class InternalProvider:
    """Scores a company from orders, payments, deliveries, inspections, disputes and ratings on the platform."""

    name = "internal"

    def report(self, company: CompanyRef, now: datetime) -> CreditReport:
        row = db.session.get(Company, company.id)
        if row is None:
            raise ProviderUnavailable(f"company {company.id} not found")
        return score_history(collect_history(row, now), now)
