"""The one open/join/resolve rule (incidents/policy.py), told one step at a time: a monitor sees dom0
down, sees it again, sees it back; a backup fails; someone power-cycles or reads a password. What
ends up on which incident, and what the public may read."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from hosts.models import Machine
from incidents import policy
from incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.django_db

OUTAGE, BACKUP = Incident.Cause.OUTAGE, Incident.Cause.BACKUP
FAILED, RECOVERED = TimelineEntry.Kind.CHECK_FAILED, TimelineEntry.Kind.CHECK_RECOVERED


def down(subject, note="Ping failed 3 times."):
    """A monitor reports `subject` (a machine or a guest) down."""
    named = {"machines": [subject]} if isinstance(subject, Machine) else {"guests": [subject]}
    return policy.report(
        OUTAGE, policy.outage_key(subject), title=f"{subject} does not answer", note=note, kind=FAILED, **named
    )


def up(subject, **extra):
    """A monitor reports `subject` answering again."""
    return policy.recover(OUTAGE, policy.outage_key(subject), note=f"{subject} answers again.", kind=RECOVERED, **extra)


def backup_failing(subject, key="backup:1"):
    return policy.report(
        BACKUP, key, title="dom0 backups failing", note="The job reported failure.", kind=FAILED, machines=[subject]
    )


def open_incidents():
    return Incident.objects.exclude(status=Incident.Status.RESOLVED)


# --- report(): open one, join it, never another cause's -------------------------------------------


def test_a_report_opens_one_incident_titled_by_switchboard_and_not_public(dom0):
    incident, opened = down(dom0)

    assert opened
    assert (incident.cause, incident.cause_key) == (OUTAGE, f"machine:{dom0.pk}")
    assert incident.title == "dom0.harbor.example.org does not answer"
    assert incident.title_by_switchboard and not incident.is_public
    assert list(incident.machines.all()) == [dom0]
    note = incident.timeline.get()
    assert (note.kind, note.author, note.is_public) == (FAILED, None, False)


def test_a_second_report_of_the_same_thing_joins_the_open_incident(dom0, wiki):
    first, _ = down(dom0)

    again, opened = policy.report(
        OUTAGE, f"machine:{dom0.pk}", title="other words", note="Still no ping.", kind=FAILED, guests=[wiki]
    )

    assert not opened and again.pk == first.pk
    assert Incident.objects.count() == 1
    assert again.title == "dom0.harbor.example.org does not answer"  # the first title stays
    assert list(again.guests.all()) == [wiki]  # newly affected, now listed
    assert list(again.timeline.values_list("body", flat=True)) == ["Ping failed 3 times.", "Still no ping."]


def test_a_failing_backup_does_not_join_the_open_outage_of_the_machine_it_protects(dom0):
    outage, _ = down(dom0)

    backup, opened = backup_failing(dom0)

    assert opened and backup.pk != outage.pk and backup.cause == BACKUP
    assert outage.timeline.count() == 1


def test_an_outage_does_not_join_an_open_backup_incident_of_the_machine(dom0):
    backup, _ = backup_failing(dom0)

    outage, opened = down(dom0)

    assert opened and outage.pk != backup.pk and outage.cause == OUTAGE
    assert backup.timeline.count() == 1


def test_a_report_after_the_incident_was_resolved_opens_a_new_one(dom0):
    first, _ = down(dom0)
    up(dom0)

    second, opened = down(dom0, note="Down again.")

    assert opened and second.pk != first.pk
    first.refresh_from_db()
    assert first.status == Incident.Status.RESOLVED
    assert list(open_incidents()) == [second]


def test_a_guest_down_joins_the_open_outage_of_its_host(dom0, wiki):
    host_outage, _ = down(dom0)

    incident, opened = down(wiki, note="HTTP 502 from the wiki.")

    assert not opened and incident.pk == host_outage.pk
    assert list(incident.guests.all()) == [wiki]
    assert Incident.objects.count() == 1
    assert incident.timeline.last().body == "HTTP 502 from the wiki."


def test_a_monitor_joins_the_outage_a_person_opened_for_the_machine(dom0, wiki, operator):
    theirs = policy.open_by_person(title="dom0 is down, I'm on it", by=operator, cause=OUTAGE, machines=[dom0])

    by_host, host_opened = down(dom0)
    by_guest, guest_opened = down(wiki)

    assert not host_opened and not guest_opened
    assert by_host.pk == by_guest.pk == theirs.pk
    theirs.refresh_from_db()
    assert theirs.title == "dom0 is down, I'm on it" and not theirs.title_by_switchboard
    assert list(theirs.guests.all()) == [wiki]


def test_a_monitor_does_not_join_an_outage_a_person_already_resolved(dom0, operator):
    theirs = policy.open_by_person(title="dom0 is down", by=operator, cause=OUTAGE, machines=[dom0])
    theirs.resolve(by=operator, note="Fixed the cable.")

    incident, opened = down(dom0)

    assert opened and incident.pk != theirs.pk


# --- recover(): only its own cause and key ---------------------------------------------------------


def test_recover_resolves_the_incident_of_its_own_cause_and_key(dom0):
    neighbour = Machine.objects.create(hostname="host7.harbor.example.org", site=dom0.site)
    mine, _ = down(dom0)
    other, _ = down(neighbour)

    resolved = up(dom0)

    assert resolved.pk == mine.pk
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.status == Incident.Status.RESOLVED and mine.resolved_at is not None
    assert other.status == Incident.Status.INVESTIGATING
    assert list(mine.timeline.values_list("kind", flat=True)) == [FAILED, RECOVERED, TimelineEntry.Kind.STATUS]


def test_recover_with_something_still_affected_notes_it_and_leaves_it_open(dom0):
    incident, _ = down(dom0)

    noted = up(dom0, still_affected=True)

    assert noted.pk == incident.pk
    incident.refresh_from_db()
    assert incident.is_open
    assert incident.timeline.last().kind == RECOVERED


def test_recover_with_nothing_open_returns_none_and_writes_nothing(dom0):
    assert up(dom0) is None
    assert not TimelineEntry.objects.exists()


def test_recover_never_resolves_an_incident_a_person_opened(dom0, operator):
    theirs = policy.open_by_person(title="dom0 is down", by=operator, cause=OUTAGE, machines=[dom0])
    down(dom0)  # the monitor joins the person's outage

    assert up(dom0) is None

    theirs.refresh_from_db()
    assert theirs.is_open


def test_recover_never_resolves_an_incident_of_another_cause(dom0):
    backup, _ = backup_failing(dom0, key=f"machine:{dom0.pk}")  # the same key, another cause

    assert up(dom0) is None

    backup.refresh_from_db()
    assert backup.is_open


def test_leaving_an_incident_of_another_cause_or_a_persons_notes_it_and_leaves_it_open(dom0, operator):
    outage, _ = down(dom0)
    theirs = policy.open_by_person(title="Disk swap tonight", by=operator, machines=[dom0])

    for incident in (outage, theirs):
        assert policy.leave(incident, cause=BACKUP, note="Backups fine.", kind=RECOVERED, still_affected=False)
        incident.refresh_from_db()
        assert incident.is_open
        assert incident.timeline.last().body == "Backups fine."


# --- record(): on the machine's own timeline, and on the incident people work on -------------------


def test_record_never_opens_an_incident_and_writes_on_the_machines_timeline(dom0, operator):
    entry = policy.record(
        dom0, "Otto reseated the PSU.", kind=TimelineEntry.Kind.NOTE, by=operator, incident=policy.work_incident(dom0)
    )

    assert (entry.machine, entry.incident, entry.author) == (dom0, None, operator)
    assert not Incident.objects.exists()


@pytest.mark.parametrize("cause", [OUTAGE, Incident.Cause.MAINTENANCE, Incident.Cause.PERSON])
def test_record_lands_on_the_open_incident_people_work_on_for_the_machine(dom0, operator, cause):
    worked_on = policy.open_by_person(title="dom0 work", by=operator, cause=cause, machines=[dom0])

    entry = policy.record(
        dom0, "Cycled outlet 4.", kind=TimelineEntry.Kind.POWER_DONE, incident=policy.work_incident(dom0)
    )

    assert (entry.machine, entry.incident) == (dom0, worked_on)


def test_for_a_guest_record_lands_on_its_hosts_outage(dom0, wiki, operator):
    host_outage = policy.open_by_person(title="dom0 down", by=operator, cause=OUTAGE, machines=[dom0])

    entry = policy.record(
        wiki, "Restarted the wiki.", kind=TimelineEntry.Kind.NOTE, incident=policy.work_incident(wiki)
    )

    assert (entry.guest, entry.incident) == (wiki, host_outage)


def test_for_a_guest_record_lands_on_an_incident_naming_the_guest(wiki, operator):
    wiki_work = policy.open_by_person(
        title="Wiki upgrade", by=operator, cause=Incident.Cause.MAINTENANCE, guests=[wiki]
    )

    assert policy.work_incident(wiki) == wiki_work


def test_record_never_lands_on_an_open_backup_incident(dom0, wiki):
    backup_failing(dom0)
    policy.report(BACKUP, "backup:2", title="wiki backups stale", note="Stale.", kind=FAILED, guests=[wiki])

    assert policy.work_incident(dom0) is None
    assert policy.work_incident(wiki) is None


def test_record_never_lands_on_a_resolved_outage(dom0, operator):
    done = policy.open_by_person(title="dom0 down", by=operator, cause=OUTAGE, machines=[dom0])
    done.resolve(by=operator)

    assert policy.work_incident(dom0) is None


def test_people_work_on_the_outage_first(dom0, operator):
    outage = policy.open_by_person(title="dom0 down", by=operator, cause=OUTAGE, machines=[dom0])
    policy.open_by_person(title="Replace dom0's fans", by=operator, cause=Incident.Cause.MAINTENANCE, machines=[dom0])

    assert policy.work_incident(dom0) == outage


def test_record_with_nothing_to_write_on_writes_nothing(db):
    assert policy.record(None, "Nothing.", kind=TimelineEntry.Kind.NOTE) is None
    assert not TimelineEntry.objects.exists()


# --- What the public reads: only a person's words ----------------------------------------------------


def test_a_system_note_is_never_public_even_when_asked(dom0, operator):
    incident, _ = down(dom0)

    by_switchboard = incident.note("Alert sent to the on-call.", is_public=True)
    by_otto = incident.note("We are on our way to the colo.", by=operator, is_public=True)

    assert not by_switchboard.is_public
    assert by_otto.is_public


def test_switchboards_resolution_of_a_public_incident_is_not_public(dom0):
    incident, _ = down(dom0)
    incident.retitle("The wiki is offline")
    Incident.objects.filter(pk=incident.pk).update(is_public=True)

    up(dom0)

    assert not incident.timeline.filter(is_public=True).exists()


def test_an_incident_switchboard_titled_cannot_be_made_public(dom0):
    incident, _ = down(dom0)
    incident.is_public = True

    with pytest.raises(ValidationError) as refused:
        incident.full_clean()

    assert "is_public" in refused.value.message_dict


def test_a_persons_title_lets_it_be_made_public(dom0):
    incident, _ = down(dom0)

    incident.retitle("The wiki is offline")
    incident.refresh_from_db()
    incident.is_public = True

    incident.full_clean()  # no complaint
    assert (incident.title, incident.title_by_switchboard) == ("The wiki is offline", False)


# --- One open incident per cause and key, whoever races ----------------------------------------------


def test_the_database_refuses_a_second_open_incident_for_one_cause_and_key(dom0):
    incident, _ = down(dom0)

    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(title="dom0 down (again)", cause=OUTAGE, cause_key=incident.cause_key)

    up(dom0)
    Incident.objects.create(title="dom0 down (again)", cause=OUTAGE, cause_key=incident.cause_key)  # once resolved


def test_people_may_open_as_many_incidents_as_they_like(dom0, operator):
    for title in ("dom0 down", "dom0 still down"):
        policy.open_by_person(title=title, by=operator, cause=OUTAGE, machines=[dom0])

    assert open_incidents().count() == 2


@pytest.mark.django_db(transaction=True)
def test_monitors_reporting_at_once_from_several_workers_open_one_incident(dom0):
    workers = 4
    start = threading.Barrier(workers)
    results, errors = [], []

    def report():
        try:
            start.wait(5)
            results.append(down(dom0))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert not errors
    assert len({incident.pk for incident, _ in results}) == 1
    assert [opened for _, opened in results].count(True) == 1
    incident = open_incidents().get()
    assert incident.timeline.filter(kind=TimelineEntry.Kind.CHECK_FAILED).count() == workers
    # Opened once, so alerted once: here nobody, as the test co-op has no escalation policy.
    assert incident.timeline.filter(kind=TimelineEntry.Kind.ALERT_FAILED).count() == 1
