"""`manage.py export` and `manage.py import` are the co-op's own (portability), whatever else is installed:
django-import-export ships commands of the same names, and Django runs the one of the app listed first."""

from django.core.management import get_commands


def test_export_and_import_are_the_co_ops_commands():
    commands = get_commands()

    assert (commands["export"], commands["import"]) == ("portability", "portability")
