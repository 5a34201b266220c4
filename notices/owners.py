"""Who is told when an incident touches an owner, and when: the rules, in one place.

1. notify_owners(incident, by=): an operator presses "Notify affected owners". Every affected
   organisation is told the latest public update: at its email, its people's email contact methods
   and alert channels, and the addresses that subscribed (deduplicated by address). One OwnerNotice
   per address and update (never two: a second press sends nothing and says so), one task per
   notice once committed, one timeline entry.
2. tell_subscribers(incident, entry): a person posted a public update
   (incidents.signals.public_update_posted): every subscribed address of an affected owner gets it
   at once, as the same OwnerNotice a press would write, so a press afterwards skips them.
3. tell_resolution(incident): the incident is resolved (incidents.signals.incident_resolved): every
   address told before hears it is over, once per resolution.
What the messages say is in notices.compose; sending, retrying and giving up in notices.sending.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from kombu.exceptions import OperationalError

from coop.models import ContactMethod, Person
from core.clock import coop_time
from core.delivery import apprise_channel
from incidents.models import Incident, TimelineEntry

from .models import OwnerNotice, OwnerSubscription, normalise_address

logger = logging.getLogger(__name__)

PUBLISH_FIRST = (
    "Put the incident on the status page and post a public update first: "
    "owners get what the public reads and a link to it."
)


@dataclass(frozen=True)
class Recipient:
    """One place to reach an owner. `address` is the key notices are unique on: an email address, or
    for an alert URL its channel and a keyed digest of it (the same URL twice is one recipient)."""

    address: str
    channel: str
    person: Person | None = None
    contact_method: ContactMethod | None = None


@dataclass(frozen=True)
class Told:
    """What a press of "Notify affected owners" did."""

    update: TimelineEntry
    owners: int = 0  # organisations given at least one new notice
    addresses: int = 0  # notices written
    already_told_at: datetime | None = None  # set when every address already had this update
    unreachable: tuple[str, ...] = ()  # affected organisations with no address at all

    @property
    def already_told(self):
        return self.already_told_at is not None


def latest_public_update(incident):
    """The newest update a person wrote for the public, or None: what owners are told."""
    public = incident.timeline.filter(kind=TimelineEntry.Kind.NOTE, is_public=True, author__isnull=False)
    return public.order_by("-at", "-pk").first()


def recipients(organization):
    """Every place to reach `organization`, once each: its email, its people's email contact methods and
    alert channels (those that take messages), and the addresses that subscribed."""
    found = []
    if organization.email:
        found.append(Recipient(normalise_address(organization.email), "email"))
    for person in organization.people.all():
        for method in person.contact_methods.all():
            if not method.can_alert:
                continue
            if not method._meta.get_field("alert_url").is_readable(method):
                # The encryption key changed since it was stored: it must be re-entered (the admin says so).
                logger.warning("contact method %s: alert URL cannot be decrypted, not told", method.pk)
                continue
            if method.alert_url:
                channel = apprise_channel(method.alert_url)
                key = f"{channel}:{salted_hmac('switchboard.notices.alert-url', method.alert_url).hexdigest()[:20]}"
                found.append(Recipient(key, channel, person, method))
            else:
                found.append(Recipient(normalise_address(method.value), "email", person, method))
    found += [Recipient(subscription.address, "email") for subscription in organization.owner_subscriptions.all()]
    once = {}
    for recipient in found:
        once.setdefault(recipient.address, recipient)
    return list(once.values())


def affected_owners(incident):
    """The incident's affected organisations, with what `recipients` reads."""
    return (
        incident.affected_owners().order_by("name").prefetch_related("people__contact_methods", "owner_subscriptions")
    )


def notify_owners(incident, *, by, now=None):
    """Tell every affected owner the latest public update; returns a Told. Raises ValidationError when
    there is nothing to tell (not public, no public update) or nobody to tell it to."""
    now = now or timezone.now()
    with transaction.atomic():
        # One press at a time per incident: two operators pressing together write one set of notices.
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        update = latest_public_update(incident)
        if not incident.get_public_url() or update is None:
            raise ValidationError(PUBLISH_FIRST)
        owners = list(affected_owners(incident))
        if not owners:
            raise ValidationError("No owner to tell: nothing this incident lists has an owner.")
        targets = [(owner, recipient) for owner in owners for recipient in recipients(owner)]
        reached = {owner.pk for owner, _ in targets}
        unreachable = tuple(owner.name for owner in owners if owner.pk not in reached)
        if not targets:
            raise ValidationError(
                f"No way to reach {', '.join(unreachable)}: give the organisation an email address, "
                "or its people an email contact method, in the admin."
            )
        made = _write(incident, OwnerNotice.Purpose.UPDATE, update, targets, now)
        if not made:
            first = OwnerNotice.objects.filter(incident=incident, purpose=OwnerNotice.Purpose.UPDATE, entry=update)
            told_at = first.order_by("created_at", "pk").values_list("created_at", flat=True).first()
            return Told(update, already_told_at=told_at, unreachable=unreachable)
        told = Told(update, owners=len({n.organization_id for n in made}), addresses=len(made), unreachable=unreachable)
        body = f"Told {_count(told.owners, 'owner')} ({_count(told.addresses, 'address')}) "
        body += f"about the update of {_clock(update.at)}."
        if unreachable:
            body += f" No way to reach {', '.join(unreachable)}."
        incident.note(body, by=by, kind=TimelineEntry.Kind.OWNERS_TOLD, at=now)
    return told


