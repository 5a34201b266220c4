"""Ines replaces xen1's RAID controller from 10:00 to 11:00. The checks keep running and record the host
down, but nobody is paged for work that was planned. At 11:00 the window closes with xen1 still down:
now it is an outage, with one incident for the host and its guest."""

from datetime import UTC, datetime, timedelta

import pytest

from hosts.models import Monitor
from incidents.models import Incident, MaintenanceWindow, TimelineEntry
from monitors.checker import check_batch
from monitors.maintenance import report_after_maintenance, report_unreported_outages

from ..factories import make_guest, make_machine
from .test_a_host_that_stops_answering import Listener

pytestmark = pytest.mark.django_db

TEN = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def xen1_and_wiki():
    xen1 = make_machine(hostname="xen1.harbor.example.org")
    wiki = make_guest(name="wiki.example.org", machine=xen1)
    closed = Listener()  # nothing listens: the host is down for its RAID work
    monitors = [
        Monitor.objects.create(kind="tcp", target="127.0.0.1", port=closed.port, down_after=1, **subject)
        for subject in ({"guest": wiki}, {"machine": xen1})
    ]
    window = MaintenanceWindow.objects.create(
        machine=xen1, starts_at=TEN, ends_at=TEN + timedelta(hours=1), reason="replacing the RAID controller"
    )
    return xen1, wiki, monitors, window


def test_checks_record_the_host_down_during_maintenance_but_open_nothing(xen1_and_wiki):
    xen1, wiki, monitors, _ = xen1_and_wiki

    check_batch([m.pk for m in monitors], now=TEN + timedelta(minutes=5))

    assert all(m.state == Monitor.State.DOWN for m in Monitor.objects.all())
    assert not Incident.objects.exists()
    assert xen1.timeline.filter(kind=TimelineEntry.Kind.MAINTENANCE).exists()
    assert wiki.timeline.filter(kind=TimelineEntry.Kind.MAINTENANCE).exists()
    assert report_after_maintenance(TEN + timedelta(minutes=30)) == 0


def test_still_down_when_the_window_closes_is_an_outage_reported_once(xen1_and_wiki):
    xen1, wiki, monitors, window = xen1_and_wiki
    check_batch([m.pk for m in monitors], now=TEN + timedelta(minutes=5))

    assert report_after_maintenance(TEN + timedelta(hours=1)) == 2
    assert report_after_maintenance(TEN + timedelta(hours=1, seconds=5)) == 0

    incident = Incident.objects.get()
    assert incident.cause_key == f"machine:{xen1.pk}" and list(incident.guests.all()) == [wiki]
    assert "still down now that the planned maintenance (replacing the RAID controller) is over" in (
        incident.timeline.first().body
    )
    window.refresh_from_db()
    assert window.followed_up_at == TEN + timedelta(hours=1)


def test_a_planned_maintenance_note_is_on_the_status_page(client, xen1_and_wiki):
    _, _, _, window = xen1_and_wiki
    window.starts_at, window.ends_at = datetime.now(UTC), datetime.now(UTC) + timedelta(hours=1)
    window.public_note = "The wiki is offline for a disk upgrade."
    window.save()

    page = client.get("/status/").content.decode()

    assert "Planned maintenance" in page and "The wiki is offline for a disk upgrade." in page
    assert "xen1" not in page  # the reason and the host are for members


def test_a_window_must_end_after_it_starts_and_name_one_thing(xen1_and_wiki):
    from django.core.exceptions import ValidationError

    xen1, wiki, _, _ = xen1_and_wiki
    with pytest.raises(ValidationError) as refused:
        MaintenanceWindow(machine=xen1, guest=wiki, starts_at=TEN, ends_at=TEN, reason="x").full_clean()
    assert "ends_at" in refused.value.message_dict and "__all__" in refused.value.message_dict


def test_resolved_by_hand_while_still_down_opens_again(xen1_and_wiki):
    xen1, wiki, monitors, window = xen1_and_wiki
    window.delete()  # the work was cancelled
    check_batch([m.pk for m in monitors], now=TEN + timedelta(minutes=5))
    incident = Incident.objects.get()
    incident.resolve(note="Resolved by Ines: I think it's fine")

    assert report_unreported_outages(TEN + timedelta(minutes=6)) == 2
    reopened = Incident.objects.exclude(pk=incident.pk).get()
    assert reopened.is_open and reopened.cause_key == f"machine:{xen1.pk}"
    assert list(reopened.guests.all()) == [wiki]
    assert report_unreported_outages(TEN + timedelta(minutes=7)) == 0
