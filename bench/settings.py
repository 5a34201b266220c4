"""The app's own settings, with only what the bench needs changed: the URLconf (one extra
trivial page), STATIC_ROOT (a temporary directory, so collectstatic leaves the tree alone) and
the Celery broker (BENCH_BROKER_URL, a Redis database of the bench's own; the cache stays on
REDIS_URL, shared by gunicorn and the workers as in production)."""

import os

from switchboard.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
CELERY_BROKER_URL = os.environ.get("BENCH_BROKER_URL", CELERY_BROKER_URL)  # noqa: F405
