"""A PDU that misses one answer is tried again even when the task already waited for the controller's
lock many times: lock waits and transport retries have budgets of their own."""

import pytest

from power.drivers.snmp import REBOOT
from power.models import PowerAction
from power.tasks import run_power_action


@pytest.mark.django_db
def test_a_pdu_silent_once_after_long_lock_waits_is_still_retried(scene, pdu, operator, settings, monkeypatch):
    settings.POWER_TRANSPORT_RETRIES = 1
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    pdu.silent = True
    real_note_retry = PowerAction.note_retry

    def answer_again_after_the_retry(self, *, transport):
        real_note_retry(self, transport=transport)
        pdu.silent = False

    monkeypatch.setattr(PowerAction, "note_retry", answer_again_after_the_retry)
    # As if the task had already come back five times for a busy controller.
    run_power_action.apply(args=(action.pk,), retries=5)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert action.transport_retries == 1
    assert action.dispatched_at is not None  # the retry counts as a send: the sweep leaves it to the backoff
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
