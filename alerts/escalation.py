"""How an alert starts, climbs, stops and ends: the rules, in one place.

1. start(incident): an outage opened by a producer (incidents.signals.incident_opened, once
   committed) gets one Alert with a snapshot of the escalation policy covering its site, and
   its first step runs at once. No policy: the incident's timeline says nobody was alerted.
2. escalate(alert_id, token): runs the step that is due. It does nothing unless the token is
   still the alert's and the step is due (a stale, duplicated or early task is harmless);
   it writes one Notification per contact method of each person the step names (unique per
   step: at most once), moves to the next step after the step's wait, round after round,
   and stops when the rounds run out. Sending is a task per notification
   (alerts.tasks.send_notification), so a hanging channel never delays the next step.
3. acknowledge(alert, person): someone answers (the link in the alert, or the incident page):
   the escalation stops, pending sends are cancelled, the timeline says who and when.
4. The incident resolved: the alert ends and everyone who was reached hears it is over.
Every step, send, failure, retry and acknowledgement lands on the incident's timeline.
"""

import logging
import uuid
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from coop.models import Person, SiteAccess
from core.clock import coop_time
from incidents.models import MaintenanceWindow, TimelineEntry

from .models import Alert, EscalationPolicy, EscalationStep, Notification, Rota, site_of

logger = logging.getLogger(__name__)

PENDING = [Notification.Status.QUEUED, Notification.Status.RETRYING]
# Asking again for someone with site access within this long sends nothing new.
SITE_ACCESS_AGAIN_AFTER = timedelta(minutes=5)


def on_incident_opened(sender, incident, **kwargs):
    if incident.cause in settings.ALERT_CAUSES:
        start(incident)


def on_incident_resolved(sender, incident, **kwargs):
    alert = Alert.objects.filter(incident=incident).first()
    if alert is not None:
        end(alert)


def start(incident, now=None):
    """Start alerting for `incident` and run the first step; returns the Alert, or None without a policy."""
    now = now or incident.started_at  # the instant the producer saw it: the alert's clock starts there
    policy = EscalationPolicy.for_incident(incident)
    if policy is None:
        incident.note(
            "Nobody was alerted: no escalation policy covers this site and none is the default "
            "(add one in the admin, under Alerts and on-call).",
            kind=TimelineEntry.Kind.ALERT_FAILED,
            at=now,
        )
        return None
    steps = policy.snapshot()
    if not steps:
        incident.note(
            f"Nobody was alerted: the escalation policy “{policy}” has no steps.",
            kind=TimelineEntry.Kind.ALERT_FAILED,
            at=now,
        )
        return None
    alert, created = Alert.objects.get_or_create(
        incident=incident,
        defaults={"policy": policy, "steps": steps, "repeat": policy.repeat, "started_at": now, "next_step_at": now},
    )
    if created:
        escalate(alert.pk, alert.token, now=now)
        alert.refresh_from_db()
    return alert


def escalate(alert_id, token, *, now=None):
    """Run the alert's due step (and any that follow at once); returns the notifications it made."""
    now = now or timezone.now()
    made = []
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None or str(alert.token) != str(token) or alert.status != Alert.Status.ACTIVE:
            return made
        incident = alert.incident
        # A step that reaches nobody hands over at once; the bound keeps a policy of such steps finite.
        for _ in range(len(alert.steps) * (alert.repeat + 1)):
            if alert.next_step_at is None or alert.next_step_at > now:
                break
            if not incident.is_open:
                _stop(alert, Alert.Status.RESOLVED)
                break
            if alert.round > alert.repeat:
                _give_up(alert, now)
                break
            if _paused_for_maintenance(alert, now):
                break
            step = alert.steps[alert.step]
            people = recipients(step, incident, now)
            reached = notify(alert, people, Notification.Purpose.ALERT, alert.round, alert.step, now)
            made += reached
            _note_step(alert, step, people, reached, now)
            _advance(alert, step, now)
        alert.save()
    return made


def recipients(step, incident, now):
    """The people a snapshot step names, as of `now`."""
    if step["notify"] == EscalationStep.Notify.ROTA:
        rota = Rota.objects.filter(pk=step["rota"]).first()
        person = rota.on_call(now) if rota else None
        return [person] if person else []
    if step["notify"] == EscalationStep.Notify.PERSON:
        return list(Person.objects.filter(pk=step["person"]))
    site = site_of(incident)
    return [access.person for access in SiteAccess.objects.roster(site)] if site else []


def notify(alert, people, purpose, round, step, now):
    """One Notification per alert-taking contact method of each person (never twice per step); sent on commit."""
    seen, targets = set(), []
    for person in people:
        if person.pk not in seen:
            seen.add(person.pk)
            targets += [(person, method) for method in person.contact_methods.all() if method.can_alert]
    return _write(alert, targets, purpose, round, step, now)


