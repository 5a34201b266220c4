"""A run that takes longer than the controller's lease keeps the controller to itself: the lease is
renewed at every step, so the sweep or a redelivered task cannot start a second run beside it."""

import pytest
from django.utils import timezone

from power.models import PowerAction, PowerController
from power.tasks import run_power_action


@pytest.mark.django_db
def test_the_lease_is_still_this_runs_when_a_long_run_ends(scene, pdu, operator, settings, monkeypatch):
    settings.POWER_LOCK_SECONDS = 1  # shorter than the run: the outlet stays off for 2 s before it reads "on"
    monkeypatch.setattr(pdu, "reboot_seconds", 2.0)
    held_at_the_end = []
    release = PowerController.release_lock

    def record_then_release(controller, token):
        row = PowerController.objects.get(pk=controller.pk)
        held_at_the_end.append((row.lock_token == token, row.locked_until > timezone.now()))
        release(controller, token)

    monkeypatch.setattr(PowerController, "release_lock", record_then_release)
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    started = timezone.now()

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert (action.finished_at - started).total_seconds() > 1  # longer than the lease it first took
    assert held_at_the_end == [(True, True)]  # still ours, and not expired: renewed as it went
