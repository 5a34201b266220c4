"""Export and import tests: the demo co-op, an export key of the admin's own, and a database emptied
to what `manage.py migrate` leaves (the role groups and nothing else of the co-op's)."""

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from portability import archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_coop():
    """The demo co-op, seeded as an operator would."""
    call_command("seed_demo", "--even-without-debug", stdout=StringIO())


@pytest.fixture
def key_file(tmp_path):
    """The admin's export key: a Fernet key in a file of its own, kept apart from the export."""
    path = tmp_path / "export.key"
    path.write_text(Fernet.generate_key().decode() + "\n")
    return path


def export(path, *args):
    """Run `manage.py export` as an admin would; the envelope it wrote."""
    call_command("export", str(path), *args, stdout=StringIO(), stderr=StringIO())
    return json.loads(path.read_text())


def import_file(path, *args):
    """Run `manage.py import`; what it printed."""
    out = StringIO()
    call_command("import", str(path), *args, stdout=out)
    return out.getvalue()


def co_op_tables():
    """Every table the export fills, many-to-many tables included, except those migrate fills."""
    tables = set()
    for model in archive.exported_models(with_secrets=True):
        if model._meta.label not in archive.MADE_BY_MIGRATE:
            tables.add(model._meta.db_table)
            tables |= {field.remote_field.through._meta.db_table for field in model._meta.local_many_to_many}
    return sorted(tables)


def empty_the_database():
    """Leave the co-op's tables as a freshly migrated database has them: empty."""
    # DELETE rather than flush's TRUNCATE: PostgreSQL refuses to truncate a table with rows this test's
    # transaction wrote (pending foreign-key checks); the checks are deferred, so the order does not matter.
    with connection.cursor() as cursor:
        for table in co_op_tables():
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our table names


def co_op_rows():
    """Rows per exported model, those with none left out: {} for an empty database."""
    counts = {model._meta.label: model._base_manager.count() for model in archive.exported_models(with_secrets=True)}
    return {label: count for label, count in counts.items() if count and label not in archive.MADE_BY_MIGRATE}


def without_date(envelope):
    return {key: value for key, value in envelope.items() if key != "exported_at"}
