"""Celery tasks for power actions: run one (exactly once), and the sweep that re-sends stuck ones.

An action on one outlet is carried out by carry_out(); an action on every outlet of a machine walks its
steps (_run_whole_machine), each step under the lease of its own controller and exactly once.

Tasks take a primary key only: no address, user name or password ever travels through the broker or the result
backend, and log lines name the action and controller, never a credential.
"""

import logging
import time
import uuid
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, transaction
from django.db import OperationalError as DatabaseOperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError

from hosts.models import Monitor
from incidents.models import TimelineEntry

from .drivers import PowerError, TransportError, get_driver
from .drivers.manual import instructions
from .models import PowerAction, PowerOutlet, PowerState, PowerStep

logger = logging.getLogger(__name__)
# A task whose database went away comes back this many times (1, 2, 4, 8, then every 15 s: about 4 minutes);
# after that the row waits for the sweep.
DATABASE_RETRIES = 20


class PowerTask(Task):
    """Logs a failure with the action's id and the exception's type only (never its arguments)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error("%s failed for action %s: %s", self.name, args[0] if args else "?", type(exc).__name__)


@shared_task(
    name="power.run_power_action",
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
    try:
        return _run_power_action(self, action_pk)
    except (DatabaseOperationalError, InterfaceError) as exc:
        # The database went away under the task. Failing would acknowledge the message and leave the row for the
        # sweep, which waits five minutes for a queued action: come back soon instead, and the row decides.
        if self.request.retries >= DATABASE_RETRIES:
            raise
        countdown = min(2 ** min(self.request.retries, 4), 15)
        logger.warning(
            "power action %s: database unavailable (%s), again in %s s", action_pk, type(exc).__name__, countdown
        )
        raise self.retry(countdown=countdown, max_retries=None) from None


def _run_power_action(task, action_pk):
    """run_power_action's work, for the task `task` (its request counts the retries)."""
    action = PowerAction.objects.select_related("outlet", "controller", "machine", "incident").filter(pk=action_pk)
    action = action.first()
    if action is None:
        return {"action": action_pk, "state": "missing"}
    # A cancelled whole-machine run still holding its outlets (a retry, or redelivered after its worker died)
    # goes on turning back on what it turned off; any other ended action is left alone.
    if action.is_whole_machine and (action.is_active or action.steps.filter(holds_outlet=True).exists()):
        return _run_whole_machine(task, action)
    if action.is_finished:
        return {"action": action.pk, "state": action.state}
    controller = action.controller
    lease = Lease(controller, f"{task.request.hostname or 'local'}/{uuid.uuid4().hex[:12]}")
    if not _wait_for_lock(controller, lease.token, lease.ttl):
        # Another command to this controller is still running: come back shortly, without holding a worker.
        # Every retry of this task is a lock wait or a transport retry; the row counts the latter.
        lock_waits = max(task.request.retries - action.transport_retries, 0)
        if lock_waits >= settings.POWER_LOCK_RETRIES:
            action.fail(
                f"{controller} was busy with other commands for too long; nothing was sent. Try again in a few minutes."
            )
            return {"action": action.pk, "state": PowerAction.State.FAILED}
        action.note_retry(transport=False)
        raise task.retry(countdown=2, max_retries=None)
    try:
        outcome = carry_out(action, lease)
    finally:
        controller.release_lock(lease.token)
    if outcome == "retry":
        action.refresh_from_db()
        tries = action.transport_retries
        if tries < settings.POWER_TRANSPORT_RETRIES:
            action.note_retry(transport=True)
            raise task.retry(countdown=min(2 ** (tries + 1), 30), max_retries=None)
        action.fail(action.error or "The controller did not answer.")
    action.refresh_from_db()
    return {"action": action.pk, "state": action.state}


def queue_power_action(action):
    """Send a newly requested action to a worker once the request's transaction commits."""
    transaction.on_commit(lambda: dispatch(action))


