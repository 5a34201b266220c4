"""Someone deletes the incident of a backup that is still stale: the next sweep opens a new one,
and its note says the backup is still stale (not "Stale → Stale")."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.models import BackupState, BackupTarget
from backups.tasks import check_due_backups
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_the_next_sweep_reopens_it_saying_the_backup_is_still_stale(etc_backup):
    # The /etc job has never pinged since it was set up three hours ago (it is expected hourly).
    BackupTarget.objects.filter(pk=etc_backup.pk).update(created_at=timezone.now() - timedelta(hours=3))
    check_due_backups()
    first = Incident.objects.get()
    assert (
        first.timeline.get().body == "Backup “dom0 /etc”: Not checked yet → Stale. The job has never reported success."
    )

    first.delete()
    check_due_backups()

    etc_backup.refresh_from_db()
    second = Incident.objects.get()
    assert etc_backup.state == BackupState.STALE and etc_backup.incident == second
    assert second.title == "dom0 backups stale (dom0 /etc)"
    assert second.timeline.get().body == "Backup “dom0 /etc”: still stale. The job has never reported success."


def test_a_sweep_that_finds_nothing_new_adds_nothing(etc_backup):
    BackupTarget.objects.filter(pk=etc_backup.pk).update(created_at=timezone.now() - timedelta(hours=3))
    check_due_backups()

    check_due_backups()

    assert Incident.objects.get().timeline.count() == 1
