"""Search's trigram indexes (0002) write each new row straight into the index.

A GIN index normally queues new rows in a "pending list" that every search reads in full
until VACUUM (or 4 MB of queue) moves them into the index proper. After an import, or on a
server where autovacuum is slow or off, that list made a search for one name read thousands
of queued rows: 25-35 ms per substring lookup instead of well under one. The co-op writes
these tables rarely and searches them in every outage, so each insert pays instead
(`fastupdate = off`), and the rows already queued are moved into the index now.
PostgreSQL only, like the indexes themselves.
"""

from django.db import migrations

# Created by 0002_search_indexes_runbook_exercised_by.
TRIGRAM_INDEXES = [
    "machine_hostname_trgm",
    "guest_name_trgm",
    "dnsname_name_trgm",
    "hostedservice_name_trgm",
    "hostedservice_url_trgm",
    "ipaddress_address_trgm",
    "person_name_trgm",
    "contactmethod_value_trgm",
    "organization_name_trgm",
    "site_name_trgm",
]


def write_straight_into_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f'ALTER INDEX "{name}" SET (fastupdate = off)')
        schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])


def queue_in_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f'ALTER INDEX "{name}" RESET (fastupdate)')


class Migration(migrations.Migration):
    dependencies = [
        ("hosts", "0006_poweraction_transport_retries"),
    ]

    operations = [
        migrations.RunPython(write_straight_into_index, queue_in_pending_list, elidable=False),
    ]
