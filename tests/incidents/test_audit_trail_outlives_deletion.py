"""The timeline is the audit trail: who power-cycled what, who saw a password. Deleting the machine,
the guest or the incident it is about keeps every entry, no longer linked to what is gone."""

import pytest

from incidents import policy
from incidents.models import TimelineEntry

from .conftest import power_cycle

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

Kind = TimelineEntry.Kind
REVEAL_REASON = "PDU web UI to check the breaker"


def reveal(controller, dom0, operator):
    controller.reveal_secret(by=operator, reason=REVEAL_REASON, machine=dom0)


def kinds(entries):
    return list(entries.order_by("at", "pk").values_list("kind", flat=True))


def test_after_the_machine_is_deleted_its_outage_still_tells_who_power_cycled_it_and_who_saw_the_password(
    member_client, outlet, controller, dom0, wiki, operator, outage
):
    power_cycle(outlet, operator, reason="dom0 frozen, no ping")
    reveal(controller, dom0, operator)
    before = kinds(outage.timeline)
    assert before == [Kind.STATUS, Kind.POWER_REQUESTED, Kind.POWER_DONE, Kind.SECRET_REVEALED]

    # dom0 is decommissioned: its guest goes first (a host with guests cannot be deleted), then dom0.
    wiki.delete()
    dom0.delete()

    assert kinds(outage.timeline) == before
    assert not outage.timeline.exclude(machine=None).exists()  # kept, no longer linked to the machine
    page = member_client.get(f"/incidents/{outage.pk}/").content.decode()
    assert "Otto asked for a power-cycle of pdu-harbor-1 outlet 4. Reason: dom0 frozen, no ping" in page
    assert "Otto revealed the password of pdu-harbor-1" in page and f"Reason: {REVEAL_REASON}" in page


def test_a_power_cycle_and_a_password_reveal_with_no_incident_outlive_the_machine(outlet, controller, dom0, operator):
    power_cycle(outlet, operator)
    reveal(controller, dom0, operator)

    dom0.delete()

    orphans = TimelineEntry.objects.filter(machine=None, guest=None, incident=None)
    assert kinds(orphans) == [Kind.POWER_REQUESTED, Kind.POWER_DONE, Kind.SECRET_REVEALED]
    assert orphans.get(kind=Kind.SECRET_REVEALED).author == operator


def test_after_the_incident_is_deleted_the_machine_page_still_shows_who_saw_the_password(
    member_client, controller, dom0, operator, outage
):
    reveal(controller, dom0, operator)
    entry = TimelineEntry.objects.get(kind=Kind.SECRET_REVEALED)
    assert entry.incident == outage

    outage.delete()

    entry.refresh_from_db()
    assert (entry.machine, entry.incident, entry.author) == (dom0, None, operator)
    page = member_client.get(f"/machines/{dom0.hostname}/").content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert "Otto revealed the password of pdu-harbor-1" in timeline


def test_after_the_guest_is_deleted_the_incident_still_tells_what_was_done_to_it(wiki, operator, outage):
    policy.record(
        wiki, "Restarted the wiki's database.", kind=Kind.NOTE, by=operator, incident=policy.work_incident(wiki)
    )

    wiki.delete()

    entry = outage.timeline.get(kind=Kind.NOTE)
    assert (entry.body, entry.guest, entry.author) == ("Restarted the wiki's database.", None, operator)
