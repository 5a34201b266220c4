"""The mail server goes silent: it accepts connections and never says a word (not even its greeting).

An operator tells the affected owners about an outage. The press only queues the notice; a real worker
tries to send it, gives up on each try within EMAIL_TIMEOUT, tries again with backoff and finally marks
it failed, on the incident's timeline. The next update is tried while the server is still silent, then
the server answers again: it is delivered, once, and the one given up on is never sent after all.
"""

import time

import pytest
from django.test import Client
from django.urls import reverse

from core.access import OPERATORS
from incidents import policy
from incidents.models import Incident, TimelineEntry
from notices.models import OwnerNotice
from tests.cast import make_user
from tests.factories import make_guest, make_machine, make_org, make_site
from tests.peers import Mailbox
from tests.power.conftest import pass_mfa

from .conftest import timed, wait_for
from .peers import TCPProxy

FAULT = "SMTP server silent"
ORDER = 4
BOUND = 1.0  # seconds the press may take
EMAIL_TIMEOUT = 2
ATTEMPTS = 3
RETRY_SECONDS = 1  # the first retry's wait; the next waits four times longer (notices.sending)
OWNER = "ops@wiki.example.org"


@pytest.fixture
def silent_mail_server():
    """A real SMTP server behind a proxy that can stall: accept, read, answer nothing."""
    mailbox = Mailbox().start()
    proxy = TCPProxy(mailbox.port).start()
    yield mailbox, proxy
    proxy.stop()
    mailbox.stop()


@pytest.fixture
def outage(db):
    """xen1 is down and takes the Wiki Project's guest with it; an operator put it on the status page."""
    xen1 = make_machine(hostname="xen1.harbor.example.org", site=make_site(name="Harbor Colo", slug="harbor"))
    make_guest(name="wiki1.example.org", machine=xen1, owner=make_org(name="Wiki Project", email=OWNER))
    incident, _ = policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(xen1),
        title="xen1.harbor.example.org is down",
        note="TCP is down: connection refused",
        kind=TimelineEntry.Kind.CHECK_FAILED,
        machines=[xen1],
    )
    return incident


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("faults")
def test_a_silent_mail_server_is_given_up_on_in_time_and_nobody_hears_anything_twice(
    fault, silent_mail_server, outage, workers, beat, django_user_model
):
    mailbox, proxy = silent_mail_server
    worker = workers(
        "mail",
        EMAIL_URL=f"smtp://127.0.0.1:{proxy.port}",
        EMAIL_TIMEOUT=str(EMAIL_TIMEOUT),
        ALERT_SEND_ATTEMPTS=str(ATTEMPTS),
        ALERT_RETRY_SECONDS=str(RETRY_SECONDS),
        SITE_URL="https://switchboard.example.org",
    )
    operator = make_user(django_user_model, "otto", OPERATORS)
    client = pass_mfa(Client(), operator)
    outage.publish(by=operator, title="Hosting outage in Harbor Colo")
    outage.post_update("Power is off in rack 4; the colo's technician is on the way.", by=operator, public=True)
    beat("notices.sweep_owner_notices", every=0.5)
    press = reverse("incident_notify_owners", args=[outage.pk])

    proxy.stall()
    response, took = timed(client.post, press)
    assert response.status_code == 302
    fault.page("notify owners", took, response.status_code, BOUND)
    given_up = wait_for(
        lambda: OwnerNotice.objects.filter(status=OwnerNotice.Status.FAILED).first(),
        "the notice to be given up on",
        timeout=ATTEMPTS * EMAIL_TIMEOUT + RETRY_SECONDS * (1 + 4) + 15,
        log=worker,
    )
    assert given_up.attempts == ATTEMPTS and "mail server did not take it" in given_up.last_error
    tries = [closed - opened for opened, closed in proxy.held if closed is not None]
    assert len(tries) == ATTEMPTS, proxy.held
    assert all(EMAIL_TIMEOUT - 0.5 < seconds < EMAIL_TIMEOUT + 1 for seconds in tries), tries
    told = outage.timeline.filter(kind=TimelineEntry.Kind.OWNERS_TOLD, body__startswith="Could not reach").get()
    assert OWNER in told.body and f"gave up after {ATTEMPTS} attempts" in told.body
    fault.kept.add(
        f"each of {ATTEMPTS} tries gave up after {max(tries):.1f} s (EMAIL_TIMEOUT {EMAIL_TIMEOUT} s); "
        "then failed, on the timeline"
    )

    outage.post_update("Power is back in rack 4; machines are starting.", by=operator, public=True)
    response, took = timed(client.post, press)
    assert response.status_code == 302
    fault.page("notify owners again", took, response.status_code, BOUND)
    wait_for(
        lambda: OwnerNotice.objects.filter(status=OwnerNotice.Status.RETRYING, attempts=1).exists(),
        "the second notice's first try to fail",
        timeout=EMAIL_TIMEOUT + 10,
        log=worker,
    )
    proxy.flow()
    answering_at = time.monotonic()
    delivered = wait_for(
        lambda: OwnerNotice.objects.filter(status=OwnerNotice.Status.SENT).first(),
        "the second notice to be delivered once the server answers",
        timeout=RETRY_SECONDS * 4 + 10,
        log=worker,
    )
    delivered_after = time.monotonic() - answering_at
    time.sleep(2)  # sweeps go on: nothing given up on or sent is sent again
    assert [message["to"] for message in mailbox.messages] == [[OWNER]]
    assert "Power is back" in mailbox.messages[0]["body"]
    assert delivered.attempts == 2
    assert OwnerNotice.objects.get(pk=given_up.pk).status == OwnerNotice.Status.FAILED
    fault.kept.add("the next update: delivered on its second try")
    fault.duplicates.add(f"emails to the owner: {len(mailbox.messages)} (the given-up one never sent)")
    fault.recovered.add(f"delivered {delivered_after:.1f} s after the server answered again")
