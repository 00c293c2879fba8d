"""What is for sale: categories, industry spec schemas, listings, search."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the catalog models, pages, search backend, job handlers and CLI commands."""
    from catalog import models  # noqa: F401  (registers the tables)
