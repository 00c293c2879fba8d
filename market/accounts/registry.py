"""Look-ups in a business registry (e.g. the National Enterprise Credit Information Publicity System).

Sign-up asks the configured registry whether it knows a USCC and under which name, and warns when the
name differs or the entity is deregistered. ``BUSINESS_REGISTRY`` picks the implementation:

* ``null`` (default): knows nothing; sign-up relies on the check digit and the operator's review.
* ``file:<path>``: a JSON export ``[{"uscc": ..., "name": ..., "status": ...}, ...]`` (offline copies,
  the demo, tests).
* any name registered with :func:`register` by an adapter for a real registry service.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from market.accounts import uscc as uscc_rules


@dataclass(frozen=True)
class RegistryRecord:
    """What a registry says about one code."""

    uscc: str
    name: str
    status: str = "active"  # active | deregistered | revoked | unknown

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class BusinessRegistry(Protocol):
    """A source of truth about registered entities."""

    def lookup(self, uscc: str) -> RegistryRecord | None:
        """The record for a normalised, valid USCC, or None when the registry does not know it."""
        ...


class NullRegistry:
    """The default: no registry is connected, so nothing is known."""

    def lookup(self, uscc: str) -> RegistryRecord | None:
        return None


class FileRegistry:
    """A registry read from a JSON export (list of objects with uscc, name and status)."""

    def __init__(self, path: str | Path) -> None:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        self.records = {
            uscc_rules.normalise(row["uscc"]): RegistryRecord(
                uscc=uscc_rules.normalise(row["uscc"]), name=row["name"], status=row.get("status", "active")
            )
            for row in rows
        }

    def lookup(self, uscc: str) -> RegistryRecord | None:
        return self.records.get(uscc_rules.normalise(uscc))


_FACTORIES: dict[str, Callable[[str], BusinessRegistry]] = {
    "null": lambda _arg: NullRegistry(),
    "file": FileRegistry,
}


def register(name: str, factory: Callable[[str], BusinessRegistry]) -> None:
    """Make an adapter selectable as ``BUSINESS_REGISTRY=<name>[:<argument>]``."""
    _FACTORIES[name] = factory


def build(setting: str) -> BusinessRegistry:
    """The registry for a ``BUSINESS_REGISTRY`` value such as ``null`` or ``file:/srv/registry.json``."""
    name, _, argument = (setting or "null").partition(":")
    if name not in _FACTORIES:
        raise ValueError(f"unknown BUSINESS_REGISTRY {name!r} (known: {', '.join(sorted(_FACTORIES))})")
    return _FACTORIES[name](argument)


def init_app(app: Flask) -> None:
    app.extensions["business_registry"] = build(app.config.get("BUSINESS_REGISTRY", "null"))


def current_registry() -> BusinessRegistry:
    registry = current_app.extensions.get("business_registry")
    if registry is None:
        registry = current_app.extensions["business_registry"] = build(current_app.config.get("BUSINESS_REGISTRY",
                                                                                             "null"))
    return registry
