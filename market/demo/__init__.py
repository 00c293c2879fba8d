"""Demo data: realistic Shanxi companies, listings, an RFQ, orders in several states, escrow, credit.

Each capability adds a loader module here; :func:`load` runs them in dependency order. Loaders take
the objects made before them from ``ctx`` (a plain dict) and add their own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from market.extensions import db

# module name under market.demo, in dependency order
LOADERS = ("accounts", "catalog", "trade", "credit", "sellers")

DEMO_PASSWORD = "Jinshang-demo-2026"  # noqa: S105 (printed at start for the demo logins)


def _loaders() -> list[Any]:
    return [importlib.import_module(f"market.demo.{name}") for name in LOADERS]


def load(echo: Callable[[str], Any] = print) -> dict[str, Any]:
    """Load every demo module in one transaction (all or nothing)."""
    ctx: dict[str, Any] = {"password": DEMO_PASSWORD}
    try:
        for module in _loaders():
            echo(f"    · {module.__name__.rsplit('.', 1)[-1]}")
            module.load(ctx, echo)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ctx


def print_logins(echo: Callable[[str], Any] = print) -> None:
    """Print the demo sign-ins (each loader may describe its accounts)."""
    echo("")
    echo(f"Demo logins (password for all: {DEMO_PASSWORD})")
    for module in _loaders():
        for line in getattr(module, "LOGINS", ()):
            echo(f"  {line}")
    echo("")
