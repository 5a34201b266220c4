"""WSGI entry point for the bench: the app with bench.settings (the project's settings, ROOT_URLCONF = bench.urls).

gunicorn bench.wsgi   # with the environment from bench.env.bench_environ()
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

application = get_wsgi_application()
