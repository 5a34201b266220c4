"""What an owner reads: what the public reads (the public title, the status, the public update and the
summary, and the link to the public page), plus the names of *their own* affected machines, guests
and services — never another owner's, never a member's note."""

from django.db.models import Q
from django.utils import timezone

from hosts.models import HostedService

from .links import public_link, subscribe_link, unsubscribe_link
from .models import OwnerNotice, OwnerSubscription

# An owner with hundreds of guests on the host gets the first names and a count, not a phone book.
NAMES_SHOWN = 50


class Withdrawn(Exception):
    """The notice can no longer be sent as written (the incident left the status page): not retried."""


def compose(notice):
    """(subject, body) of one owner notice; raises Withdrawn when the incident is no longer public."""
    incident = notice.incident
    link = public_link(incident)
    if not link:
        raise Withdrawn("the incident is no longer on the status page")
    zone = notice.person.timezone if notice.person else timezone.get_default_timezone()
    theirs = "".join(f"- {name}\n" for name in affected_names(incident, notice.organization))
    title = " ".join(incident.title.split())  # a subject is one line, whatever was pasted into the title
    if notice.purpose == OwnerNotice.Purpose.RESOLVED:
        subject = f"Resolved: {title}"
        summary = f"{incident.summary}\n\n" if incident.summary else ""
        body = (
            f"{incident.title}: resolved at {_clock(incident.resolved_at or notice.entry.at, zone)}.\n\n"
            f"{summary}"
            f"Yours that it affected:\n{theirs}\n"
            f"The whole story, on the public page:\n{link}\n"
        )
        return subject, body + _why(notice)
    else:
        subject = f"{title}: {incident.get_status_display()}"
        summary = f"In short:\n{incident.summary}\n\n" if incident.summary else ""
        body = (
            f"{incident.title}\n"
            f"{incident.get_status_display()} · since {_clock(incident.started_at, zone)}\n\n"
            f"Update of {_clock(notice.entry.at, zone)}:\n{notice.entry.body}\n\n"
            f"{summary}"
            f"Yours that it affects:\n{theirs}\n"
            f"Every update, on the public page:\n{link}\n"
        )
    return subject, body + _footer(notice)


def _why(notice):
    owner = notice.organization.name
    return f"\nYou get this because {owner} had machines, guests or services this incident affected.\n"


def _footer(notice):
    owner = notice.organization
    why = f"\nYou get this because {owner.name} has machines, guests or services this incident affects.\n"
    if not notice.is_email:
        return why
    if OwnerSubscription.objects.filter(organization=owner, address=notice.address).exists():
        return why + f"Stop the automatic updates to this address:\n{unsubscribe_link(owner, notice.address)}\n"
    return why + (
        f"Get every public update about the machines and guests of {owner.name} by email, as it is posted:\n"
        f"{subscribe_link(owner, notice.address)}\n"
    )


def affected_names(incident, organization, limit=NAMES_SHOWN):
    """The names of what this incident affects that `organization` owns: machines, guests, services."""
    guests = incident.affected_guests()
    machines = incident.machines.filter(owner=organization)
    names = [f"machine {name}" for name in machines.values_list("hostname", flat=True)]
    names += [f"guest {name}" for name in guests.filter(owner=organization).values_list("name", flat=True)]
    services = HostedService.objects.filter(guest__in=guests).filter(
        Q(owner=organization) | Q(owner__isnull=True, guest__owner=organization)
    )
    names += [f"service {name}" for name in services.values_list("name", flat=True)]
    if len(names) > limit:
        return [*names[:limit], f"and {len(names) - limit} more"]
    return names


def _clock(at, zone):
    local = timezone.localtime(at, zone)
    return f"{local:%H:%M %Z}, {local:%a %d %b}"
