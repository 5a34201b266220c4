"""Through real processes: a Celery worker on Redis POSTs the outage to the ops chat; while the chat's server
is down the delivery waits, and the sweep (run by the same worker) delivers it once the server is back."""

import time

import pytest
from django.db.models import F

from incidents import policy
from incidents.models import Incident, TimelineEntry
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tasks import sweep_webhook_deliveries

from ..factories import make_machine
from .conftest import Receiver, verify


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_worker_delivers_and_retries_once_the_server_is_back(receiver, start_celery_worker, settings):
    worker = start_celery_worker("webhooks", WEBHOOK_QUEUE="{queue}", WEBHOOK_TIMEOUT_SECONDS="1")
    settings.WEBHOOK_QUEUE = worker.queue  # this process queues the sends to that worker
    endpoint = WebhookEndpoint.objects.create(name="Ops chat", url=receiver.url)
    xen1 = make_machine(hostname="xen1.harbor.example.org")

    def report(note):
        return policy.report(
            Incident.Cause.OUTAGE,
            policy.outage_key(xen1),
            title="xen1.harbor.example.org is down",
            note=note,
            kind=TimelineEntry.Kind.CHECK_FAILED,
            machines=[xen1],
        )

    report("TCP is down")  # committed: the send is queued to the worker on commit
    [post] = receiver.wait_for(1)
    assert verify(endpoint, post)["type"] == "incident.opened"

    port = receiver.port
    receiver.stop()
    report("Ping is down too")
    assert wait_until(lambda: WebhookDelivery.objects.filter(state="retrying").exists())

    back = Receiver(port=port).start()
    try:
        # The retry's wait is over (30 s, shortened here), and beat sends the sweep.
        WebhookDelivery.objects.filter(state="retrying").update(next_attempt_at=F("last_attempt_at"))
        sweep_webhook_deliveries.apply_async(queue=worker.queue).get(timeout=20)
        [again] = back.wait_for(1)
    finally:
        back.stop()
    assert verify(endpoint, again)["type"] == "incident.updated"
    assert wait_until(lambda: WebhookDelivery.objects.filter(state="delivered").count() == 2)
