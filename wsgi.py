"""What gunicorn serves: ``gunicorn wsgi:app`` (production mode unless JINSHANG_MODE says otherwise)."""

from catalog.search import prepare
from market.app import create_app
from market.config import require_production_ready
from market.extensions import db

app = create_app()
require_production_ready(app.config)  # one list of everything to fix, then exit, rather than serve unsafely
# Load the word segmenter and the search index's arrays now: under ``--preload``
# once, in the master, shared by every forked worker; otherwise at each worker's boot. Either way no
# user's first search pays for it.
with app.app_context():
    prepare()
    db.session.remove()
    db.engine.dispose()  # no database connection may cross the fork into the workers
