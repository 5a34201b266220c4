"""The whole path through real processes: a Celery worker on Redis checks the Xen host, finds it down,
opens the incident and emails the on-call volunteer through a real SMTP server; the link in that email
acknowledges the alert."""

import re
from datetime import timedelta

import pytest

from alerts.models import Alert
from hosts.models import Monitor
from monitors.tasks import check_monitors

from ..monitors.test_a_host_that_stops_answering import Listener


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_worker_detects_the_outage_and_the_on_call_volunteer_gets_a_link_that_works(
    xen1, outage_policy, ana, mailbox, client, start_celery_worker
):
    worker = start_celery_worker(
        "alerts",
        ALERT_QUEUE="{queue}",
        EMAIL_URL=f"smtp://127.0.0.1:{mailbox.port}",
        SITE_URL="https://switchboard.example.org",
    )
    service = Listener().start()
    monitor = Monitor.objects.create(
        machine=xen1, kind="tcp", target="127.0.0.1", port=service.port, timeout=timedelta(seconds=1)
    )

    def check():
        return check_monitors.apply_async(([monitor.pk],), queue=worker.queue).get(timeout=20)

    assert check()["up"] == 1
    service.stop()
    assert check()["down"] == 0
    assert check()["down"] == 1

    mail = mailbox.wait_for(1, timeout=30)
    assert mail and mail[0]["subject"] == "[Switchboard] DOWN: xen1.harbor.example.org is down"
    on_call = Alert.objects.get().steps[0]
    assert on_call["notify"] == "rota"
    link = re.search(r"https://switchboard\.example\.org(/alerts/ack/\S+/)", mail[0]["body"]).group(1)
    client.post(link)
    assert Alert.objects.get().status == Alert.Status.ACKNOWLEDGED
