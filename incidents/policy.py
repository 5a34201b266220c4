"""When an incident is opened, joined, added to or resolved: the one rule every producer follows.

Producers — power actions, backup checks, and next the monitors and people working an
incident — never create or resolve an Incident of their own accord; they call these
functions. An incident has a cause (Incident.Cause) and, when a producer opened it, a key
naming what that producer watches: "backup:12" (one backup target), "s3:<endpoint>" (an S3
endpoint many targets share), "machine:3" or "guest:7" (an outage).

1. report(cause, key, ...): something a producer watches is wrong.
   - An open incident with the same cause and key is joined: the note goes on its timeline and
     newly affected machines and guests are added to it. Never a second one: a database
     constraint keeps one open incident per cause and key, even when two workers race.
   - An outage joins what people are already working on for the machine or guest: an open
     outage, a person's incident or planned maintenance naming it, its guest or the guest's
     host. A host outage absorbs its guests' (one incident listing them all, one alert), and a
     monitor going red during planned maintenance joins the maintenance.
   - An outage of something planned maintenance covers (the machine, the guest, its host or
     the site; incidents.models.MaintenanceWindow) opens nothing: the news goes on the
     machine's or guest's own timeline, and nobody is alerted. Returns (None, False).
   - Otherwise a new incident is opened, with a title written for members; once committed,
     incidents.signals.incident_opened tells who listens (the alerts app).
   People open incidents with open_by_person().
   An open incident of another cause is never joined: a failing backup is not an outage of the
   machine it protects, and the outage is not the backup.

2. record(subject, ...): something was done to a machine or guest (a power action, a password
   reveal). It goes on the subject's own timeline, and on the incident people are working on it
   (work_incident(subject): an open outage, maintenance or person's incident naming the machine,
   or for a guest, naming it or its host) if there is one. It never opens an incident: doing
   something to a machine is not evidence that it is down, and seeing a password is an audit
   entry, not an outage.

3. recover(cause, key, ...): what a producer reported is fine again. The open incident of that
   cause and key is resolved with a system note, unless the producer says something else it
   reported there is still wrong (still_affected: one target of five on a dead endpoint came
   back). A producer resolves only what its own cause opened: never an incident of another
   cause, nor one a person opened. People resolve any incident (Incident.resolve).

4. What the public reads: only a person's words. Notes written by Switchboard are never public
   (Incident.note), and an incident whose title Switchboard wrote cannot be made public until a
   person retitles it (Incident.clean; the status page skips such incidents too).
"""

from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from core.clock import coop_time
from hosts.models import Guest, Machine

from .models import Incident, MaintenanceWindow, TimelineEntry, display_name
from .signals import incident_opened

# What people work on: a power action or a password reveal lands on these, never on a backup incident.
WORKED_ON = (Incident.Cause.OUTAGE, Incident.Cause.MAINTENANCE, Incident.Cause.PERSON)
# Of several open incidents people work on, the outage comes first.
OUTAGE_FIRST = Case(When(cause=Incident.Cause.OUTAGE, then=Value(0)), default=Value(1))


def outage_key(subject):
    """The key of a machine's or guest's outage: "machine:<pk>" or "guest:<pk>"."""
    return f"{subject._meta.model_name}:{subject.pk}"


def report(cause, key, *, title, note, kind, machines=(), guests=(), severity=None, at=None):
    """Something `key` names is wrong: join its open incident (or its host's outage), else open one.

    Returns (incident, opened). `note` goes on the timeline either way; `title` is used only for
    a new incident and is marked as Switchboard's (so not public until a person retitles it).
    """
    at = at or timezone.now()
    args = (cause, key, title, note, kind, machines, guests, severity, at)
    try:
        return _report(*args)
    except IntegrityError:
        # Another worker opened it between our look and our insert: join theirs.
        return _report(*args)


def _report(cause, key, title, note, kind, machines, guests, severity, at):
    with transaction.atomic():
        if cause == Incident.Cause.OUTAGE and _all_in_maintenance([*machines, *guests], note, at):
            return None, False
        incident, opened = _find_or_open(cause, key, title, machines, guests, severity, at)
        _add_affected(incident, machines, guests)
        incident.note(note, kind=kind, at=at)
        return incident, opened


def _find_or_open(cause, key, title, machines, guests, severity, at):
    incident = _open(cause, key).select_for_update().first()
    if incident is None and cause == Incident.Cause.OUTAGE:
        # What people are already working on for the machine (or the guest, or the guest's host):
        # another monitor's outage, a person's incident, planned maintenance. One timeline.
        named = Q(machines__in=[m.pk for m in machines]) | Q(guests__in=[g.pk for g in guests])
        named |= Q(machines__in=[g.machine_id for g in guests])
        # A host going down absorbs an outage its guest's monitor reported first.
        named |= Q(guests__machine__in=[m.pk for m in machines])
        worked_on = Incident.objects.filter(cause__in=WORKED_ON).exclude(status=Incident.Status.RESOLVED)
        found = worked_on.filter(named).order_by(OUTAGE_FIRST, "started_at", "pk").values("pk")[:1]
        incident = worked_on.filter(pk__in=found).select_for_update().first()
    if incident is not None:
        if incident.title_by_switchboard and machines and not incident.machines.exists():
            # It was a guest's outage; now its host is down too, and that is the story to tell.
            incident.title = title[:200]
            incident.save(update_fields=["title"])
        return incident, False
    incident = Incident.objects.create(
        title=title[:200],
        title_by_switchboard=True,
        cause=cause,
        cause_key=key,
        severity=severity or _default_severity(cause),
        started_at=at,
    )
    # Once committed, with what it lists: who is alerted depends on the machines on it.
    # Robust: a listener that fails (a mail server down is not one: sends are tasks) is logged, and never
    # undoes or interrupts the producer's work (the rest of a batch of checks).
    transaction.on_commit(lambda: incident_opened.send(sender=Incident, incident=incident), robust=True)
    return incident, True


