"""An HTTP adapter for an external credit bureau (企业征信机构), over ``requests``.

Wire format (what a bureau, or its gateway, must speak)::

    GET {CREDIT_BUREAU_URL}/v1/companies/{uscc}/credit-report
    Accept: application/json
    Authorization: Bearer {CREDIT_BUREAU_TOKEN}        (only when a token is configured)

    200 {"uscc": "9114...", "score": 0-100 | null, "as_of": "2026-03-01T08:00:00+08:00",
         "factors": [{"code": "...", "label": "...", "weight": 20, "points": 12.5, "explanation": "..."}]}
    404  the bureau has no file on the company (a report that is not yet rated; not an error)

The bureau's own grade, if it sends one, is ignored: grades are always derived from the score with our
scale so that every provider's grade means the same.

Failure handling: connection errors, timeouts (``CREDIT_BUREAU_TIMEOUT`` seconds per attempt, connect
and read) and 5xx answers are retried ``CREDIT_BUREAU_RETRIES`` times with a short backoff; then, and at
once for a malformed answer or another 4xx, :class:`ProviderUnavailable` is raised and the hook falls
back to the remaining providers (the internal score).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

from market.credit.report import CompanyRef, CreditReport, Factor, ProviderUnavailable, grade_for

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024  # a credit report is small; a huge body is a misbehaving server


class BureauProvider:
    """Fetches a company's report from a bureau keyed by USCC."""

    name = "bureau"

    def __init__(self, base_url: str, *, token: str = "", timeout: float = 3.0, retries: int = 2,
                 backoff: float = 0.2, session: requests.Session | None = None) -> None:
        if not base_url:
            raise ValueError("CREDIT_BUREAU_URL is required when CREDIT_PROVIDERS names 'bureau'")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.session = session or requests.Session()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BureauProvider:
        return cls(
            str(config.get("CREDIT_BUREAU_URL") or ""),
            token=str(config.get("CREDIT_BUREAU_TOKEN") or ""),
            timeout=float(config.get("CREDIT_BUREAU_TIMEOUT", 3.0)),
            retries=int(config.get("CREDIT_BUREAU_RETRIES", 2)),
        )

    def report(self, company: CompanyRef, now: datetime) -> CreditReport:
        url = f"{self.base_url}/v1/companies/{company.uscc}/credit-report"
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        last_problem = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.session.get(url, headers=headers, timeout=(self.timeout, self.timeout))
            except requests.Timeout:
                last_problem = f"timed out after {self.timeout}s"
                continue
            except requests.RequestException as exc:
                last_problem = f"connection failed: {type(exc).__name__}"
                continue
            if response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                continue
            if response.status_code == 404:
                return CreditReport(score=None, grade=None, source=self.name, as_of=now)
            if response.status_code != 200:
                raise ProviderUnavailable(f"bureau answered HTTP {response.status_code}")
            return parse_report(response.content, expected_uscc=company.uscc, source=self.name)
        log.warning("credit bureau unavailable for %s: %s", company.uscc, last_problem)
        raise ProviderUnavailable(f"bureau unavailable: {last_problem}")


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProviderUnavailable(f"malformed bureau answer: {name} is not a number")
    return float(value)


def parse_report(body: bytes, *, expected_uscc: str, source: str = "bureau") -> CreditReport:
    """Validate a bureau answer strictly; anything unexpected is :class:`ProviderUnavailable`, never a guess."""
    import json

    if len(body) > MAX_BODY_BYTES:
        raise ProviderUnavailable("malformed bureau answer: body too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProviderUnavailable("malformed bureau answer: not JSON") from None
    if not isinstance(data, dict):
        raise ProviderUnavailable("malformed bureau answer: not an object")
    if data.get("uscc") != expected_uscc:
        raise ProviderUnavailable("malformed bureau answer: report is for another company")
    score = data.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100):
        raise ProviderUnavailable("malformed bureau answer: score must be an integer 0-100 or null")
    try:
        as_of = datetime.fromisoformat(str(data.get("as_of")))
    except ValueError:
        raise ProviderUnavailable("malformed bureau answer: as_of is not an ISO 8601 time") from None
    if as_of.tzinfo is None:
        raise ProviderUnavailable("malformed bureau answer: as_of has no time zone")
    raw_factors = data.get("factors", [])
    if not isinstance(raw_factors, list) or len(raw_factors) > 50:
        raise ProviderUnavailable("malformed bureau answer: factors must be a short list")
    factors = []
    for raw in raw_factors:
        if not isinstance(raw, dict) or not isinstance(raw.get("code"), str):
            raise ProviderUnavailable("malformed bureau answer: a factor has no code")
        factors.append(Factor(
            code=f"{source}:{raw['code'][:40]}",
            label=str(raw.get("label") or raw["code"])[:80],
            points=round(_number(raw.get("points", 0), "points"), 1),
            weight=round(_number(raw.get("weight", 0), "weight"), 1),
            explanation=str(raw.get("explanation") or "")[:300],
        ))
    return CreditReport(score=score, grade=grade_for(score), source=source, as_of=as_of, factors=tuple(factors))
