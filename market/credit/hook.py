"""The credit hook: ask every configured provider, then combine their reports by one documented rule.

Combination rule:

1. Each provider is asked in ``CREDIT_PROVIDERS`` order. One that cannot answer (timeout, 5xx, malformed)
   is skipped and named in a note on the report: *falling back* to the others (normally the internal score).
2. The combined score is the weighted mean of the scores of the providers that rated the company,
   rounded half up. Weights come from ``CREDIT_PROVIDER_WEIGHTS`` (``internal:2,bureau:1`` by default;
   an unlisted provider weighs 1): the platform's own first-hand history counts double.
3. If no provider rated the company, it is *not yet rated* (score None).
4. The grade always follows from the combined score on our scale; the factors of every answering
   provider are kept so the report page can show what moved the score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from market.accounts.models import Company
from market.credit.providers import build_providers
from market.credit.report import N_, CompanyRef, CreditProvider, CreditReport, Note, ProviderUnavailable, grade_for

DEFAULT_WEIGHTS = {"internal": 2}


def provider_weights(config: Mapping[str, Any]) -> dict[str, int]:
    """Parse ``CREDIT_PROVIDER_WEIGHTS`` ("internal:2,bureau:1")."""
    weights = dict(DEFAULT_WEIGHTS)
    for item in str(config.get("CREDIT_PROVIDER_WEIGHTS") or "").split(","):
        name, sep, value = item.partition(":")
        if not sep:
            continue
        weight = int(value)
        if weight < 1:
            raise ValueError(f"CREDIT_PROVIDER_WEIGHTS: weight of {name.strip()!r} must be a positive integer")
        weights[name.strip()] = weight
    return weights


def combine(reports: Sequence[CreditReport], unavailable: Sequence[str], weights: Mapping[str, int],
            now: Any) -> CreditReport:
    """Combine provider reports by the rule in this module's docstring."""
    rated = [r for r in reports if r.score is not None]
    notes = [note for r in reports for note in r.notes]
    notes += [Note(N_("The %(provider)s credit source could not be reached; this report uses the others."),
                   {"provider": name}) for name in unavailable]
    factors = tuple(f for r in reports for f in r.factors)
    sources = "+".join(r.source for r in reports) or "none"
    if not rated:
        return CreditReport(score=None, grade=None, source=sources, as_of=now, factors=factors, notes=tuple(notes))
    total_weight = sum(weights.get(r.source, 1) for r in rated)
    mean = sum((Fraction(r.score * weights.get(r.source, 1)) for r in rated), Fraction(0)) / total_weight
    score = int(mean + Fraction(1, 2))
    return CreditReport(score=score, grade=grade_for(score), source=sources, as_of=now, factors=factors,
                        notes=tuple(notes))


def compute_report(company: Company, now: Any, config: Mapping[str, Any],
                   providers: Sequence[CreditProvider] | None = None) -> CreditReport:
    """Ask the providers about ``company`` and combine their answers."""
    ref = CompanyRef(id=company.id, uscc=company.uscc, verification_level=company.verification_level,
                     created_at=company.created_at)
    reports, unavailable = [], []
    for provider in providers if providers is not None else build_providers(config):
        try:
            reports.append(provider.report(ref, now))
        except ProviderUnavailable:
            unavailable.append(provider.name)
    return combine(reports, unavailable, provider_weights(config), now)
