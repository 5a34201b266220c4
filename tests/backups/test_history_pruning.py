"""Old pings and checks are deleted daily, but never the check that "shrunk" compares with."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.models import BackupCheck, BackupState, HeartbeatPing
from backups.tasks import prune_backup_history

pytestmark = pytest.mark.django_db


def test_history_older_than_the_limit_goes_but_the_last_good_check_stays(settings, heartbeat):
    settings.BACKUP_HISTORY_DAYS = 30
    now = timezone.now()
    old, recent = now - timedelta(days=45), now - timedelta(days=2)
    HeartbeatPing.objects.create(target=heartbeat, kind="success", received_at=old)
    fresh_ping = HeartbeatPing.objects.create(target=heartbeat, kind="success", received_at=recent)
    last_good = BackupCheck.objects.create(target=heartbeat, state=BackupState.OK, size_bytes=900, checked_at=old)
    BackupCheck.objects.create(
        target=heartbeat, state=BackupState.OK, size_bytes=800, checked_at=old - timedelta(days=1)
    )
    failing = BackupCheck.objects.create(target=heartbeat, state=BackupState.STALE, checked_at=recent)

    result = prune_backup_history(now=now)

    assert result == {"pings": 1, "checks": 1}
    assert list(HeartbeatPing.objects.all()) == [fresh_ping]
    assert set(BackupCheck.objects.all()) == {last_good, failing}
