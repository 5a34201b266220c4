"""Otto power-cycles dom0 through the PDU (the power tests' simulator): the endpoint hears once that it
finished, however many times the task runs, and nothing of the PDU's community string."""

import pytest

from power.models import PowerAction
from power.tasks import run_power_action
from tests.power.conftest import _fast_power, pdu, pdu_agent, scene  # noqa: F401 - the power tests' peer and scene
from webhooks.models import WebhookDelivery

from .conftest import verify


@pytest.mark.django_db
def test_a_cycle_run_by_the_worker_task_is_told_once(
    scene,  # noqa: F811
    endpoint,
    receiver,
    operator,
    sends_run_at_once,
    django_capture_on_commit_callbacks,
):
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen, no ping", by=operator)

    with django_capture_on_commit_callbacks(execute=True):
        run_power_action(action.pk)
        run_power_action(action.pk)  # a duplicate task: reads back, switches nothing, tells nothing

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert WebhookDelivery.objects.filter(event_type="power_action.finished").count() == 1
    [post] = [p for p in receiver.posts if b"power_action.finished" in p["body"]]
    data = verify(endpoint, post)["data"]
    assert (data["id"], data["state"], data["target"]) == (action.pk, "succeeded", "pdu-sf-1 outlet 4")
    assert all(b"harbor-private-7" not in p["body"] for p in receiver.posts)  # the PDU's community
