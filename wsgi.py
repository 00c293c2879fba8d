"""What gunicorn serves: ``gunicorn wsgi:app`` (production mode unless JINSHANG_MODE says otherwise)."""

from market.app import create_app
from market.config import require_production_ready

app = create_app()
require_production_ready(app.config)  # one list of everything to fix, then exit, rather than serve unsafely
