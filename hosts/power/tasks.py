"""Celery tasks for power actions: run one (exactly once), and the sweep that re-sends stuck ones.

Imported by hosts/tasks.py so that autodiscovery finds them. Tasks take a primary key
only: no address, user name or password ever travels through the broker or the result
backend, and log lines name the action and controller, never a credential.
"""

import logging
import time
import uuid
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings

from hosts.models import Monitor, PowerAction, PowerState

from .base import PowerError, TransportError, get_driver

logger = logging.getLogger(__name__)


def _setting(name, default):
    return getattr(settings, name, default)


class PowerTask(Task):
    """Logs a failure with the action's id and the exception's type only (never its arguments)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error("%s failed for action %s: %s", self.name, args[0] if args else "?", type(exc).__name__)


@shared_task(
    name="hosts.run_power_action",
    bind=True,
    base=PowerTask,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def run_power_action(self, action_pk):
    """Carry out one PowerAction. Safe to run twice, concurrently or after a worker died mid-way.

    acks_late + reject_on_worker_lost: a killed worker's message is delivered again, and the
    row (not the message) decides what is left to do.
    """
    action = PowerAction.objects.select_related("outlet", "controller", "machine", "incident").filter(pk=action_pk)
    action = action.first()
    if action is None or action.is_finished:
        return {"action": action_pk, "state": action.state if action else "missing"}
    controller = action.controller
    token = f"{self.request.hostname or 'local'}/{uuid.uuid4().hex[:12]}"
    ttl = timedelta(seconds=_setting("POWER_LOCK_SECONDS", 120))
    if not _wait_for_lock(controller, token, ttl):
        # Another command to this controller is still running: come back shortly, without holding a worker.
        raise self.retry(countdown=2, max_retries=_setting("POWER_LOCK_RETRIES", 60))
    try:
        outcome = carry_out(action)
    finally:
        controller.release_lock(token)
    if outcome == "retry":
        tries = self.request.retries
        if tries < _setting("POWER_TRANSPORT_RETRIES", 3) and not self.request.called_directly:
            raise self.retry(countdown=min(2 ** (tries + 1), 30))
        action.refresh_from_db()
        if action.state == PowerAction.State.QUEUED:
            PowerAction.objects.filter(pk=action.pk, state=PowerAction.State.QUEUED).update(
                state=PowerAction.State.RUNNING
            )
            action.state = PowerAction.State.RUNNING
        action.finish(succeeded=False, error=action.error or "The controller did not answer.")
    action.refresh_from_db()
    return {"action": action.pk, "state": action.state}


def _wait_for_lock(controller, token, ttl):
    deadline = time.monotonic() + _setting("POWER_LOCK_WAIT_SECONDS", 10)
    while not controller.acquire_lock(token, ttl):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def carry_out(action: PowerAction):
    """Do what is left of the action while holding its controller's lease; returns "done", "retry" or "skipped".

    Called by run_power_action only (it holds the lease, so a RUNNING row here was left by a
    worker that died: if its command went out, read the state back; never send it again).
    """
    action.refresh_from_db()
    if action.is_finished:
        return "skipped"
    if action.state in (PowerAction.State.REQUESTED, PowerAction.State.QUEUED):
        if not action.claim():
            return "skipped"
        resumed = False
    else:
        resumed = True
        logger.warning("power action %s: resuming a run whose worker stopped", action.pk)
    driver = get_driver(action.controller)
    try:
        if driver.needs_a_person:
            action.note_progress("\n".join(driver.steps(action)))
            return "done"
        if action.command_sent_at is None:
            sent = _send(action, driver)
            if sent != "sent":
                return sent
        else:
            action.note_progress(
                "The command had already gone out before a worker stopped; it was not sent again. "
                "Reading the state back instead."
            )
        _verify(action, driver, resumed=resumed)
        return "done"
    finally:
        driver.close()


def _send(action, driver):
    outlet = action.outlet.number
    try:
        before = driver.state(outlet)
    except TransportError as exc:
        # Nothing went out yet: safe to try again later.
        PowerAction.objects.filter(pk=action.pk).update(error=str(exc))
        action.error = str(exc)
        action.unclaim()
        logger.info("power action %s: controller did not answer before the command; will retry", action.pk)
        return "retry"
    except PowerError as exc:
        action.finish(succeeded=False, error=str(exc))
        return "done"
    action.observe(before)
    operation = action.operation
    if operation != PowerAction.Operation.CYCLE and before == action.expected_state:
        action.mark_command_sent(state_before=before)
        action.finish(succeeded=True, result=f"{action.outlet} was already {before}; nothing was sent.")
        return "done"
    if operation == PowerAction.Operation.CYCLE and before == PowerState.OFF:
        # A cycle of an outlet that is off is a power-on: never more than was asked for.
        operation = PowerAction.Operation.ON
    if not action.mark_command_sent(state_before=before):
        return "skipped"
    try:
        answer = getattr(driver, operation)(outlet)
    except TransportError as exc:
        # The command may or may not have arrived: never resend it; read back and let a person decide.
        action.note_progress(f"No answer to the command: {exc}")
        _verify(action, driver, resumed=False, lost_answer=str(exc))
        return "done"
    except PowerError as exc:
        action.finish(succeeded=False, error=str(exc))
        return "done"
    if operation != action.operation:
        answer = f"{action.outlet} was off, so it was switched on instead of cycled. {answer}"
    action.note_progress(answer)
    return "sent"


def _verify(action, driver, *, resumed, lost_answer=""):
    """Poll the outlet until it reads the expected state or the deadline passes, then record the outcome."""
    expected = action.expected_state
    started = time.monotonic()
    deadline = started + _setting("POWER_VERIFY_SECONDS", 30)
    interval = _setting("POWER_POLL_INTERVAL", 0.5)
    # After a cycle the first reading may still say "on" (the switch has not happened yet): wait to see it
    # go off, or for this long, before calling it done.
    off_window = _setting("POWER_CYCLE_SEEN_OFF_SECONDS", 5)
    wait_for_off = action.operation == PowerAction.Operation.CYCLE and action.state_before == PowerState.ON
    wait_for_off = wait_for_off and not resumed
    seen = []
    last_error = ""
    while True:
        try:
            current = driver.state(action.outlet.number)
            last_error = ""
        except PowerError as exc:
            current, last_error = PowerState.UNKNOWN, str(exc)
        if not seen or seen[-1] != current:
            seen.append(current)
            action.observe(current)
        if current == expected:
            went_off = any(state != PowerState.ON for state in seen)
            if not wait_for_off or went_off or time.monotonic() - started >= off_window:
                break
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    path = " → ".join(str(state) for state in seen)
    if current == expected:
        result = f"{action.result} {action.outlet} reads {current} again (seen: {path}). {_monitor_summary(action)}"
        if lost_answer:
            result += " The command's answer was lost, so check before trying again."
        action.finish(succeeded=True, result=result.strip(), state_after=current)
    else:
        waited = _setting("POWER_VERIFY_SECONDS", 30)
        error = f"{action.outlet} did not read {expected} within {waited:g} s (seen: {path})."
        if lost_answer:
            error = f"{lost_answer} {error}"
        if last_error:
            error += f" Last error: {last_error}"
        action.finish(succeeded=False, error=error, state_after=current)
    if action.state == PowerAction.State.SUCCEEDED and action.machine_id and action.machine.monitors.exists():
        check_machine_answers.apply_async((action.pk,), countdown=_setting("POWER_BOOT_GRACE_SECONDS", 180))


def _monitor_summary(action):
    if not action.machine_id:
        return ""
    monitors = list(action.machine.monitors.filter(is_enabled=True))
    if not monitors:
        return "The machine has no monitor, so check by hand that it answers."
    states = ", ".join(f"{monitor} {monitor.get_state_display().lower()}" for monitor in monitors)
    return f"Monitors right now: {states}; Switchboard notes on the timeline whether it answers once booted."


@shared_task(name="hosts.check_machine_answers")
def check_machine_answers(action_pk):
    """After a successful power action, say on the timeline whether the machine's monitors see it up."""
    from incidents.models import TimelineEntry

    action = PowerAction.objects.select_related("machine", "incident").filter(pk=action_pk).first()
    if action is None or action.incident is None or action.machine is None:
        return
    monitors = list(action.machine.monitors.filter(is_enabled=True))
    if not monitors:
        return
    up = [monitor for monitor in monitors if monitor.state == Monitor.State.UP]
    verdict = "answers again" if len(up) == len(monitors) else "does not answer yet"
    states = ", ".join(f"{monitor} {monitor.get_state_display().lower()}" for monitor in monitors)
    action.incident.note(
        f"After the {action.get_operation_display().lower()}: {action.machine} {verdict} ({states}).",
        kind=TimelineEntry.Kind.POWER_DONE,
    )


@shared_task(name="hosts.sweep_power_actions")
def sweep_power_actions():
    """Re-send actions a worker never picked up (the broker was down) or abandoned; safe at any rate."""
    sent = 0
    for action in PowerAction.needing_dispatch():
        if action.dispatch():
            sent += 1
    if sent:
        logger.info("power sweep re-sent %s action(s)", sent)
    return sent


__all__ = ["check_machine_answers", "run_power_action", "sweep_power_actions"]
