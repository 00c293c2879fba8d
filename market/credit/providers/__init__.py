"""Credit providers, selected by name with ``CREDIT_PROVIDERS`` (comma-separated, e.g. ``internal,bureau``).

A provider factory takes the app config and returns a :class:`~market.credit.report.CreditProvider`.
Other packages (or deployments) may add one with :func:`register_provider`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from market.credit.report import CreditProvider

Factory = Callable[[Mapping[str, Any]], CreditProvider]
_FACTORIES: dict[str, Factory] = {}


def register_provider(name: str, factory: Factory) -> None:
    """Make ``name`` selectable in ``CREDIT_PROVIDERS``."""
    _FACTORIES[name] = factory


def provider_names(config: Mapping[str, Any]) -> list[str]:
    names = [n.strip() for n in str(config.get("CREDIT_PROVIDERS") or "internal").split(",") if n.strip()]
    unknown = [n for n in names if n not in _FACTORIES]
    if unknown:
        raise ValueError(f"unknown credit provider(s) {unknown}; known: {sorted(_FACTORIES)}")
    return names


def build_providers(config: Mapping[str, Any]) -> list[CreditProvider]:
    """The configured providers, in configuration order."""
    return [_FACTORIES[name](config) for name in provider_names(config)]


def _internal(config: Mapping[str, Any]) -> CreditProvider:
    from market.credit.providers.internal import InternalProvider

    return InternalProvider()


def _bureau(config: Mapping[str, Any]) -> CreditProvider:
    from market.credit.providers.bureau import BureauProvider

    return BureauProvider.from_config(config)


register_provider("internal", _internal)
register_provider("bureau", _bureau)
