"""payments: see DESIGN.md for what lives here."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's models, blueprints, job handlers and CLI commands."""
