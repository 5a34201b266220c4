"""When each event fires: receivers of the rows that record a real change, connected in webhooks.apps.

Lower layers cannot import webhooks (STYLE.md, layers), and every change they make already
writes a row that says so. So the webhooks listen to those rows — the one place Switchboard uses
model signals for a side effect, because the listener sits above what it hears:

- incident.opened: the first entry on an incident's timeline (policy.report and open_by_person
  write it once the incident lists what it affects);
- incident.updated: a later entry on an open incident — a person's update, a status, severity or
  lead change, a check failing or recovering, a power action, an acknowledgement. Not
  Switchboard's delivery bookkeeping (alert sent or failed, owners told) nor password reveals;
- incident.resolved: an Incident saved with its status moving to resolved (Incident.resolve, the
  admin), once; what is written on it after that (its resolution note, the postmortem) is not news;
- monitor.down / monitor.up: a MonitorTransition row, which the checker writes only on a flip
  (down from up or unknown; up from down — a first good check of a new monitor is not news);
- power_action.finished: the POWER_DONE timeline entry PowerAction._end writes once per action;
- backup.state_changed: a BackupCheck whose state differs from the target's state until then
  (BackupTarget.record keeps a check before it moves the target).

Each receiver writes in the producer's transaction, inside a savepoint: a webhook that cannot be
written is logged and never undoes or interrupts the producer's work.
"""

import logging

from django.db import transaction

from hosts.models import Monitor
from incidents.models import Incident, TimelineEntry
from power.models import PowerAction

from . import events
from .models import EventType, WebhookDelivery

logger = logging.getLogger(__name__)

# Timeline entries that are Switchboard's bookkeeping about telling people, or an audit record: not news.
NOT_NEWS = {
    TimelineEntry.Kind.ALERT_SENT,
    TimelineEntry.Kind.ALERT_FAILED,
    TimelineEntry.Kind.OWNERS_TOLD,
    TimelineEntry.Kind.SECRET_REVEALED,
}


def _guarded(function, *args):
    try:
        with transaction.atomic():
            function(*args)
    except Exception:
        logger.exception("webhooks: %s failed; the change it was about is kept", function.__name__)


# --- Incidents -------------------------------------------------------------------------------------


def incident_saving(sender, instance, raw=False, update_fields=None, **kwargs):
    """pre_save of Incident: its status before this save, when the save may change it."""
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    _guarded(_remember_status, instance)


def _remember_status(incident):
    # Under Incident.resolve's row lock this is the status it is moving from.
    incident._webhooks_status_before = Incident.objects.filter(pk=incident.pk).values_list("status", flat=True).first()


def incident_saved(sender, instance, created=False, raw=False, **kwargs):
    """post_save of Incident: incident.resolved when this save resolved it."""
    before = instance.__dict__.pop("_webhooks_status_before", None)
    if raw or created or before in (None, Incident.Status.RESOLVED) or instance.status != Incident.Status.RESOLVED:
        return
    _guarded(_resolved, instance)


def _resolved(incident):
    events.emit(
        EventType.INCIDENT_RESOLVED,
        lambda: events.incident_data(incident),
        subject=f"incident:{incident.pk}",
        at=incident.resolved_at,
    )


def timeline_entry_saved(sender, instance, created=False, raw=False, **kwargs):
    """post_save of TimelineEntry: incident.opened or .updated, and power_action.finished."""
    if raw or not created:
        return
    if instance.kind == TimelineEntry.Kind.POWER_DONE:
        _guarded(_power_finished, instance)
    if instance.incident_id and instance.kind not in NOT_NEWS:
        _guarded(_incident_entry, instance)


def _incident_entry(entry):
    endpoints = events.listening(EventType.INCIDENT_OPENED, EventType.INCIDENT_UPDATED)
    if not endpoints:
        return
    incident = entry.incident
    if not incident.is_open:
        return
    earlier = TimelineEntry.objects.filter(incident=incident).exclude(pk=entry.pk).exists()
    events.emit(
        EventType.INCIDENT_UPDATED if earlier else EventType.INCIDENT_OPENED,
        lambda: events.incident_data(incident, entry if earlier else None),
        subject=f"incident:{incident.pk}",
        at=entry.at if earlier else incident.started_at,
        endpoints=endpoints,
    )


# --- Power actions ------------------------------------------------------------------------------


def _power_finished(entry):
    endpoints = events.listening(EventType.POWER_ACTION_FINISHED)
    if not endpoints or entry.machine_id is None:
        return
    action = _action_of(entry)
    if action is None:
        return
    subject = f"power_action:{action.pk}"
    if WebhookDelivery.objects.filter(event_type=EventType.POWER_ACTION_FINISHED, subject=subject).exists():
        return
    events.emit(
        EventType.POWER_ACTION_FINISHED,
        lambda: events.power_action_data(action),
        subject=subject,
        at=action.finished_at,
        endpoints=endpoints,
    )


def _action_of(entry):
    """The action a POWER_DONE entry tells the end of: the one of its machine that just ended, in this transaction.

    The entry names no action (incidents cannot know power): it is the machine's most recently
    finished action of the operation the entry names ("Power-cycle of ... done in 4 s").
    """
    finished = PowerAction.objects.filter(
        machine=entry.machine_id,
        state__in=[PowerAction.State.SUCCEEDED, PowerAction.State.FAILED],
        finished_at__lte=entry.at,
    ).select_related("machine", "outlet__controller")
    for action in finished.order_by("-finished_at", "-pk")[:5]:
        if entry.body.startswith(f"{action.get_operation_display()} of "):
            return action
    return None


# --- Monitors -------------------------------------------------------------------------------------


def monitor_transition_saved(sender, instance, created=False, raw=False, **kwargs):
    """post_save of MonitorTransition: monitor.down on a flip to down, monitor.up on a flip from down to up."""
    if raw or not created:
        return
    down, up = Monitor.State.DOWN, Monitor.State.UP
    if instance.to_state == down and instance.from_state != down:
        _guarded(_monitor_flipped, instance, EventType.MONITOR_DOWN)
    elif instance.to_state == up and instance.from_state == down:
        _guarded(_monitor_flipped, instance, EventType.MONITOR_UP)


def _monitor_flipped(transition, event_type):
    endpoints = events.listening(event_type)
    if not endpoints:
        return
    monitor = transition.monitor
    events.emit(
        event_type,
        lambda: events.monitor_data(monitor, transition),
        subject=f"monitor:{monitor.pk}",
        at=transition.at,
        endpoints=endpoints,
    )


# --- Backups ----------------------------------------------------------------------------------------


def backup_check_saved(sender, instance, created=False, raw=False, **kwargs):
    """post_save of BackupCheck: backup.state_changed when the check moves its target to another state."""
    if raw or not created:
        return
    # BackupTarget.record makes the check on the target it locked, before it moves the target's state.
    previous = instance.target.state
    if previous != instance.state:
        _guarded(_backup_changed, instance, previous)


def _backup_changed(check, previous):
    target = check.target
    events.emit(
        EventType.BACKUP_STATE_CHANGED,
        lambda: events.backup_data(target, check, previous),
        subject=f"backup_target:{target.pk}",
        at=check.checked_at,
    )
