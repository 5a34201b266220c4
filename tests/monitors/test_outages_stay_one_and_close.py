"""The checker's outages stay one per host and never stay open with nothing down (hostile review of
the first checker slice): a guest that went down before its host, a host and its guests in one round,
a monitor switched off or deleted while down, two dispatchers at once, a demo port already taken."""

import asyncio
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from demo.hosts import DemoHosts, StandIn
from hosts.models import Monitor
from incidents.models import Incident
from monitors.checker import check_batch, claim_due, close_quiet_outages

from ..factories import make_guest, make_machine
from .test_a_host_that_stops_answering import Listener

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    listener = Listener().start()
    yield listener
    listener.stop()


def tcp(subject, port, **fields):
    field = "guest" if subject._meta.model_name == "guest" else "machine"
    return Monitor.objects.create(
        kind="tcp",
        target="127.0.0.1",
        port=port,
        timeout=timedelta(seconds=1),
        down_after=1,
        **{field: subject},
        **fields,
    )


def check(*monitors):
    check_batch([monitor.pk for monitor in monitors])


def open_outages():
    return Incident.objects.filter(cause=Incident.Cause.OUTAGE).exclude(status=Incident.Status.RESOLVED)


def test_a_host_and_its_guest_going_down_in_one_round_are_one_incident_whatever_the_order(service):
    dom0 = make_machine(hostname="xen1.harbor.example.org")
    wiki = make_guest(name="wiki.example.org", machine=dom0)
    # The guest's target sorts first, so it is read first from the batch.
    guest = tcp(wiki, service.port)
    host = Monitor.objects.create(
        machine=dom0, kind="tcp", target="localhost", port=service.port, timeout=timedelta(seconds=1), down_after=1
    )
    check(guest, host)
    service.stop()

    check(guest, host)

    outage = open_outages().get()
    assert outage.cause_key == f"machine:{dom0.pk}" and list(outage.guests.all()) == [wiki]


def test_a_host_going_down_after_its_guest_takes_over_the_guests_incident(service):
    dom0 = make_machine(hostname="xen1.harbor.example.org")
    wiki = make_guest(name="wiki.example.org", machine=dom0)
    closed = Listener()
    guest, host = tcp(wiki, closed.port), tcp(dom0, service.port)
    check(guest, host)  # the wiki is down on a healthy host: its own incident
    service.stop()

    check(host)

    outage = open_outages().get()
    assert outage.title == "xen1.harbor.example.org is down"
    assert list(outage.machines.all()) == [dom0] and list(outage.guests.all()) == [wiki]


def test_an_outage_whose_monitor_was_switched_off_while_down_is_closed(service):
    dom0 = make_machine()
    monitor = tcp(dom0, Listener().port)
    check(monitor)
    assert open_outages().exists()

    Monitor.objects.filter(pk=monitor.pk).update(is_enabled=False)

    assert close_quiet_outages() == 1
    assert not open_outages().exists()


def test_an_outage_whose_monitor_was_deleted_while_down_is_closed(service):
    dom0 = make_machine()
    monitor = tcp(dom0, Listener().port)
    check(monitor)
    monitor.delete()

    close_quiet_outages()

    assert not open_outages().exists()


def test_an_outage_with_something_still_down_stays_open(service):
    dom0 = make_machine()
    check(tcp(dom0, Listener().port))

    assert close_quiet_outages() == 0
    assert open_outages().count() == 1


def test_a_second_dispatch_at_the_same_moment_hands_out_nothing_the_first_took(service):
    monitors = [tcp(make_machine(), service.port) for _ in range(3)]
    now = timezone.now()

    first, second = claim_due(now), claim_due(now)

    assert sorted(first) == sorted(m.pk for m in monitors) and second == []


def test_one_demo_port_already_taken_leaves_the_other_stand_ins_answering(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    free = Listener()
    hosts = DemoHosts(
        [StandIn(taken.getsockname()[1], "xen1.example.org", "xen1.example.org"), StandIn(free.port, "wiki", "x")],
        tmp_path / "down.txt",
    )

    async def sync_and_close():
        await hosts.sync()
        running = set(hosts.servers)
        await hosts.close()
        return running

    assert asyncio.run(sync_and_close()) == {free.port}
    taken.close()
