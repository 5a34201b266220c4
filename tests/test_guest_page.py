"""The guest page's timeline: what happened to the guest, and to the host it runs on (a power-cycle
of the host took the guest down with it), even when no incident was open."""

import pytest

from incidents.models import Incident
from power.models import PowerAction, PowerOutlet
from tests.factories import make_guest, make_machine, make_pdu

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def timeline_of(client, guest):
    response = client.get(f"/guests/{guest.name}/")
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('id="timeline"') : html.index('id="details"')]


def power_cycle_requested(machine, by, reason):
    pdu = make_pdu(name=f"pdu-{machine.hostname.split('.')[0]}", site=machine.site, host="192.0.2.9")
    outlet = PowerOutlet.objects.create(controller=pdu, number=1, machine=machine)
    PowerAction.request(outlet=outlet, operation="cycle", reason=reason, by=by)


def test_a_guest_page_shows_that_its_host_was_power_cycled(member_client, operator):
    xen9 = make_machine(hostname="xen9.colo.example.org")
    wiki = make_guest(name="wiki9.example.org", machine=xen9)

    power_cycle_requested(xen9, operator, reason="dom0 frozen, no ping")

    assert not Incident.objects.exists()
    timeline = timeline_of(member_client, wiki)
    assert "Otto asked for a power-cycle of pdu-xen9 outlet 1. Reason: dom0 frozen, no ping" in timeline


def test_a_guest_page_does_not_show_a_power_cycle_of_another_host(member_client, operator):
    wiki = make_guest(name="wiki9.example.org", machine=make_machine(hostname="xen9.colo.example.org"))
    neighbour = make_machine(hostname="xen10.colo.example.org")

    power_cycle_requested(neighbour, operator, reason="xen10 frozen")

    timeline = timeline_of(member_client, wiki)
    assert "xen10 frozen" not in timeline
    assert "Nothing has happened here yet." in timeline
