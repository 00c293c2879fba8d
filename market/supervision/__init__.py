"""supervision: regulator and operator consoles (the audit log browser lives here)."""

import json
from typing import Any

from flask import Flask

from market.core.money import format_fen


def in_yuan(value: Any) -> Any:
    """Amounts stored in fen (keys ending ``_fen``) read in yuan: ``"funded_fen": 3806000`` → ``"funded":
    "¥38,060.00"``; people read the audit log, not programs."""
    if isinstance(value, dict):
        return {(k.removesuffix("_fen") if k.endswith("_fen") and isinstance(v, int) and not isinstance(v, bool)
                 else k): (format_fen(v) if k.endswith("_fen") and isinstance(v, int) and not isinstance(v, bool)
                           else in_yuan(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [in_yuan(v) for v in value]
    return value


def init_app(app: Flask) -> None:
    """Register this package's blueprints and template filters."""
    from market.supervision import views
    from market.supervision.labels import object_type_label

    app.register_blueprint(views.bp)
    app.jinja_env.filters["object_type_label"] = object_type_label
    # Chinese stays readable in the audit page (Flask's tojson escapes it to \uXXXX).
    app.jinja_env.filters["audit_json"] = lambda value: json.dumps(in_yuan(value), ensure_ascii=False,
                                                                   sort_keys=True, default=str)
