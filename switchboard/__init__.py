"""The project package: settings, root URLs, the Celery app and WSGI. Nothing imports it but Django."""

from .celery import app as celery_app

__all__ = ("celery_app",)