def dispatch(action):
    """Send the task to a worker; True if the broker took it. The sweep calls this again for stuck rows."""
    queue = settings.POWER_QUEUE
    try:
        run_power_action.apply_async((action.pk,), **({"queue": queue} if queue else {}))
    except (OperationalError, OSError) as exc:
        # The row stays `requested`; the sweep sends it once the broker is back.
        logger.warning("power action %s: broker unreachable, left for the sweep (%s)", action.pk, type(exc).__name__)
        return False
    action.mark_dispatched()
    return True


class Lease:
    """This run's hold on its controller, renewed at every step so that no other worker (nor the sweep) takes
    the controller over while the run is alive, however long its commands and polls take."""

    def __init__(self, controller, token):
        self.controller, self.token = controller, token
        # Long enough for the slowest single step: one command or reading, bounded by the controller's timeout.
        timeout = controller.timeout.total_seconds() if controller.timeout else 0
        self.ttl = timedelta(seconds=max(settings.POWER_LOCK_SECONDS, 3 * timeout))

    def renew(self):
        if not self.controller.acquire_lock(self.token, self.ttl):
            logger.warning("power action on controller %s: its lease was taken over", self.controller.pk)


def _wait_for_lock(controller, token, ttl):
    deadline = time.monotonic() + settings.POWER_LOCK_WAIT_SECONDS
    while not controller.acquire_lock(token, ttl):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def carry_out(action: PowerAction, lease=None):
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
    if action.command_sent_at is None:
        moved = _moved_single(action)
        if moved:
            action.fail(moved)
            return "done"
    driver = None
    try:
        driver = get_driver(action.controller)
        if driver.needs_a_person:
            action.note_progress("\n".join(driver.steps(action)))
            return "done"
        if action.command_sent_at is None:
            sent = _send(action, driver, lease)
            if sent != "sent":
                return sent
        else:
            action.note_progress(
                "The command had already gone out before a worker stopped; it was not sent again. "
                "Reading the state back instead."
            )
        _verify(action, driver, resumed=resumed, lease=lease)
        return "done"
    except PowerError as exc:
        action.fail(str(exc))
        return "done"
    except (DatabaseOperationalError, InterfaceError):
        # The database, not the controller: run_power_action retries, and the row (command_sent_at) decides.
        raise
    except Exception as exc:
        # A bug or a library error nobody mapped: never leave the row running (it would block the outlet
        # and be sent again forever). Only the type is logged and shown: the message may hold a secret.
        logger.error("power action %s: unexpected %s", action.pk, type(exc).__name__)
        _fail_unexpectedly(action, driver, exc)
        return "done"
    finally:
        if driver is not None:
            driver.close()


def _moved_single(action):
    """Why the command must not go out because the outlet now feeds another machine than the one asked for, or ""."""
    outlet = PowerOutlet.objects.select_related("machine").get(pk=action.outlet_id)
    if outlet.machine_id == action.machine_id:
        return ""
    now = outlet.machine or "no machine"
    return (
        f"Nothing was sent: {outlet} now feeds {now}, not {action.machine} (the wiring was changed after the "
        "request). Check which machine it feeds, then ask again."
    )


def _fail_unexpectedly(action, driver, exc):
    action.refresh_from_db()
    label = driver.label if driver is not None else str(action.controller)
    error = f"Switchboard hit an unexpected error ({type(exc).__name__}) while talking to {label}."
    state_after = ""
    if action.command_sent_at is None:
        error += " Nothing was sent; the outlet was not switched."
    else:
        error += " The command had already gone out"
        try:
            state_after = driver.state(action.outlet.number) if driver is not None else ""
        except Exception:  # noqa: BLE001 - reading back is a courtesy; the failure below is what matters
            state_after = ""
        if state_after:
            error += f"; {action.outlet} reads {state_after} now."
        else:
            error += "; its state could not be read back, so check it before trying again."
    error += " An admin can find the details in the worker's log."
    action.fail(error, state_after=state_after)


