"""rfq: requests for quotation and sealed quotes."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the RFQ models, pages and the job that opens quotes at the deadline."""
    from market.rfq import models, services, views  # noqa: F401

    app.register_blueprint(views.bp)
