"""What gunicorn serves: ``gunicorn wsgi:app``."""

from catalog.search.analysis import warm_up
from market.app import create_app

app = create_app()
# Load the word segmenter's dictionary now: under ``--preload`` once, in the master, shared by every
# forked worker; otherwise at each worker's boot. Either way no user's first search pays for it.
warm_up()
