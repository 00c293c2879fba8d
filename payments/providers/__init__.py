"""The configured payment rails, by name (``PAYMENT_PROVIDERS=sandbox,bank_transfer,stripe``)."""

from __future__ import annotations

from flask import current_app

from market.core.errors import NotFound
from payments.providers.base import PaymentProvider

KNOWN = ("sandbox", "bank_transfer", "stripe")


def enabled() -> list[str]:
    """Enabled provider names in the configured order."""
    names = [n.strip() for n in str(current_app.config.get("PAYMENT_PROVIDERS", "sandbox")).split(",")]
    return [n for n in names if n in KNOWN]


def get_provider(name: str) -> PaymentProvider:
    """Build the named provider (NotFound if it is not enabled)."""
    if name not in enabled():
        raise NotFound("This payment method is not available.", provider=str(name)[:40])
    if name == "sandbox":
        from payments.providers.sandbox import SandboxProvider

        return SandboxProvider.from_config(current_app.config)
    if name == "bank_transfer":
        from payments.providers.bank_transfer import BankTransferProvider

        return BankTransferProvider.from_config(current_app.config)
    from payments.providers.stripe import build_provider

    return build_provider(current_app)
