"""Story 001 from the checker's side: a Xen host's service stops answering on 127.0.0.1, the checker
calls it down after two failed checks, one incident opens for the host listing its guests, the
guests' own checks join it instead of opening theirs, and it resolves when everything answers
again. Real TCP listeners on 127.0.0.1; the checker's batches run as the worker runs them."""

import contextlib
import socket
import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.page_cache import GENERATION_KEY
from hosts.models import Monitor
from incidents.models import Incident, TimelineEntry
from monitors.checker import check_batch, claim_due
from monitors.models import MonitorStatus, MonitorTransition

from ..factories import make_guest, make_machine

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


class Listener:
    """A TCP service on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.sock = None

    def start(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        threading.Thread(target=self._accept, args=(self.sock,), daemon=True).start()
        return self

    def _accept(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.close()

    def stop(self):
        # shutdown() first: a close() alone leaves the socket listening while accept() waits on it.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.fixture
def xen1_service():
    listener = Listener().start()
    yield listener
    listener.stop()


@pytest.fixture
def dom0(xen1_service):
    return make_machine(hostname="xen1.harbor.example.org")


def watch(subject, port, **fields):
    field = "guest" if subject._meta.model_name == "guest" else "machine"
    return Monitor.objects.create(
        kind=Monitor.Kind.TCP, target="127.0.0.1", port=port, timeout=timedelta(seconds=1), **{field: subject}, **fields
    )


def check(*monitors):
    return check_batch([monitor.pk for monitor in monitors])


def state(monitor):
    monitor.refresh_from_db()
    return monitor.state


def test_a_host_that_answers_is_up_after_one_check(dom0, xen1_service):
    monitor = watch(dom0, xen1_service.port)

    assert check(monitor) == {"checked": 1, "down": 0, "up": 1}

    assert state(monitor) == Monitor.State.UP
    assert not Incident.objects.exists()


def test_one_failed_check_wakes_nobody_and_the_second_opens_one_incident(dom0, xen1_service):
    monitor = watch(dom0, xen1_service.port)
    check(monitor)
    xen1_service.stop()

    check(monitor)
    assert state(monitor) == Monitor.State.UP and not Incident.objects.exists()

    check(monitor)
    assert state(monitor) == Monitor.State.DOWN
    incident = Incident.objects.get()
    assert incident.cause == Incident.Cause.OUTAGE and incident.cause_key == f"machine:{dom0.pk}"
    assert incident.title == "xen1.harbor.example.org is down" and incident.title_by_switchboard
    assert list(incident.machines.all()) == [dom0]
    failed = incident.timeline.get(kind=TimelineEntry.Kind.CHECK_FAILED)
    assert "refused" in failed.body.lower() and not failed.is_public
    assert [(t.from_state, t.to_state) for t in MonitorTransition.objects.order_by("at", "pk")] == [
        ("unknown", "up"),
        ("up", "down"),
    ]


def test_the_guests_of_a_host_that_is_down_join_its_incident(dom0, xen1_service):
    wiki, blog = make_guest(name="wiki.example.org", machine=dom0), make_guest(name="blog.example.org", machine=dom0)
    host = watch(dom0, xen1_service.port, down_after=1)
    guests = [watch(wiki, xen1_service.port, down_after=1), watch(blog, xen1_service.port, down_after=1)]
    check(host, *guests)
    xen1_service.stop()

    check(host, *guests)

    incident = Incident.objects.get()
    assert incident.cause_key == f"machine:{dom0.pk}"
    assert set(incident.guests.all()) == {wiki, blog}
    assert set(incident.affected_guests()) == {wiki, blog}
    assert incident.timeline.filter(kind=TimelineEntry.Kind.CHECK_FAILED).count() == 3


def test_a_guest_down_on_a_healthy_host_is_its_own_incident(dom0, xen1_service):
    wiki = make_guest(name="wiki.example.org", machine=dom0)
    closed = Listener()  # nothing listens on its port
    host, guest = watch(dom0, xen1_service.port), watch(wiki, closed.port, down_after=1)

    check(host, guest)

    incident = Incident.objects.get()
    assert incident.cause_key == f"guest:{wiki.pk}" and list(incident.guests.all()) == [wiki]
    assert state(host) == Monitor.State.UP


def test_when_everything_answers_again_the_incident_is_resolved(dom0, xen1_service):
    wiki = make_guest(name="wiki.example.org", machine=dom0)
    host, guest = watch(dom0, xen1_service.port, down_after=1), watch(wiki, xen1_service.port, down_after=1)
    check(host, guest)
    xen1_service.stop()
    check(host, guest)
    incident = Incident.objects.get()

    xen1_service.start()
    check(host)  # the host first: its guest is still down, so the incident stays open
    incident.refresh_from_db()
    assert incident.is_open

    check(guest)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds == ["check_failed", "check_failed", "check_recovered", "check_recovered", "status"]


def test_a_person_working_on_the_host_gets_the_news_but_resolves_it_themselves(dom0, xen1_service, operator):
    from incidents import policy

    theirs = policy.open_by_person(
        title="xen1 disk swap", by=operator, cause=Incident.Cause.MAINTENANCE, machines=[dom0]
    )
    monitor = watch(dom0, xen1_service.port, down_after=1)
    check(monitor)
    xen1_service.stop()
    check(monitor)
    xen1_service.start()
    check(monitor)

    assert Incident.objects.get() == theirs
    theirs.refresh_from_db()
    assert theirs.is_open
    assert list(theirs.timeline.values_list("kind", flat=True)) == ["status", "check_failed", "check_recovered"]


def test_a_round_that_changes_nothing_leaves_kept_pages_kept(dom0, xen1_service):
    monitor = watch(dom0, xen1_service.port)
    check(monitor)  # unknown → up: news
    before = cache.get(GENERATION_KEY)

    check(monitor)
    check(monitor)

    assert cache.get(GENERATION_KEY) == before
    assert MonitorStatus.objects.get(monitor=monitor).successes == 3
    xen1_service.stop()
    check(monitor)
    check(monitor)  # down: news, pages show it
    assert cache.get(GENERATION_KEY) != before


def test_a_due_monitor_is_handed_out_once_per_interval(dom0, xen1_service):
    monitor = watch(dom0, xen1_service.port, interval=timedelta(seconds=60))
    paused = watch(dom0, xen1_service.port, is_enabled=False)
    now = timezone.now()

    assert claim_due(now) == [monitor.pk]
    assert claim_due(now + timedelta(seconds=30)) == []
    assert claim_due(now + timedelta(seconds=61)) == [monitor.pk]
    assert paused.pk not in claim_due(now + timedelta(hours=1))


def test_a_monitor_the_form_would_refuse_is_down_with_why_and_the_rest_of_its_batch_is_checked(dom0, xen1_service):
    # Written around the form (a script, an import): a DNS check with a recorded address that is no address.
    broken = Monitor.objects.create(
        machine=dom0, kind=Monitor.Kind.DNS, target="xen1.harbor.example.org", expected_addresses="not-an-address"
    )
    fine = watch(dom0, xen1_service.port)

    check(broken, fine)
    check(broken, fine)

    assert state(fine) == Monitor.State.UP
    assert state(broken) == Monitor.State.DOWN
    assert "cannot be checked" in MonitorStatus.objects.get(monitor=broken).last_error
