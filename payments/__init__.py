"""payments: the double-entry ledger, escrow, payment providers, webhooks and reconciliation.

Knows amounts, parties (company ids) and references only; see ``payments/escrow.py`` for the API
that the orders package calls and the signals it can subscribe to.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's models, blueprints, job handlers and CLI commands."""
    from payments import escrow, ledger, models, payouts, reconcile, statements  # noqa: F401  (tables, jobs)
    from payments.check import ledger_check_command
    from payments.providers import sandbox  # noqa: F401  (its delivery job)
    from payments.views import init_views

    init_views(app)
    app.cli.add_command(ledger_check_command)
