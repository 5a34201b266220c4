"""The whole co-op in one file: `manage.py export` and `manage.py import` (see portability.archive)."""