def _write(alert, targets, purpose, round, step, now):
    """The notifications for (person, contact method) pairs not yet sent at this step; queued once committed."""
    made = []
    for person, method in _readable(alert, targets, now):
        notification, created = Notification.objects.get_or_create(
            alert=alert,
            purpose=purpose,
            round=round,
            step=step,
            contact_method=method,
            defaults={"person": person, "channel": channel_name(method), "created_at": now, "next_attempt_at": now},
        )
        if created:
            made.append(notification)
    if made:
        token = alert.token
        transaction.on_commit(lambda: queue_sends([n.pk for n in made], token))
    return made


def _readable(alert, targets, now):
    """The targets whose channel can be used: an alert URL the current key cannot decrypt (the key was lost or
    changed) is skipped with a note on the timeline, and never stops the others being alerted."""
    usable = []
    for person, method in targets:
        if method._meta.get_field("alert_url").is_readable(method):
            usable.append((person, method))
            continue
        alert.incident.note(
            f"Could not alert {person.name} by {method.get_kind_display()}: its alert URL cannot be decrypted "
            "(Switchboard's encryption key is not the one it was stored with) — re-enter it in the admin.",
            kind=TimelineEntry.Kind.ALERT_FAILED,
            at=now,
        )
    return usable


def channel_name(method):
    """What the timeline may say about where an alert went: "email", "ntfy", "matrix" — never the URL."""
    if method.alert_url:
        return method.alert_url.split("://", 1)[0].rstrip("s") if "://" in method.alert_url else "alert URL"
    return "email"


def queue_sends(ids, token):
    """Hand each notification to a worker (alerts.tasks.send_notification, by name: that module imports this one)."""
    for pk in ids:
        try:
            task = current_app.tasks["alerts.send_notification"]
            task.apply_async((pk, str(token)), **({"queue": settings.ALERT_QUEUE} if settings.ALERT_QUEUE else {}))
        except (OperationalError, OSError) as exc:  # the broker is down: the tick sends it again
            logger.warning("notification %s: broker unreachable, left for the next tick (%s)", pk, type(exc).__name__)
            return


def _note_step(alert, step, people, reached, now):
    where = f"step {alert.step + 1} of {len(alert.steps)}"
    if alert.repeat:
        where += f", round {alert.round + 1} of {alert.repeat + 1}"
    if reached:
        by = {}
        for notification in reached:
            by.setdefault(notification.person.name, []).append(notification.channel)
        whom = "; ".join(f"{name} by {', '.join(channels)}" for name, channels in by.items())
        body = f"Alerting {step['describe']} ({where}): {whom}."
        kind = TimelineEntry.Kind.ALERT_SENT
    elif people:
        names = ", ".join(person.name for person in people)
        body = f"Could not alert {step['describe']} ({where}): {names} has no contact method that takes alerts."
        kind = TimelineEntry.Kind.ALERT_FAILED
    else:
        body = f"Nobody to alert for {step['describe']} ({where}): nobody is on call there."
        kind = TimelineEntry.Kind.ALERT_FAILED
    alert.incident.note(body, kind=kind, at=now)


def _advance(alert, step, now):
    alert.step += 1
    if alert.step >= len(alert.steps):
        alert.step, alert.round = 0, alert.round + 1
    # Every step waits as configured, even one that reached nobody: the timing the admin set (and the
    # check against zero-minute loops) holds. After the last step too: a last chance before giving up.
    alert.next_step_at = now + timedelta(minutes=step["wait_minutes"])


def _paused_for_maintenance(alert, now):
    """Planned maintenance began on everything the incident names: hold the next step until it ends."""
    incident = alert.incident
    subjects = [*incident.machines.all(), *incident.guests.all()]
    windows = [MaintenanceWindow.objects.covering(subject, now).order_by("-ends_at").first() for subject in subjects]
    if not subjects or None in windows:
        return False
    alert.next_step_at = max(window.ends_at for window in windows)
    incident.note(
        f"Planned maintenance covers everything this incident lists: the next alert waits until "
        f"{coop_time(alert.next_step_at)}.",
        kind=TimelineEntry.Kind.MAINTENANCE,
        at=now,
    )
    return True


def _give_up(alert, now):
    alert.status, alert.next_step_at = Alert.Status.EXHAUSTED, None
    alert.incident.note(
        "Nobody acknowledged the alert after every step of the escalation policy: Switchboard stopped "
        "alerting. The incident stays open.",
        kind=TimelineEntry.Kind.ALERT_FAILED,
        at=now,
    )


def _stop(alert, status):
    """The alert climbs no further: a new token for stale tasks to miss, pending sends cancelled."""
    alert.status, alert.next_step_at, alert.token = status, None, uuid.uuid4()
    alert.notifications.filter(status__in=PENDING).exclude(purpose=Notification.Purpose.RESOLVED).update(
        status=Notification.Status.CANCELLED
    )


