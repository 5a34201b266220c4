"""A worker is SIGKILLed while it sends an alert: the mail server has taken the message, and the worker dies
waiting for the answer to QUIT, before it can record "sent".

The same task delivered again (to another real worker) sends nothing, and beat's tick closes the
notification once the dead worker's lease is over: failed as abandoned, said so on the incident's
timeline, the escalation going on. The volunteer gets the alert once. (The power half of this fault,
a worker killed mid-reboot, is tests/power/test_worker_killed_mid_cycle.py.)
"""

import os
import signal
import time

import pytest
from celery.result import AsyncResult

from alerts.models import Alert, EscalationPolicy, EscalationStep, Notification
from coop.models import ContactMethod
from incidents import policy
from incidents.models import Incident, TimelineEntry
from switchboard.celery import app
from tests.factories import make_machine, make_person, make_site

from .conftest import wait_for
from .peers import HoldingMailbox

FAULT = "Worker SIGKILLed mid-send"
ORDER = 6
LEASE = 3  # seconds (ALERT_SEND_LEASE_SECONDS): a send still "sending" after this was abandoned by its worker
DOOMED_QUEUE = "alerts-doomed"


@pytest.fixture
def mailbox():
    box = HoldingMailbox().start()
    yield box
    box.release()
    box.stop()


@pytest.fixture
def ana(db):
    """Ana, the one volunteer the Outages policy alerts first (by email); Bo after ten minutes."""
    ana = make_person(name="Ana Example", is_volunteer=True)
    ContactMethod.objects.create(person=ana, kind="email", value="ana@example.org")
    bo = make_person(name="Bo Example", is_volunteer=True)
    ContactMethod.objects.create(person=bo, kind="email", value="bo@example.org")
    outages = EscalationPolicy.objects.create(name="Outages", is_default=True, repeat=0)
    EscalationStep.objects.create(policy=outages, position=1, notify="person", person=ana, wait_minutes=10)
    EscalationStep.objects.create(policy=outages, position=2, notify="person", person=bo, wait_minutes=10)
    return ana


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("faults")
def test_a_worker_killed_after_the_mail_server_took_the_alert_never_sends_it_twice(
    fault, mailbox, ana, workers, beat, settings
):
    mail = {"EMAIL_URL": f"smtp://127.0.0.1:{mailbox.port}", "SITE_URL": "https://switchboard.example.org"}
    doomed, survivor = workers.start_all(
        ("doomed", {"queues": (DOOMED_QUEUE,), "ALERT_SEND_LEASE_SECONDS": str(LEASE), **mail}),
        ("survivor", mail),
    )
    settings.ALERT_QUEUE = DOOMED_QUEUE  # this process queues the first send to the doomed worker
    mailbox.hold_quit = True
    xen1 = make_machine(hostname="xen1.harbor.example.org", site=make_site(name="Harbor Colo", slug="harbor"))

    incident, _ = policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(xen1),
        title="xen1.harbor.example.org is down",
        note="TCP is down: connection refused",
        kind=TimelineEntry.Kind.CHECK_FAILED,
        machines=[xen1],
    )
    wait_for(mailbox.quit_held.is_set, "the mail server to take the alert", timeout=20, log=doomed)
    assert [message["to"] for message in mailbox.messages] == [["ana@example.org"]]
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.process.wait(timeout=5)
    killed_at = time.monotonic()
    notification = Notification.objects.get()
    assert notification.status == Notification.Status.SENDING, "recorded before the kill: the test proved nothing"

    # The same task again, as a broker delivers a message twice: it finds the send claimed and does nothing.
    alert = Alert.objects.get(incident=incident)
    again = app.send_task("alerts.send_notification", args=(notification.pk, str(alert.token)))
    assert AsyncResult(again.id, app=app).get(timeout=15) is None
    ticks = beat("alerts.escalate_due_alerts", every=0.5)
    wait_for(
        lambda: Notification.objects.get(pk=notification.pk).status == Notification.Status.FAILED,
        "beat's tick to close the abandoned send",
        timeout=LEASE + 15,
        log=survivor,
    )
    closed_after = time.monotonic() - killed_at
    time.sleep(1)  # more ticks: nothing is sent again
    assert ticks.sent > 1
    notification.refresh_from_db()
    assert notification.last_error == "the worker stopped while sending it" and notification.attempts == 1
    said = incident.timeline.filter(kind=TimelineEntry.Kind.ALERT_FAILED).values_list("body", flat=True)
    assert any("not sent again, so nobody gets it twice" in body for body in said), list(said)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACTIVE and alert.step == 1, "the escalation goes on to Bo"
    assert len(mailbox.messages) == 1
    fault.kept.add(f"the alert's send: closed as abandoned {closed_after:.1f} s after the kill; escalation goes on")
    fault.duplicates.add(f"emails to Ana: {len(mailbox.messages)} (the redelivered task sent none)")
    fault.recovered.add(f"beat's tick closed it after the lease (ALERT_SEND_LEASE_SECONDS={LEASE}), nothing pressed")
