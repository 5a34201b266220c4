"""An admin moving the co-op to a new server: `manage.py export` on the old one, `manage.py migrate` and
`manage.py import` on the new one, and every row is back as it was, history and group memberships too."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from coop.models import Site
from core.access import OPERATORS
from hosts.models import Machine
from incidents.models import Incident

from .conftest import co_op_rows, empty_the_database, export, import_file, without_date

pytestmark = pytest.mark.django_db


def test_the_demo_co_op_comes_back_row_for_row(demo_coop, tmp_path):
    before = export(tmp_path / "old-server.json")
    rows_before = co_op_rows()

    empty_the_database()
    assert co_op_rows() == {}
    printed = import_file(tmp_path / "old-server.json")

    assert "Imported" in printed and "without secrets" in printed
    assert co_op_rows() == rows_before
    # Exporting the new server gives the same file: every field of every row of every model.
    after = export(tmp_path / "new-server.json")
    assert without_date(after) == without_date(before)


def test_the_file_says_what_it_is_and_holds_every_co_op_model(demo_coop, tmp_path):
    envelope = export(tmp_path / "coop.json")

    assert envelope["format"] == "switchboard-export" and envelope["version"] == 1
    assert timezone.datetime.fromisoformat(envelope["exported_at"])
    assert envelope["secrets"] == {"included": False}
    labels = set(envelope["models"])
    assert {
        "coop.Site",
        "hosts.Machine",
        "incidents.Incident",
        "power.PowerController",
        "backups.BackupTarget",
    } <= labels
    assert {"monitors.MonitorStatus", "alerts.Rota", "notices.OwnerNotice"} <= labels
    assert {"coop.HistoricalSite", "hosts.HistoricalMachine", "hosts.HistoricalMachine_admins"} <= labels  # history
    assert {"auth.User", "auth.Group", "account.EmailAddress"} <= labels
    # Runtime state is not the co-op: made again by use or by migrate.
    assert not labels & {"sessions.Session", "django_celery_results.TaskResult", "django_celery_beat.PeriodicTask"}
    assert not labels & {"admin.LogEntry", "contenttypes.ContentType", "auth.Permission", "account.EmailConfirmation"}


def test_users_keep_their_groups_matched_by_name(demo_coop, tmp_path):
    demo = get_user_model().objects.get()
    demo.groups.add(Group.objects.get(name=OPERATORS))
    export(tmp_path / "coop.json")
    empty_the_database()

    import_file(tmp_path / "coop.json")

    assert list(get_user_model().objects.get(pk=demo.pk).groups.values_list("name", flat=True)) == [OPERATORS]


def test_the_imported_history_is_the_old_one_and_no_more(demo_coop, tmp_path):
    xen = Machine.objects.get(hostname="xen1.foghorn.example.net")
    history = list(xen.history.values_list("history_id", "history_type", "history_change_reason"))
    export(tmp_path / "coop.json")
    empty_the_database()

    import_file(tmp_path / "coop.json")

    # Writing the rows back (and their many-to-many links) records no change of its own.
    assert (
        list(Machine.objects.get(pk=xen.pk).history.values_list("history_id", "history_type", "history_change_reason"))
        == history
    )


def test_the_new_server_numbers_new_rows_after_the_imported_ones(demo_coop, tmp_path):
    export(tmp_path / "coop.json")
    highest = max(Site.objects.values_list("pk", flat=True))
    empty_the_database()
    import_file(tmp_path / "coop.json")

    site = Site.objects.create(name="Riverside", slug="riverside")

    assert site.pk > highest
    assert Incident.objects.count() == 1


def test_the_export_is_readable_by_its_owner_only(demo_coop, tmp_path):
    export(tmp_path / "coop.json")

    assert (tmp_path / "coop.json").stat().st_mode & 0o077 == 0
    assert not (tmp_path / ".coop.json.partial").exists()
    json.loads((tmp_path / "coop.json").read_text())