def _send(action, driver, lease=None):
    outlet = action.outlet.number
    try:
        before = driver.state(outlet)
    except TransportError as exc:
        # Nothing went out yet: safe to try again later.
        action.note_error(str(exc))
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
    if lease is not None:
        lease.renew()
    try:
        answer = getattr(driver, operation)(outlet)
    except TransportError as exc:
        # The command may or may not have arrived: never resend it; read back and let a person decide.
        action.note_progress(f"No answer to the command: {exc}")
        _verify(action, driver, resumed=False, lost_answer=str(exc), lease=lease)
        return "done"
    except PowerError as exc:
        action.finish(succeeded=False, error=str(exc))
        return "done"
    if operation != action.operation:
        answer = f"{action.outlet} was off, so it was switched on instead of cycled. {answer}"
    action.note_progress(answer)
    return "sent"


def _verify(action, driver, *, resumed, lost_answer="", lease=None):
    """Poll the outlet until it reads the expected state or the deadline passes, then record the outcome."""
    expected = action.expected_state
    started = time.monotonic()
    deadline = started + settings.POWER_VERIFY_SECONDS
    interval = settings.POWER_POLL_INTERVAL
    # After a cycle the first reading may still say "on" (the switch has not happened yet): wait to see it
    # go off, or for this long, before calling it done.
    off_window = settings.POWER_CYCLE_SEEN_OFF_SECONDS
    wait_for_off = action.operation == PowerAction.Operation.CYCLE and action.state_before == PowerState.ON
    wait_for_off = wait_for_off and not resumed
    seen = []
    last_error = ""
    while True:
        if lease is not None:
            lease.renew()
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
        waited = settings.POWER_VERIFY_SECONDS
        error = f"{action.outlet} did not read {expected} within {waited:g} s (seen: {path})."
        if lost_answer:
            error = f"{lost_answer} {error}"
        if last_error:
            error += f" Last error: {last_error}"
        if lost_answer or current == PowerState.UNKNOWN:
            # Nobody knows what the command did: the operator must not take "failed" for "nothing happened".
            error += " The command went out, so check the outlet before trying again: asking again switches it again."
        action.finish(succeeded=False, error=error, state_after=current)
    if action.state == PowerAction.State.SUCCEEDED and action.machine_id and action.machine.monitors.exists():
        check_machine_answers.apply_async((action.pk,), countdown=settings.POWER_BOOT_GRACE_SECONDS)


# --- Every outlet of a machine -----------------------------------------------------------------


def _run_whole_machine(task, action):
    """run_power_action for an action on every outlet of a machine: walk its steps in order, then record
    the outcome once. Safe to run twice: every step is decided by its own row, under its controller's lease."""
    if action.state in (PowerAction.State.REQUESTED, PowerAction.State.QUEUED) and not action.claim():
        action.refresh_from_db()
        if action.is_finished:
            return {"action": action.pk, "state": action.state}
    # Running already: a worker died and the sweep or Celery sent it again, or a twin of this task runs now.
    if action.is_manual:
        # Someone on site switches every outlet (the wait between off and on needs one pair of hands).
        action.note_progress("\n".join(instructions(action)))
        return {"action": action.pk, "state": action.state}
    token = f"{task.request.hostname or 'local'}/{uuid.uuid4().hex[:12]}"
    try:
        outcome = _walk_steps(action, token)
    except (DatabaseOperationalError, InterfaceError):
        raise
    except Exception as exc:
        # A bug nobody foresaw: never leave the outlets held by a running row, and say what they read.
        logger.error("power action %s: unexpected %s", action.pk, type(exc).__name__)
        ended_here = action.fail(
            f"Switchboard hit an unexpected error ({type(exc).__name__}) half-way through. {_readings(action)} "
            "Check the outlets before trying again. An admin can find the details in the worker's log."
        )
        _close_run(action, "Switchboard stopped after an unexpected error", tell=not ended_here)
        outcome = "done"
    if outcome == "lock":
        lock_waits = max(task.request.retries - action.transport_retries, 0)
        if lock_waits >= settings.POWER_LOCK_RETRIES:
            ended_here = action.fail(
                f"A controller was busy with other commands for too long, so Switchboard stopped. {_readings(action)} "
                "Some outlets may still be off: check them before trying again."
            )
            _close_run(action, "a controller was busy for too long, so Switchboard stopped", tell=not ended_here)
        else:
            action.note_retry(transport=False)
            raise task.retry(countdown=2, max_retries=None)
    elif outcome == "retry":
        # A controller did not answer before a step's command went out (nothing was sent for that step).
        tries = action.transport_retries
        action.note_retry(transport=True)
        raise task.retry(countdown=min(2 ** (tries + 1), 30), max_retries=None)
    action.refresh_from_db()
    return {"action": action.pk, "state": action.state}


