"""orders: cart, orders and their lifecycle, stock reservation, contracts, inspection, disputes, escrow link."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the order models, pages, JSON API, job handlers, escrow signal receivers and CLI."""
    import click

    from market.orders import (  # noqa: F401  (models and job handlers register on import)
        cart_views,
        escrow_events,
        inspection,
        lifecycle,
        models,
        operator_views,
        services,
        views,
    )
    from market.orders.api import api

    app.config.setdefault("ORDER_ACCEPT_HOURS", 48)
    app.config.setdefault("ORDER_SIGN_DAYS", 7)
    app.config.setdefault("ORDER_PAYMENT_DAYS", 3)
    app.config.setdefault("ORDER_CLOSE_DAYS", 7)
    # globals, not a context processor: imported macro files see globals but not the render context
    app.jinja_env.globals.update(ORDER_STATE_LABELS=lifecycle.STATE_LABELS, ORDER_STATE_BADGE=lifecycle.STATE_BADGE)
    from market.orders.settlement_text import settlement_view
    from market.orders.spec_text import spec_label, spec_text

    app.jinja_env.globals.update(LOT_STATE_LABELS=lifecycle.LOT_STATE_LABELS, LOT_STATE_BADGE=lifecycle.LOT_STATE_BADGE,
                                 spec_text=spec_text, spec_label=spec_label, settlement_view=settlement_view)
    app.register_blueprint(views.bp)
    app.register_blueprint(api)
    escrow_events.connect_signals()
    from market.orders.money_check import find_order_violations
    from payments.check import register_check

    register_check(find_order_violations)

    @app.cli.command("orders-expire")
    def expire_command() -> None:
        """Cancel orders left too long unaccepted, unsigned or unpaid (the jobs do this too)."""
        from market.core.http import commit

        count = services.expire_overdue()
        commit()
        click.echo(f"{count} order(s) expired")
