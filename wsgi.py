"""What gunicorn serves: ``gunicorn wsgi:app``."""

from market.app import create_app

app = create_app()
