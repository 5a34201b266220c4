"""WSGI entry point for gunicorn: `gunicorn switchboard.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")

application = get_wsgi_application()
