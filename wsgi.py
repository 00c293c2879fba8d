"""What gunicorn serves: ``gunicorn wsgi:app``."""

from catalog.search import prepare
from market.app import create_app
from market.extensions import db

app = create_app()
# Load the word segmenter and the search index's arrays now: under ``--preload``
# once, in the master, shared by every forked worker; otherwise at each worker's boot. Either way no
# user's first search pays for it.
with app.app_context():
    prepare()
    db.session.remove()
    db.engine.dispose()  # no database connection may cross the fork into the workers
