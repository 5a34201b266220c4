"""Indexes for global search (coop/search.py) and who last exercised a runbook.

Exact lookups (IP address, DNS name, hostname) use the unique indexes those columns
already have, plus the management address index below. Substring lookups
(`icontains`, which Django writes as UPPER(column::text) LIKE UPPER(%s)) can only use
a trigram index, which exists on PostgreSQL alone: those are created here with raw
SQL on PostgreSQL and skipped on SQLite, where a demo-sized table scan is fast anyway.
They cover coop tables too, so that all of search's indexes live in one migration.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (index name, table, indexed expression): each matches the SQL Django generates for the lookup.
TRIGRAM_INDEXES = [
    ("machine_hostname_trgm", "hosts_machine", 'UPPER("hostname"::text)'),
    ("guest_name_trgm", "hosts_guest", 'UPPER("name"::text)'),
    ("dnsname_name_trgm", "hosts_dnsname", 'UPPER("name"::text)'),
    ("hostedservice_name_trgm", "hosts_hostedservice", 'UPPER("name"::text)'),
    ("hostedservice_url_trgm", "hosts_hostedservice", 'UPPER("url"::text)'),
    ("ipaddress_address_trgm", "hosts_ipaddress", 'UPPER(HOST("address"))'),
    ("person_name_trgm", "coop_person", 'UPPER("name"::text)'),
    ("contactmethod_value_trgm", "coop_contactmethod", 'UPPER("value"::text)'),
    ("organization_name_trgm", "coop_organization", 'UPPER("name"::text)'),
    ("site_name_trgm", "coop_site", 'UPPER("name"::text)'),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (({expression}) gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("coop", "0002_initial"),
        ("hosts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalrunbook",
            name="last_exercised_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="runbook",
            name="last_exercised_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="backuptarget",
            index=models.Index(fields=["state"], name="backuptarget_state_idx"),
        ),
        migrations.AddIndex(
            model_name="hostedservice",
            index=models.Index(fields=["is_public", "name"], name="hostedservice_public_idx"),
        ),
        migrations.AddIndex(
            model_name="machine",
            index=models.Index(fields=["management_address"], name="machine_mgmt_address_idx"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