def _all_in_maintenance(subjects, note, at):
    """True when planned maintenance covers every subject: each gets the news on its own timeline instead."""
    windows = [MaintenanceWindow.objects.covering(subject, at).first() for subject in subjects]
    if not subjects or None in windows:
        return False
    for subject, window in zip(subjects, windows, strict=True):
        TimelineEntry.objects.create(
            **{subject._meta.model_name: subject},
            kind=TimelineEntry.Kind.MAINTENANCE,
            body=f"{note} During planned maintenance ({window.reason}, until {_local(window.ends_at)}): "
            "no incident opened, nobody alerted.",
            at=at,
        )
    return True


def _local(when):
    return coop_time(when)


def _default_severity(cause):
    return Incident.Severity.MINOR if cause == Incident.Cause.BACKUP else Incident.Severity.MAJOR


def _add_affected(incident, machines, guests):
    if machines:
        incident.machines.add(*machines)
    if guests:
        incident.guests.add(*guests)


def _open(cause, key):
    return Incident.objects.filter(cause=cause, cause_key=key).exclude(status=Incident.Status.RESOLVED)


def open_by_person(*, title, by, cause=Incident.Cause.PERSON, machines=(), guests=(), severity=None, at=None):
    """A person opens an incident (an outage they see, planned maintenance, anything else); returns it.

    Their title is theirs: the incident may be made public as it is. Monitors reporting an outage
    of a machine it names join it (report).
    """
    at = at or timezone.now()
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title[:200], cause=cause, severity=severity or Incident.Severity.MAJOR, started_at=at, created_by=by
        )
        _add_affected(incident, machines, guests)
        incident.note(f"Opened by {display_name(by)}.", by=by, kind=TimelineEntry.Kind.STATUS, at=at)
    return incident


def recover(cause, key, *, note, kind, still_affected=False, at=None):
    """What `key` names is fine again: note it and resolve its open incident, unless still_affected.

    `still_affected` may be a function of the incident, asked once the incident is locked: two
    workers recovering the last two things on it at once then see each other's work in turn,
    and the second resolves it. Returns the incident it noted on (resolved or not), or None when
    `key` has none open. Touches only an incident of this cause and key: a producer resolves
    only what it opened.
    """
    at = at or timezone.now()
    with transaction.atomic():
        incident = _open(cause, key).select_for_update().first()
        if incident is None:
            return None
        incident.note(note, kind=kind, at=at)
        if callable(still_affected):
            still_affected = still_affected(incident)
        if not still_affected:
            incident.resolve(note="Resolved by Switchboard: everything it reported here is fine again.", at=at)
        return incident


def leave(incident, *, cause, note, kind, still_affected, at=None):
    """One thing reported on `incident` is no longer part of it (fine again, or now wrong in another way).

    Like recover(), for a producer that knows the incident rather than its key: resolves it when
    it is of this producer's cause, was opened by a producer and nothing else is affected. On an
    incident a person opened (or of another cause) the news is only noted: a person resolves it.
    """
    if incident is None or not incident.is_open:
        return None
    if incident.cause != cause or not incident.cause_key:
        incident.note(note, kind=kind, at=at or timezone.now())
        return incident
    return recover(cause, incident.cause_key, note=note, kind=kind, still_affected=still_affected, at=at)


def work_incident(subject):
    """The open incident people are working on for this machine or guest (outages first), or None."""
    if subject is None:
        return None
    if isinstance(subject, Machine):
        named = Incident.objects.filter(machines=subject)
    elif isinstance(subject, Guest):
        named = Incident.objects.filter(Q(guests=subject) | Q(machines=subject.machine_id))
    else:
        raise TypeError(f"work_incident() takes a Machine or a Guest, not {type(subject).__name__}")
    return (
        named.filter(cause__in=WORKED_ON)
        .exclude(status=Incident.Status.RESOLVED)
        .order_by(OUTAGE_FIRST, "-started_at", "-pk")
        .first()
    )


def record(subject, body, *, kind, by=None, incident=None, at=None):
    """Write what was done to a machine or guest on its own timeline and on `incident` (if any).

    `incident` is the one work_incident() found when the work began, so every step of one power
    action lands in the same place. Never opens an incident. Returns the entry, or None when
    there is neither a subject nor an incident to write on.
    """
    if subject is None and incident is None:
        return None
    fields = {}
    if isinstance(subject, Machine):
        fields["machine"] = subject
    elif isinstance(subject, Guest):
        fields["guest"] = subject
    return TimelineEntry.objects.create(
        incident=incident, body=body, kind=kind, author=by, at=at or timezone.now(), is_public=False, **fields
    )
