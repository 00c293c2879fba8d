"""supervision: regulator and operator consoles (the audit log browser lives here)."""

import json

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints and template filters."""
    from market.supervision import views
    from market.supervision.labels import object_type_label

    app.register_blueprint(views.bp)
    app.jinja_env.filters["object_type_label"] = object_type_label
    # Chinese stays readable in the audit page (Flask's tojson escapes it to \uXXXX).
    app.jinja_env.filters["audit_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                                   default=str)
