"""What is for sale: categories, industry spec schemas, listings, search."""

import os

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the catalog models, pages, search backend, job handlers and CLI commands."""
    # models registers the tables; admin_views and seller_views add their routes to catalog.views.bp
    from catalog import admin_views, models, seller_views, vocabulary_views  # noqa: F401
    from catalog.api import api_bp
    from catalog.search import postgres_backend, vocabulary  # noqa: F401  (their tables exist on every database)
    from catalog.search.tasks import reindex_command, vocabulary_seed_command
    from catalog.views import bp

    app.config.setdefault("EXPOSE_WORKER_PID", os.environ.get("JINSHANG_EXPOSE_WORKER_PID") == "1")
    from catalog.forms import quantity_text

    app.jinja_env.filters.setdefault("qty", quantity_text)
    from catalog.labels import delivery_terms_label, listing_status_label, unit_label

    app.jinja_env.filters.update(unit_label=unit_label, delivery_terms_label=delivery_terms_label,
                                 listing_status_label=listing_status_label)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.cli.add_command(reindex_command)
    app.cli.add_command(vocabulary_seed_command)

