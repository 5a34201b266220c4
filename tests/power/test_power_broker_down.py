"""The broker is down when the operator presses the button: the request is kept and the sweep sends it later."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from hosts.models import PowerAction
from hosts.power.tasks import run_power_action, sweep_power_actions


@pytest.mark.django_db
def test_post_while_the_broker_is_down_is_sent_by_the_sweep_once_it_is_back(
    scene, pdu, operator_client, django_capture_on_commit_callbacks
):
    broker_down = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with (
        mock.patch.object(run_power_action, "apply_async", side_effect=broker_down),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = operator_client.post(reverse("power_request", args=[scene.machine.hostname]), _form(scene))
    assert response.status_code == 302  # the operator sees the action page, not an error
    action = PowerAction.objects.get()
    assert action.state == PowerAction.State.REQUESTED and action.dispatch_count == 0

    # Too early: the sweep leaves fresh requests to on_commit.
    with mock.patch.object(run_power_action, "apply_async") as send:
        assert sweep_power_actions() == 0
        send.assert_not_called()

    PowerAction.objects.filter(pk=action.pk).update(requested_at=timezone.now() - timedelta(minutes=2))
    with mock.patch.object(run_power_action, "apply_async", side_effect=lambda args: run_power_action(*args)) as send:
        assert sweep_power_actions() == 1
        send.assert_called_once_with((action.pk,))  # the primary key only

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED
    assert len(pdu.sets_for(4)) == 1
    # Swept again later: finished actions are never re-sent.
    with mock.patch.object(run_power_action, "apply_async") as send:
        sweep_power_actions()
        send.assert_not_called()


def _form(scene, **extra):
    return {
        "outlet": scene.outlet.pk,
        "operation": "cycle",
        "reason": "dom0 frozen, no ping",
        "confirm_hostname": scene.machine.hostname,
        **extra,
    }