def _walk_steps(action, token):
    """Carry out what is left of the steps, one controller command at a time; "done", "retry" or "lock"."""
    for step in action.steps.select_related("outlet__controller").order_by("position"):
        step.refresh_from_db()
        if step.finished_at is not None:
            continue
        controller = step.outlet.controller
        lease = Lease(controller, token)
        if not _wait_for_lock(controller, lease.token, lease.ttl):
            return "lock"
        try:
            # Everything is decided under the lease: a twin of this run may be switching this very outlet.
            step.refresh_from_db()
            if step.finished_at is not None:
                continue  # another run of this action did it while this one waited for the controller
            step.outlet = PowerOutlet.objects.select_related("controller", "machine").get(pk=step.outlet_id)
            steps = list(action.steps.select_related("outlet__controller").order_by("position"))
            moved = _moved_away(action, step, steps)
            if moved:
                step.finish(PowerStep.Outcome.FAILED, error=moved)
                continue
            skip = _why_skip(action, step, steps)
            if skip:
                step.finish(PowerStep.Outcome.SKIPPED, result=skip)
                continue
            outcome = _run_step(action, step, lease, off_until=_off_until(action, step, steps))
        finally:
            controller.release_lock(lease.token)
        if outcome == "retry":
            return "retry"
    _finish_whole_machine(action)
    return "done"


def _undoing(action, steps):
    """True once an off failed (or someone cancelled the action): no more offs, only turning back on."""
    action.refresh_from_db(fields=["state"])
    failed_off = any(s.operation == PowerStep.Operation.OFF and s.outcome == PowerStep.Outcome.FAILED for s in steps)
    return failed_off or not action.is_active


def _moved_away(action, step, steps):
    """Why this step must not be sent because the wiring changed after the request, or "" to go on.

    An off goes out only while every outlet still feeds the machine (off one PSU of another machine is no
    reboot of this one); an on only while its own outlet does (turning back on what this action turned off).
    """
    if step.command_sent_at is not None:
        return ""  # it went out already: read it back
    outlet_ids = {s.outlet_id for s in steps} if step.operation == PowerStep.Operation.OFF else {step.outlet_id}
    outlets = PowerOutlet.objects.filter(pk__in=outlet_ids).select_related("controller", "machine")
    moved = [outlet for outlet in outlets if outlet.machine_id != action.machine_id]
    if not moved:
        return ""
    told = ", ".join(f"{outlet} now feeds {outlet.machine or 'no machine'}" for outlet in moved)
    return (
        f"Not sent to {step.outlet_name}: {told}, not {action.machine} (the wiring was changed after the request). "
        "Check which machine each outlet feeds, then ask again."
    )


