"""Payments fixtures: the Stripe test double wired into the app, job running, ledger assertions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from market.core import jobs
from payments.check import find_violations
from tests.payments.stripe_double import StripeDouble


@pytest.fixture
def stripe_double(app: Flask) -> Iterator[StripeDouble]:
    double = StripeDouble(webhook_secret=app.config["STRIPE_WEBHOOK_SECRET"])
    app.extensions["stripe_http_client"] = double
    yield double
    app.extensions.pop("stripe_http_client", None)


def run_jobs(rounds: int = 5) -> int:
    """Run due jobs until none are left (payout jobs enqueue sandbox deliveries)."""
    total = 0
    for _ in range(rounds):
        ran = jobs.run_pending()
        total += ran
        if not ran:
            break
    return total


def assert_ledger_ok() -> None:
    problems = find_violations()
    assert problems == [], problems
