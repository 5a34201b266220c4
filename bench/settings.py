"""The app's own settings, with only what the bench needs changed: the URLconf (one extra
trivial page) and STATIC_ROOT (a temporary directory, so collectstatic leaves the tree alone)."""

import os

from switchboard.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
