"""Credit reports, ratings, the credit-provider hook and the trust gates built on them.

Public entry points for other packages:

* ``market.credit.services.request_recompute(company_id)``: after an event that moves a score.
* ``market.credit.gates.check_order_allowed(buyer, seller, amount_fen, payment_terms=None)``: before
  placing an order or accepting a quote; raises ``CreditGateRefused`` (HTTP 403) with a clear message.
* ``market.credit.ratings.ratings_summary(company_id)`` and ``templates/credit/_ratings_summary.html``
  for profiles; ``templates/credit/_grade_badge.html`` for a grade badge.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the credit models, pages, the ``credit.recompute`` job and the ``credit-recompute`` command."""
    import click
    from flask.cli import with_appcontext

    from market.credit import events, gates, models, services  # noqa: F401  (tables, flush listener, job handler)
    from market.credit.providers import provider_names
    from market.credit.report import source_label
    from market.credit.views import bp
    from market.orders import models as order_models  # noqa: F401  (ratings reference trade_order)

    provider_names(app.config)  # an unknown provider name fails at start, not at the first recompute
    app.register_blueprint(bp)
    app.jinja_env.filters["source_label"] = source_label
    # for pages of other packages (storefront, listing) that show a company's ratings without importing credit
    from market.credit.ratings import TAGS, ratings_summary

    app.jinja_env.globals.update(company_ratings_summary=ratings_summary, rating_tag_labels=TAGS,
                                 order_limit_info=_acting_limit_info, limit_steps=gates.LIMIT_STEPS,
                                 credit_report_url=_report_url)

    @click.command("credit-recompute")
    @click.argument("company_ids", nargs=-1, type=int)
    @with_appcontext
    def credit_recompute_command(company_ids: tuple[int, ...]) -> None:
        """Recompute credit reports now (all companies if no id is given)."""
        from sqlalchemy import select

        from market.accounts.models import Company
        from market.extensions import db

        ids = company_ids or tuple(db.session.scalars(select(Company.id).order_by(Company.id)))
        for company_id in ids:
            snapshot = services.recompute(company_id)
            db.session.commit()
            click.echo(f"company {company_id}: {snapshot.score if snapshot.score is not None else 'not yet rated'}")

    app.cli.add_command(credit_recompute_command)


def _acting_limit_info():  # type: ignore[no-untyped-def]
    """For templates: the acting company's order limit (None for visitors and staff without a company)."""
    from flask import g

    from market.accounts.context import acting_company
    from market.credit.gates import limit_info

    if "order_limit_info" not in g:
        company = acting_company()
        g.order_limit_info = limit_info(company) if company is not None else None
    return g.order_limit_info


def _report_url(company) -> str | None:  # type: ignore[no-untyped-def]
    """For grade badges: the link to the company's credit report when this viewer may read it, else None
    (the same rule as the report page: the company itself, a counterparty, platform staff)."""
    from flask import g, url_for
    from flask_login import current_user

    from market.accounts.context import acting_company_id
    from market.credit.services import report_visible_to

    if company is None or not current_user.is_authenticated:
        return None
    cache = g.setdefault("credit_report_urls", {})
    if company.id not in cache:
        viewer = acting_company_id()
        if viewer == company.id:
            cache[company.id] = url_for("credit.my_report")
        elif current_user.platform_role in ("operator", "regulator") or report_visible_to(company.id, viewer):
            cache[company.id] = url_for("credit.company_report", company_id=company.id)
        else:
            cache[company.id] = None
    return cache[company.id]
