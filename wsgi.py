"""``app = create_app()`` for gunicorn; ``flask --app wsgi ...`` for the CLI."""

from app import create_app

app = create_app()
