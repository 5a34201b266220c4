"""Search's trigram indexes on the inventory's tables: see coop/0002 for why and how."""

import importlib

from django.db import migrations

directory = importlib.import_module("coop.migrations.0002_role_groups_and_search_indexes")

TRIGRAM_INDEXES = [
    ("machine_hostname_trgm", "hosts_machine", 'UPPER("hostname"::text)'),
    ("guest_name_trgm", "hosts_guest", 'UPPER("name"::text)'),
    ("dnsname_name_trgm", "hosts_dnsname", 'UPPER("name"::text)'),
    ("hostedservice_name_trgm", "hosts_hostedservice", 'UPPER("name"::text)'),
    ("hostedservice_url_trgm", "hosts_hostedservice", 'UPPER("url"::text)'),
    ("ipaddress_address_trgm", "hosts_ipaddress", 'UPPER(HOST("address"))'),
]


def create_trigram_indexes(apps, schema_editor):
    directory.create_trigram_indexes(apps, schema_editor, TRIGRAM_INDEXES)


def drop_trigram_indexes(apps, schema_editor):
    directory.drop_trigram_indexes(apps, schema_editor, TRIGRAM_INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("coop", "0002_role_groups_and_search_indexes"),
        ("hosts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