def _why_skip(action, step, steps):
    """Why this step must not run now (a sentence for the page), or "" to run it."""
    if step.command_sent_at is not None:
        return ""  # its command went out (a worker stopped): read it back, never call it "not sent"
    undoing = _undoing(action, steps)
    offs = [s for s in steps if s.operation == PowerStep.Operation.OFF]
    failed_off = any(s.outcome == PowerStep.Outcome.FAILED for s in offs)
    if undoing and not failed_off and all(s.outcome == PowerStep.Outcome.DONE for s in offs):
        # Cancelled once every outlet was off: the machine is down as asked; switching it back on is a new request.
        return "Not sent: the action was cancelled after every outlet was off."
    if step.operation == PowerStep.Operation.OFF:
        return "Not sent: an earlier step failed, so Switchboard stopped switching off." if undoing else ""
    if not undoing:
        return "Not needed: every outlet went off." if step.undo_only else ""
    switched_off = any(
        s.outlet_id == step.outlet_id and s.operation == PowerStep.Operation.OFF and s.command_sent_at for s in steps
    )
    return "" if switched_off else "Not sent: Switchboard had not switched this outlet off."


def _off_until(action, step, steps):
    """For the first on of a cycle: the moment every outlet has been off for POWER_ALL_OFF_SECONDS; else None."""
    if action.operation != PowerAction.Operation.CYCLE or step.operation != PowerStep.Operation.ON:
        return None
    if _undoing(action, steps):
        return None  # turning back on what an aborted cycle turned off: at once
    offs = [s.finished_at for s in steps if s.operation == PowerStep.Operation.OFF and s.finished_at]
    return max(offs) + timedelta(seconds=settings.POWER_ALL_OFF_SECONDS) if offs else None