def acknowledge(alert, *, person=None, user=None, via="", now=None):
    """Someone answers the alert: escalation stops. Returns (alert, True) or (alert, False) if it was not alerting."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status not in (Alert.Status.ACTIVE, Alert.Status.EXHAUSTED):
            return alert, False
        if person is None and user is not None:
            person = Person.objects.filter(user=user).first()
        _stop(alert, Alert.Status.ACKNOWLEDGED)
        alert.acknowledged_at, alert.acknowledged_by = now, person
        alert.save()
        name = person.name if person else (user.get_full_name() or user.get_username()) if user else "Someone"
        alert.incident.note(
            f"{name} acknowledged the alert{(' ' + via) if via else ''}: escalation stopped.",
            by=user,
            kind=TimelineEntry.Kind.ALERT_ACKNOWLEDGED,
            at=now,
        )
        # Whoever else was already woken hears that someone has it (and need not get up).
        tell_those_reached(alert, Notification.Purpose.ACKNOWLEDGED, now, but=person)
    return alert, True


def ask_for_site_access(alert, *, user, now=None):
    """ "I'm on it — send someone with site access": acknowledge as `user`, alert everyone who can get in."""
    now = now or timezone.now()
    if alert.status == Alert.Status.RESOLVED or not alert.incident.is_open:
        return None
    alert, _ = acknowledge(alert, user=user, via="from the incident page and asked for someone with site access")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        asked_lately = alert.notifications.filter(
            purpose=Notification.Purpose.SITE_ACCESS, created_at__gt=now - SITE_ACCESS_AGAIN_AFTER
        )
        if asked_lately.exists():
            return None  # a double tap, or two operators at once: one call-out is enough
        site = site_of(alert.incident)
        people = [access.person for access in SiteAccess.objects.roster(site)] if site else []
        asked = alert.notifications.filter(purpose=Notification.Purpose.SITE_ACCESS).values("round").distinct().count()
        reached = notify(alert, people, Notification.Purpose.SITE_ACCESS, asked, 0, now)
        names = ", ".join(sorted({n.person.name for n in reached})) or "nobody (no one with site access takes alerts)"
        alert.incident.note(
            f"Asked for someone with access to {site or 'the site'}: alerting {names}.",
            by=user,
            kind=TimelineEntry.Kind.ALERT_SENT if reached else TimelineEntry.Kind.ALERT_FAILED,
            at=now,
        )
    return reached


def end(alert, now=None):
    """The incident is resolved: stop, and tell everyone the alert reached that it is over."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == Alert.Status.RESOLVED:
            return []
        _stop(alert, Alert.Status.RESOLVED)
        alert.save()
        return tell_those_reached(alert, Notification.Purpose.RESOLVED, now)


def tell_those_reached(alert, purpose, now, *, but=None):
    """One `purpose` message ("X is on it", "resolved") to every contact method an alert reached, but `but`'s."""
    reached = alert.notifications.filter(
        status=Notification.Status.SENT, purpose__in=[Notification.Purpose.ALERT, Notification.Purpose.SITE_ACCESS]
    )
    methods = {n.contact_method_id: n.person for n in reached.select_related("person") if n.contact_method_id}
    targets = []
    for method_id, person in methods.items():
        method = person.contact_methods.filter(pk=method_id).first() if person else None
        if method is not None and method.can_alert and (but is None or person.pk != but.pk):
            targets.append((person, method))
    return _write(alert, targets, purpose, 0, 0, now)


def unstarted(now):
    """Open incidents that should be alerting but have no alert: their start failed (logged), so try again."""
    from incidents.models import Incident

    return (
        Incident.objects.filter(cause__in=settings.ALERT_CAUSES, alert__isnull=True)
        .exclude(status=Incident.Status.RESOLVED)
        .exclude(cause_key="")
        .filter(started_at__gte=now - timedelta(days=1), started_at__lte=now - timedelta(seconds=30))
        .exclude(timeline__kind=TimelineEntry.Kind.ALERT_FAILED, timeline__body__startswith="Nobody was alerted")
        .order_by("started_at")[:50]
    )


def due_alerts(now):
    """(id, token) of alerts whose next step is due."""
    return list(
        Alert.objects.filter(status=Alert.Status.ACTIVE, next_step_at__lte=now)
        .order_by("next_step_at")
        .values_list("pk", "token")[:500]
    )


def open_alert_for(incident):
    """The incident's alert if it still climbs or was left unanswered, else None."""
    return Alert.objects.filter(incident=incident, status__in=[Alert.Status.ACTIVE, Alert.Status.EXHAUSTED]).first()
