"""The two role groups core.access checks by name (Members and Operators; admins are superusers),
and search's trigram indexes on the directory's tables.

Search (front/search.py) finds names by substring: `icontains`, which Django writes as
UPPER(column::text) LIKE UPPER(%s), can only use a trigram index, which exists on PostgreSQL
alone. The indexes are created here with raw SQL on PostgreSQL and skipped on SQLite, where a
demo-sized table scan is fast anyway. `fastupdate = off`: each insert goes straight into the
index instead of a pending list that every search would read in full until VACUUM (25-35 ms
per lookup after an import, instead of well under one). hosts/0002 does the same for the
inventory's tables.
"""

from django.db import migrations

ROLE_GROUPS = ["Members", "Operators"]

# (index name, table, indexed expression): each matches the SQL Django generates for the lookup.
TRIGRAM_INDEXES = [
    ("person_name_trgm", "coop_person", 'UPPER("name"::text)'),
    ("contactmethod_value_trgm", "coop_contactmethod", 'UPPER("value"::text)'),
    ("organization_name_trgm", "coop_organization", 'UPPER("name"::text)'),
    ("site_name_trgm", "coop_site", 'UPPER("name"::text)'),
]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


def create_trigram_indexes(apps, schema_editor, indexes=TRIGRAM_INDEXES):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in indexes:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f"USING gin (({expression}) gin_trgm_ops) WITH (fastupdate = off)"
        )


def drop_trigram_indexes(apps, schema_editor, indexes=TRIGRAM_INDEXES):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in indexes:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("coop", "0001_initial"),
    ]

    operations = [
        # Reversing leaves the groups: deleting them would silently strip everyone's role.
        migrations.RunPython(create_role_groups, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
