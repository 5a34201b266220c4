"""The demo's outage, as a newcomer plays it: every demo machine and guest answers on 127.0.0.1,
`manage.py demo_hosts --stop xen1` takes the Xen host and its guests down, the checker opens one
incident for xen1 listing wiki1 and blog1, and `--start xen1` brings it all back and resolves it."""

import asyncio
import contextlib
import socket
import threading
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from demo.hosts import DemoHosts
from demo.management.commands import demo_hosts
from hosts.models import Monitor
from incidents.models import Incident
from monitors.checker import check_batch

pytestmark = pytest.mark.django_db


def free_port():
    return free_ports(1)[0]


def free_ports(count):
    """`count` distinct free ports: each socket stays bound until all are picked, so no two monitors share
    one (CI once gave xen1 and vz1 the same port, and stopping xen1 took vz1 down with it)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """The seeded demo with its stand-ins on free ports (a `make run` may hold the usual ones)."""
    call_command("seed_demo", "--even-without-debug", stdout=StringIO())
    monitors = list(Monitor.objects.all())
    for monitor, port in zip(monitors, free_ports(len(monitors)), strict=True):
        if monitor.kind == Monitor.Kind.HTTP:
            url = urlsplit(monitor.target)
            monitor.target = url._replace(netloc=f"127.0.0.1:{port}").geturl()
        else:
            monitor.port = port
        monitor.save()
    monkeypatch.setattr(demo_hosts, "DOWN_FILE", tmp_path / "down.txt")
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    hosts = DemoHosts(demo_hosts.stand_ins(), tmp_path / "down.txt")

    def sync():
        asyncio.run_coroutine_threadsafe(hosts.sync(), loop).result(timeout=10)

    sync()
    yield sync
    asyncio.run_coroutine_threadsafe(hosts.close(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)


def check_all():
    return check_batch(list(Monitor.objects.values_list("pk", flat=True)))


def states():
    return {
        str(m.guest or m.machine).split(".")[0]: m.state for m in Monitor.objects.select_related("machine", "guest")
    }


def test_every_demo_machine_and_guest_answers(demo):
    check_all()

    assert set(states().values()) == {Monitor.State.UP}
    assert not Incident.objects.filter(cause=Incident.Cause.OUTAGE).exclude(status="resolved").exists()


def test_stopping_xen1_opens_one_incident_listing_its_guests_and_starting_it_resolves_it(demo):
    check_all()

    call_command("demo_hosts", "--stop", "xen1", stdout=StringIO())
    demo()
    check_all()
    check_all()  # down after two failed checks

    assert {name for name, state in states().items() if state == Monitor.State.DOWN} == {"xen1", "wiki1", "blog1"}
    outage = Incident.objects.exclude(status="resolved").get(cause=Incident.Cause.OUTAGE)
    assert outage.title.startswith("xen1.") and outage.title.endswith(" is down")
    assert {guest.name.split(".")[0] for guest in outage.guests.all()} == {"wiki1", "blog1"}

    call_command("demo_hosts", "--start", "xen1", stdout=StringIO())
    demo()
    check_all()

    outage.refresh_from_db()
    assert outage.status == Incident.Status.RESOLVED
    assert set(states().values()) == {Monitor.State.UP}


def test_stopping_a_name_the_demo_does_not_have_says_so(demo):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No demo machine or guest called 'xen9'"):
        call_command("demo_hosts", "--stop", "xen9", stdout=StringIO())
