"""A batch of uptime checks sent through Redis runs in a real Celery worker: it probes a service on
127.0.0.1 from the worker process, and the outage it finds is on the incident list."""

from datetime import timedelta

import pytest

from hosts.models import Monitor
from incidents.models import Incident
from monitors.tasks import check_monitors

from ..factories import make_guest, make_machine
from .test_a_host_that_stops_answering import Listener


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_the_worker_finds_the_xen_host_down_and_opens_one_incident(celery_worker):
    service = Listener().start()
    dom0 = make_machine(hostname="xen1.harbor.example.org")
    wiki = make_guest(name="wiki.example.org", machine=dom0)
    monitors = [
        Monitor.objects.create(
            kind="tcp", target="127.0.0.1", port=service.port, timeout=timedelta(seconds=1), down_after=1, **subject
        )
        for subject in ({"machine": dom0}, {"guest": wiki})
    ]
    ids = [monitor.pk for monitor in monitors]

    assert check_monitors.apply_async((ids,), queue=celery_worker.queue).get(timeout=20)["up"] == 2
    service.stop()
    answer = check_monitors.apply_async((ids,), queue=celery_worker.queue).get(timeout=20)

    assert answer == {"checked": 2, "down": 2, "up": 0}
    outage = Incident.objects.exclude(status=Incident.Status.RESOLVED).get()
    assert outage.cause_key == f"machine:{dom0.pk}" and list(outage.guests.all()) == [wiki]
