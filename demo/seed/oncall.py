"""Who the demo's outage alerts: the "Core volunteers" rota and the "Outages" escalation policy.

The demo login's person (Ines) is on call this week, then Tomas, then Wen: weekly shifts handed
over on Mondays at 09:00 in the colo's time zone, from the Monday just gone, so stopping xen1
emails the demo login's person first. Nobody acknowledges within 2 minutes: Tomas (he has a key
to the colo) is emailed; then both once more, and the alert stops. Their email contact methods
(people.py) take alerts; `make run` delivers them to the demo mailbox (demo/mailbox.py).
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from alerts.models import EscalationPolicy, EscalationStep, Rota, RotaMember
from coop.models import Person

ROTA_NAME = "Core volunteers"
POLICY_NAME = "Outages"
ROTA_TIMEZONE = "America/Los_Angeles"
HANDOFF = time(9, 0)
WAIT_MINUTES = 2  # short, so a newcomer watching the demo sees the second step within minutes


def seed_oncall(s, user, people):
    """The rota (the demo login's person on call now) and the default escalation policy; returns both."""
    first = Person.objects.filter(user=user).first() or people["ines"]
    members = list(dict.fromkeys([first, people["tomas"], people["wen"]]))
    rota, created = s.ensure(
        Rota,
        {"name": ROTA_NAME},
        {
            "handoff_time": HANDOFF,
            "shift_length": timedelta(days=7),
            "starts_on": last_monday_handoff(s.now, ZoneInfo(ROTA_TIMEZONE)),
            "timezone": ROTA_TIMEZONE,
        },
    )
    # The members and steps belong to their rota and policy: written once, with them, so a user's
    # reordering or a step they removed survives the next `make run`.
    if created:
        for position, person in enumerate(members, start=1):
            s.ensure(RotaMember, {"rota": rota, "person": person}, {"position": position})
    else:
        s.present[str(RotaMember._meta.verbose_name_plural)] += rota.members.count()

    second = next(person for person in (people["tomas"], people["wen"]) if person != first)
    policy, created = s.ensure(
        EscalationPolicy,
        {"name": POLICY_NAME},
        # A co-op that already has a default policy keeps it.
        {"is_default": not EscalationPolicy.objects.filter(is_default=True).exists(), "repeat": 1},
    )
    if created:
        steps = [
            {"notify": EscalationStep.Notify.ROTA, "rota": rota},
            {"notify": EscalationStep.Notify.PERSON, "person": second},
        ]
        for position, target in enumerate(steps, start=1):
            s.ensure(EscalationStep, {"policy": policy, "position": position}, {**target, "wait_minutes": WAIT_MINUTES})
    else:
        s.present[str(EscalationStep._meta.verbose_name_plural)] += policy.steps.count()
    return rota, policy


def last_monday_handoff(now, tz):
    """The date of the latest Monday whose handoff time (in `tz`) is not after `now`."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    if datetime.combine(monday, HANDOFF, tzinfo=tz) > now:
        monday -= timedelta(days=7)
    return monday
