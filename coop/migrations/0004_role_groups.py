"""The two role groups coop.access checks by name: Members and Operators (admins are superusers)."""

from django.db import migrations

ROLE_GROUPS = ["Members", "Operators"]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("coop", "0003_invitation"),
    ]

    # Reversing leaves the groups: deleting them would silently strip everyone's role.
    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