def _run_step(action, step, lease, *, off_until=None):
    """Switch one outlet off or on, exactly once, and read it back; returns "done" or "retry"."""
    number, name, target = step.outlet.number, step.outlet_name, PowerState(step.operation)
    driver = None
    try:
        driver = get_driver(step.outlet.controller)
        lost_answer = ""
        if step.command_sent_at is None:
            _wait_until(off_until, lease)
            try:
                before = driver.state(number)
            except TransportError as exc:
                if action.transport_retries < settings.POWER_TRANSPORT_RETRIES:
                    action.note_error(str(exc))
                    return "retry"
                step.finish(PowerStep.Outcome.FAILED, error=f"{exc} Nothing was sent to {name}.")
                return "done"
            except PowerError as exc:
                step.finish(PowerStep.Outcome.FAILED, error=f"{exc} Nothing was sent to {name}.")
                return "done"
            step.note(state_before=before, state_after=before)
            if before == target:
                step.finish(PowerStep.Outcome.DONE, result=f"{name} was already {before}; nothing was sent.")
                return "done"
            if step.mark_command_sent(before):
                lease.renew()
                try:
                    step.note(result=getattr(driver, step.operation)(number))
                except TransportError as exc:
                    # It may or may not have arrived: never resend it; read back what the outlet says.
                    lost_answer = f"No answer to the command: {exc}"
                except PowerError as exc:
                    step.finish(PowerStep.Outcome.FAILED, error=str(exc), state_after=_read(driver, number))
                    return "done"
        else:
            step.note(result=f"{step.result} The command had gone out before a worker stopped; not sent again.")
        _verify_step(step, driver, lease, target, lost_answer)
        return "done"
    except (DatabaseOperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.error("power action %s step %s: unexpected %s", action.pk, step.position, type(exc).__name__)
        step.refresh_from_db()
        sent = "its command had gone out" if step.command_sent_at else "nothing was sent"
        step.finish(
            PowerStep.Outcome.FAILED,
            error=f"Switchboard hit an unexpected error ({type(exc).__name__}) on {name}; {sent}.",
            state_after=_read(driver, number) if driver is not None else "",
        )
        return "done"
    finally:
        if driver is not None:
            driver.close()


def _wait_until(moment, lease):
    """Sleep until `moment` (None: not at all), renewing the lease so that the sweep sees the run alive."""
    while moment is not None:
        remaining = (moment - timezone.now()).total_seconds()
        if remaining <= 0:
            return
        lease.renew()
        time.sleep(min(max(settings.POWER_POLL_INTERVAL, 0.01), remaining))


def _read(driver, number):
    try:
        return driver.state(number)
    except Exception:  # noqa: BLE001 - reading back is a courtesy; the failure being recorded is what matters
        return PowerState.UNKNOWN


def _verify_step(step, driver, lease, target, lost_answer):
    """Poll the outlet until it reads `target` or POWER_VERIFY_SECONDS pass, then record the step's outcome."""
    deadline = time.monotonic() + settings.POWER_VERIFY_SECONDS
    seen, last_error = [], ""
    while True:
        lease.renew()
        try:
            current, last_error = driver.state(step.outlet.number), ""
        except PowerError as exc:
            current, last_error = PowerState.UNKNOWN, str(exc)
        if not seen or seen[-1] != current:
            seen.append(current)
            step.note(state_after=current)
        if current == target or time.monotonic() > deadline:
            break
        time.sleep(settings.POWER_POLL_INTERVAL)
    path = " → ".join(str(state) for state in seen)
    if current == target:
        result = f"{step.result} {step.outlet_name} reads {current} (seen: {path}).".strip()
        if lost_answer:
            result += " The command's answer was lost, so check it before trying again."
        step.finish(PowerStep.Outcome.DONE, result=result, state_after=current)
        return
    error = f"{step.outlet_name} did not read {target} within {settings.POWER_VERIFY_SECONDS:g} s (seen: {path})."
    if lost_answer:
        error = f"{lost_answer} {error}"
    if last_error:
        error += f" Last error: {last_error}"
    step.finish(PowerStep.Outcome.FAILED, error=error, state_after=current)


def _readings(action):
    """What each outlet of a whole-machine action read last, in words: "Now: ... reads on; ... reads off."."""
    last = {}
    for step in action.steps.select_related("outlet__controller").order_by("position"):
        reading = step.state_after or step.state_before
        if reading or step.outlet_name not in last:
            last[step.outlet_name] = reading
    told = [f"{name} reads {reading}" if reading else f"{name} could not be read" for name, reading in last.items()]
    return "Now: " + "; ".join(told) + "."


def _per_outlet(steps, *, skipped=False):
    """What each outlet did, in words: "pdu-sf-1 outlet 4 (PSU A): switched off, switched on; ..."."""
    per_outlet = {}
    for step in steps:
        if step.outcome == PowerStep.Outcome.DONE:
            done = f"switched {step.operation}" if step.command_sent_at else f"already {step.state_after}"
            per_outlet.setdefault(step.outlet_name, []).append(done)
        elif step.outcome == PowerStep.Outcome.FAILED:
            per_outlet.setdefault(step.outlet_name, []).append(f"{step.operation} FAILED")
        elif skipped and step.outcome == PowerStep.Outcome.SKIPPED:
            per_outlet.setdefault(step.outlet_name, []).append(f"{step.operation} not sent")
    return "; ".join(f"{name}: {', '.join(what)}" for name, what in per_outlet.items())


def _close_run(action, why, *, tell=True):
    """The end of a run of a whole-machine action that had already ended (cancelled, or failed by the sweep):
    close the steps it left, free the outlets, and say once on the timeline what the run did after the end."""
    action.close_leftover_steps(why)
    if action.release_outlets() and tell:
        steps = list(action.steps.select_related("outlet__controller").order_by("position"))
        action.record(
            f"{action.get_operation_display()} of {action.target}, after it was stopped: the run has ended. "
            f"{_per_outlet(steps, skipped=True)}. {_readings(action)} Check the outlets before asking again.",
            kind=TimelineEntry.Kind.POWER_DONE,
        )


def _finish_whole_machine(action):
    """Record the outcome of a whole-machine action once, with what each outlet did (one POWER_DONE entry).

    If it had already ended (a cancel while the run turned outlets back on), add what the run did since."""
    steps = list(action.steps.select_related("outlet__controller").order_by("position"))
    failed = [step for step in steps if step.outcome == PowerStep.Outcome.FAILED]
    told = _per_outlet(steps)
    readings = {step.state_after for step in steps if step.state_after}
    state_after = readings.pop() if len(readings) == 1 else PowerState.UNKNOWN
    if not failed:
        waited = (
            f" All were off for at least {settings.POWER_ALL_OFF_SECONDS} s."
            if action.operation == PowerAction.Operation.CYCLE
            else ""
        )
        result = f"{told}.{waited} {_monitor_summary(action)}".strip()
        finished = action.finish(succeeded=True, result=result, state_after=state_after)
        if finished and action.machine_id and action.machine.monitors.exists():
            check_machine_answers.apply_async((action.pk,), countdown=settings.POWER_BOOT_GRACE_SECONDS)
    else:
        first = failed[0]
        error = first.error
        if first.operation == PowerStep.Operation.OFF:
            error += " Switchboard stopped there and turned back on what it had turned off."
        error += f" {told}. {_readings(action)} Check the outlets before trying again."
        finished = action.finish(succeeded=False, error=error, state_after=state_after)
    if not finished:
        _close_run(action, "the action had ended")


def _monitor_summary(action):
    if not action.machine_id:
        return ""
    monitors = list(action.machine.monitors.filter(is_enabled=True))
    if not monitors:
        return "The machine has no monitor, so check by hand that it answers."
    states = ", ".join(f"{monitor} {monitor.get_state_display().lower()}" for monitor in monitors)
    return f"Monitors right now: {states}; Switchboard notes on the timeline whether it answers once booted."


@shared_task(name="power.check_machine_answers")
def check_machine_answers(action_pk):
    """After a successful power action, say on the timeline whether the machine's monitors see it up."""
    action = PowerAction.objects.select_related("machine", "incident").filter(pk=action_pk).first()
    if action is None or action.machine is None:
        return
    monitors = list(action.machine.monitors.filter(is_enabled=True))
    if not monitors:
        return
    up = [monitor for monitor in monitors if monitor.state == Monitor.State.UP]
    verdict = "answers again" if len(up) == len(monitors) else "does not answer yet"
    states = ", ".join(f"{monitor} {monitor.get_state_display().lower()}" for monitor in monitors)
    action.record(
        f"After the {action.get_operation_display().lower()}: {action.machine} {verdict} ({states}).",
        kind=TimelineEntry.Kind.POWER_DONE,
    )


@shared_task(name="power.sweep_power_actions")
def sweep_power_actions():
    """Re-send actions a worker never picked up (the broker was down) or abandoned; safe at any rate.

    Gives up on an action sent POWER_MAX_DISPATCHES times without an outcome, and on a manual action
    nobody marked done within POWER_MANUAL_DEADLINE_HOURS.
    """
    for action in PowerAction.overdue_manual():
        action.fail(
            f"Nobody marked this done on site within {settings.POWER_MANUAL_DEADLINE_HOURS} h, so Switchboard "
            "stopped waiting. If someone did switch it, note it on the incident; if not, ask again."
        )
    for action in PowerAction.holding_after_the_end():
        # Its run's worker died after the action ended (a cancel mid-cycle): never leave the outlets blocked.
        _close_run(action, "the worker running it stopped")
    sent = 0
    for action in PowerAction.needing_dispatch():
        if action.dispatch_count >= settings.POWER_MAX_DISPATCHES:
            action.fail(
                f"Sent to a worker {action.dispatch_count} times without an outcome, so Switchboard gave up. "
                "Check that the power workers are running, then ask again."
            )
            continue
        if dispatch(action):
            sent += 1
    if sent:
        logger.info("power sweep re-sent %s action(s)", sent)
    return sent