def on_public_update_posted(sender, incident, entry, **kwargs):
    tell_subscribers(incident, entry)


def tell_subscribers(incident, entry, now=None):
    """The subscribed addresses of every affected owner get this public update; returns the notices made."""
    now = now or timezone.now()
    if not incident.get_public_url():
        logger.info("incident %s: public update %s not sent to subscribers: no public page", incident.pk, entry.pk)
        return []
    subscriptions = OwnerSubscription.objects.filter(organization__in=incident.affected_owners())
    targets = [(s.organization, Recipient(s.address, "email")) for s in subscriptions.select_related("organization")]
    if not targets:
        return []
    with transaction.atomic():
        made = _write(incident, OwnerNotice.Purpose.UPDATE, entry, targets, now)
        if made:
            owners = len({n.organization_id for n in made})
            incident.note(
                f"Sending the update of {_clock(entry.at)} to {_count(len(made), 'subscribed address')} "
                f"of {_count(owners, 'owner')}.",
                kind=TimelineEntry.Kind.OWNERS_TOLD,
                at=now,
            )
    return made


def on_incident_resolved(sender, incident, **kwargs):
    tell_resolution(incident)


def tell_resolution(incident, now=None):
    """Every address told about the incident before hears it is resolved (once per resolution); returns
    the notices made."""
    now = now or timezone.now()
    told = (
        OwnerNotice.objects.filter(incident=incident, purpose=OwnerNotice.Purpose.UPDATE)
        .exclude(status=OwnerNotice.Status.FAILED)
        .select_related("organization", "person", "contact_method")
        .order_by("created_at", "pk")
    )
    targets = {}
    for notice in told:
        method = notice.contact_method
        if not notice.is_email and (
            method is None
            or not method.can_alert
            or not method._meta.get_field("alert_url").is_readable(method)
            or not method.alert_url
        ):
            continue  # the alert channel was removed since (or cannot be decrypted): nowhere to send it
        recipient = Recipient(notice.address, notice.channel, notice.person, method)
        targets.setdefault((notice.organization_id, notice.address), (notice.organization, recipient))
    if not targets or incident.is_open:
        return []
    # The entry that resolved it: a reopened and again resolved incident tells its owners again.
    resolving = incident.timeline.filter(kind=TimelineEntry.Kind.STATUS, at=incident.resolved_at).order_by("-pk")
    entry = resolving.first() or incident.timeline.order_by("-at", "-pk").first()
    with transaction.atomic():
        if not incident.get_public_url():
            incident.note(
                "The owners told about this incident were not told it is resolved: it is no longer on the "
                "status page (owners get what the public reads).",
                kind=TimelineEntry.Kind.OWNERS_TOLD,
                at=now,
            )
            return []
        made = _write(incident, OwnerNotice.Purpose.RESOLVED, entry, list(targets.values()), now)
        if made:
            owners = len({n.organization_id for n in made})
            incident.note(
                f"Telling {_count(owners, 'owner')} ({_count(len(made), 'address')}) that it is resolved.",
                kind=TimelineEntry.Kind.OWNERS_TOLD,
                at=now,
            )
    return made


def _write(incident, purpose, entry, targets, now):
    """The notices for (organisation, recipient) pairs that do not have this one yet; queued once committed.

    One INSERT for them all (the unique constraint skips those already written), then one read of
    the ids this call made: a press for 500 owners is two queries, not a thousand.
    """
    before = set(
        OwnerNotice.objects.filter(incident=incident, purpose=purpose, entry=entry).values_list("pk", flat=True)
    )
    OwnerNotice.objects.bulk_create(
        [
            OwnerNotice(
                incident=incident,
                purpose=purpose,
                entry=entry,
                organization=organization,
                address=recipient.address,
                person=recipient.person,
                contact_method=recipient.contact_method,
                channel=recipient.channel,
                created_at=now,
                next_attempt_at=now,
            )
            for organization, recipient in targets
        ],
        ignore_conflicts=True,
    )
    made = list(
        OwnerNotice.objects.filter(incident=incident, purpose=purpose, entry=entry)
        .exclude(pk__in=before)
        .order_by("pk")
    )
    if made:
        transaction.on_commit(lambda: queue_sends([n.pk for n in made]))
    return made


def queue_sends(ids):
    """Hand each notice to a worker (notices.send_owner_notice, by name: that module imports this one)."""
    for pk in ids:
        try:
            current_app.tasks["notices.send_owner_notice"].apply_async((pk,))
        except (OperationalError, OSError) as exc:  # the broker is down: the sweep sends it again
            logger.warning("owner notice %s: broker unreachable, left for the sweep (%s)", pk, type(exc).__name__)
            return


def _count(n, noun):
    plural = noun + ("es" if noun.endswith("ss") else "s")
    return f"{n} {noun if n == 1 else plural}"


def _clock(at):
    return coop_time(at, "%H:%M %Z")
