"""A service that keeps falling over and coming back (a crash loop, a bad cable) must not open and close
an incident, and wake someone, every minute. Once a monitor has changed state MONITOR_FLAP_CHANGES
times in 30 minutes it is flapping: it stays down until it has answered for MONITOR_FLAP_QUIET_MINUTES,
so the episode is one open incident, the volunteer is told why it stays open, and the table gets a
handful of rows instead of one per flip. A real TCP listener on 127.0.0.1; the checks at controlled times."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hosts.models import Monitor
from incidents.models import Incident
from monitors.checker import check_batch
from monitors.history import attach_history
from monitors.models import MonitorTransition
from monitors.verdicts import flap_up_after, is_flapping

from ..factories import make_machine
from .test_a_host_that_stops_answering import Listener

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) - timedelta(hours=2)


@pytest.fixture(autouse=True)
def _flap_policy(settings):
    settings.MONITOR_FLAP_CHANGES = 3
    settings.MONITOR_FLAP_QUIET_MINUTES = 10


@pytest.fixture
def service():
    listener = Listener().start()
    yield listener
    listener.stop()


@pytest.fixture
def monitor(service):
    xen1 = make_machine(hostname="xen1.harbor.example.org")
    return Monitor.objects.create(
        machine=xen1,
        kind="tcp",
        target="127.0.0.1",
        port=service.port,
        timeout=timedelta(seconds=1),
        interval=timedelta(minutes=1),
        down_after=1,
    )


class Clock:
    """Checks one minute apart, as the scheduler would run them."""

    def __init__(self, monitor, service):
        self.monitor, self.service, self.minute, self.answering = monitor, service, 0, True

    def check(self, answering):
        if answering != self.answering:
            self.service.start() if answering else self.service.stop()
            self.answering = answering
        check_batch([self.monitor.pk], now=START + timedelta(minutes=self.minute))
        self.minute += 1
        self.monitor.refresh_from_db()
        return self.monitor.state


@pytest.fixture
def clock(monitor, service):
    return Clock(monitor, service)


def outages():
    return Incident.objects.filter(cause=Incident.Cause.OUTAGE)


def test_half_an_hour_of_flapping_is_two_incidents_and_a_handful_of_rows(clock):
    clock.check(answering=True)
    for minute in range(30):
        clock.check(answering=minute % 2 == 1)  # down, up, down, up …

    # The first fall and recovery are an ordinary outage; from the second fall on it is flapping.
    assert outages().count() == 2
    assert outages().exclude(status=Incident.Status.RESOLVED).count() == 1
    assert MonitorTransition.objects.count() == 4  # unknown→up, down, up, down: not 31
    assert clock.monitor.state == Monitor.State.DOWN


def test_the_volunteer_is_told_once_why_the_incident_stays_open(clock):
    clock.check(answering=True)
    for minute in range(12):
        clock.check(answering=minute % 2 == 1)

    incident = outages().exclude(status=Incident.Status.RESOLVED).get()
    notes = incident.timeline.filter(body__contains="has gone down and up repeatedly")
    assert notes.count() == 1
    assert "counts as up once it has answered for 10 minutes" in notes.get().body


def test_after_ten_quiet_minutes_it_is_up_and_the_incident_resolves(clock):
    clock.check(answering=True)
    for minute in range(5):
        clock.check(answering=minute % 2 == 1)  # down, up, down, up (held), down
    flapping = outages().exclude(status=Incident.Status.RESOLVED).get()

    states = [clock.check(answering=True) for _ in range(10)]

    assert states == [Monitor.State.DOWN] * 9 + [Monitor.State.UP]
    flapping.refresh_from_db()
    assert flapping.status == Incident.Status.RESOLVED


def test_a_steady_monitor_that_goes_down_once_comes_back_at_once(clock):
    clock.check(answering=True)
    clock.check(answering=False)
    assert clock.check(answering=True) == Monitor.State.UP
    assert outages().get().status == Incident.Status.RESOLVED


def test_the_page_says_the_monitor_is_flapping(member_client, clock):
    clock.check(answering=True)
    for minute in range(4):
        clock.check(answering=minute % 2 == 1)

    monitors = list(Monitor.objects.filter(pk=clock.monitor.pk))
    attach_history(monitors, now=START + timedelta(minutes=clock.minute))

    assert monitors[0].history.flapping == "flapping: counts as up once it has answered for 10 minutes"


def test_flapping_is_judged_from_values_alone():
    assert not is_flapping(2, flap_changes=3)
    assert is_flapping(3, flap_changes=3)
    # Ten quiet minutes at one check a minute is ten good checks; at every 20 s, thirty.
    assert flap_up_after(1, 60, 600) == 10
    assert flap_up_after(1, 20, 600) == 30
    assert flap_up_after(15, 60, 600) == 15  # a monitor already stricter than that keeps its own
