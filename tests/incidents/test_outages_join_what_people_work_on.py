"""A monitor going red on a machine people are already working on joins their incident — planned
maintenance, or one a person opened about it — instead of opening an outage beside it. A failing
backup never does: it is not what the people are working on."""

import pytest

from backups.models import HeartbeatPing
from hosts.models import Machine
from incidents import policy
from incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.django_db

OUTAGE, MAINTENANCE, PERSON = Incident.Cause.OUTAGE, Incident.Cause.MAINTENANCE, Incident.Cause.PERSON


def monitor_down(subject, note="Ping failed 3 times."):
    """A monitor of `subject` (a machine or a guest) reports it down."""
    named = {"machines": [subject]} if isinstance(subject, Machine) else {"guests": [subject]}
    return policy.report(
        OUTAGE,
        policy.outage_key(subject),
        title=f"{subject} does not answer",
        note=note,
        kind=TimelineEntry.Kind.CHECK_FAILED,
        **named,
    )


def monitor_up(subject):
    return policy.recover(
        OUTAGE, policy.outage_key(subject), note=f"{subject} answers again.", kind=TimelineEntry.Kind.CHECK_RECOVERED
    )


@pytest.fixture
def fan_swap(dom0, operator):
    """Otto's planned maintenance: dom0's fans are replaced tonight."""
    return policy.open_by_person(title="Replacing dom0's fans", by=operator, cause=MAINTENANCE, machines=[dom0])


def test_a_monitor_going_red_during_planned_maintenance_joins_the_maintenance(dom0, fan_swap):
    incident, opened = monitor_down(dom0)

    assert not opened and incident == fan_swap
    assert Incident.objects.count() == 1
    assert fan_swap.timeline.last().body == "Ping failed 3 times."
    fan_swap.refresh_from_db()
    assert fan_swap.title == "Replacing dom0's fans" and fan_swap.cause == MAINTENANCE


def test_a_guests_monitor_going_red_during_its_hosts_maintenance_joins_the_maintenance(wiki, fan_swap):
    incident, opened = monitor_down(wiki, note="HTTP 502 from the wiki.")

    assert not opened and incident == fan_swap
    assert list(fan_swap.guests.all()) == [wiki]  # newly affected, now listed


def test_the_monitor_answering_again_leaves_the_maintenance_open(dom0, fan_swap):
    monitor_down(dom0)

    assert monitor_up(dom0) is None  # only the people doing the work say when it is done

    fan_swap.refresh_from_db()
    assert fan_swap.is_open


def test_a_monitor_going_red_joins_the_incident_a_person_opened_about_the_machine(dom0, operator):
    theirs = policy.open_by_person(title="dom0 disk is failing, swapping it", by=operator, machines=[dom0])
    assert theirs.cause == PERSON

    incident, opened = monitor_down(dom0)

    assert not opened and incident == theirs
    assert Incident.objects.count() == 1


def test_an_outage_already_open_is_joined_before_the_maintenance(dom0, operator, fan_swap):
    outage = policy.open_by_person(title="dom0 down", by=operator, cause=OUTAGE, machines=[dom0])

    incident, _ = monitor_down(dom0)

    assert incident == outage
    assert fan_swap.timeline.count() == 1  # only "Opened by Otto."


def test_a_monitor_going_red_after_the_maintenance_ended_opens_an_outage(dom0, operator, fan_swap):
    fan_swap.resolve(by=operator, note="Fans replaced.")

    incident, opened = monitor_down(dom0)

    assert opened and incident.cause == OUTAGE and incident != fan_swap


def test_a_failing_backup_never_joins_the_maintenance_or_a_persons_incident(dom0, operator, fan_swap, etc_backup):
    theirs = policy.open_by_person(title="dom0 disk is failing", by=operator, machines=[dom0])

    HeartbeatPing.receive(etc_backup, "fail")

    etc_backup.refresh_from_db()
    assert etc_backup.incident not in (fan_swap, theirs)
    assert etc_backup.incident.cause == Incident.Cause.BACKUP
    for incident in (fan_swap, theirs):
        assert list(incident.timeline.values_list("kind", flat=True)) == [TimelineEntry.Kind.STATUS]
