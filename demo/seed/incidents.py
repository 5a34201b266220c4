"""The dom0 outage from the first story, already written up with its timeline and action items."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from incidents.models import ActionItem, Incident, TimelineEntry

INCIDENT_TITLE = "dom0 down: wiki and blog offline"


# (minutes after the start, kind, public?, written by the demo user?, body)
K = TimelineEntry.Kind  # short, to keep the table below readable
TIMELINE = [
    (0, K.CHECK_FAILED, False, False, "Ping to xen1.foghorn.example.net (192.0.2.10) failed three times in a row."),
    (0, K.STATUS, False, False, "Incident opened for xen1.foghorn.example.net."),
    (1, K.ALERT_SENT, False, False, "SMS to Ines Okafor (+1 555 0101); email to ops@tidewater.example.org."),
    (4, K.NOTE, True, True, "Atlas Wiki and Field Notes are down: the server they run on stopped answering."),
    (9, K.ALERT_ACKNOWLEDGED, False, True, "Ines Okafor acknowledged the alert by SMS."),
    (15, K.NOTE, False, True, "No ping or SSH to xen1; wiki1 and blog1 time out. Serial console server silent."),
    (22, K.POWER_REQUESTED, False, True, "Power cycle of xen1 (foghorn-pdu1 outlets 1–2): dom0 unresponsive."),
    (23, K.POWER_DONE, False, False, "foghorn-pdu1 outlets 1–2: off, 10 s wait, on. Done in 14 s."),
    (
        35,
        K.NOTE,
        False,
        True,
        "xen1 still silent 10 minutes after the power cycle. Tomas is out of town today and can be at "
        "the colo in about three hours. Priya starts restoring wiki1 onto a spare VM in parallel, in "
        "case the disk is gone.",
    ),
    (
        40,
        K.NOTE,
        True,
        True,
        "A remote power cycle did not bring the server back. A volunteer is on the way to the colo; "
        "meanwhile we are preparing to restore the wiki from backup. Edits are copied off the server "
        "as they happen, so none should be lost.",
    ),
    (
        95,
        K.NOTE,
        False,
        True,
        "Restore runbook gaps: it does not say PostgreSQL 8.3 is needed, the backup script needs S3 "
        "credentials that were only on xen1 and two laptops, and the backups were not encrypted.",
    ),
    (
        250,
        K.NOTE,
        False,
        True,
        "Tomas on site: xen1 was waiting at a filesystem-check prompt. Answered it; dom0 is up. "
        "The guests did not start by themselves.",
    ),
    (252, K.CHECK_RECOVERED, False, False, "Ping to xen1.foghorn.example.net answers again."),
    (
        270,
        K.NOTE,
        False,
        True,
        "Started wiki1, then blog1, by hand following “After a dom0 reboot”. PostgreSQL replayed its "
        "WAL; the newest edit is there. Spare-VM restore stopped.",
    ),
    (275, K.CHECK_RECOVERED, False, False, "https://atlas.example.org/ answers 200 again."),
    (276, K.CHECK_RECOVERED, False, False, "https://fieldnotes.example.org/ answers 200 again."),
    (
        300,
        K.BACKUP,
        False,
        True,
        "Encryption turned on for the wiki backups; S3 credentials moved out of the backup script into "
        "the backup target. First encrypted backup landed in s3://demo-wiki-backups/wiki1/duplicity/.",
    ),
    (
        310,
        K.NOTE,
        True,
        True,
        "Both sites are back. The server was waiting for a disk check at boot, and a volunteer "
        "answered it on site. No edits were lost.",
    ),
    (360, K.STATUS, True, True, "Resolved. The follow-up work is listed under action items."),
]

# (title, owner, done this many days after the outage (None: open), due in days from today)
ACTION_ITEMS = [
    ("Add the missing steps to “Restore the wiki from backup”", "ines", 2, None),
    ("Turn on backup encryption and take the S3 credentials out of the backup script", "wen", 1, None),
    ("Give two more volunteers PDU access in Switchboard", "ines", 5, None),
    ("Ship the wiki's WAL to a machine outside the closing colo", "wen", None, 10),
    ("Move wiki1 and blog1 off xen1 before the colo closes", "tomas", None, 14),
    ("Drill the wiki restore on a scratch VM and record how long it takes", "priya", None, 30),
]


POSTMORTEM = """\
## What happened

Late in the morning the server hosting Atlas Wiki and Field Notes stopped answering. Our monitoring
noticed within a minute and alerted the volunteer on call.

A remote power cycle did not bring it back. A volunteer went to the colo and found the server
waiting at a disk check on boot; once answered, it started, and both sites were back about four
hours after they went down. **No edits were lost.**

## What we change

- The restore instructions for the wiki now list every step, and we have practised them.
- Backups are encrypted, and the keys they need are no longer kept only on the server.
- More volunteers can power-cycle the servers remotely.
- Both sites move to another server before the colo closes.
"""


def seed_past_incident(s, user, machines, guests, people):
    """The dom0 outage, with its timeline and action items written once, with it."""
    colo_tz = ZoneInfo("America/Los_Angeles")
    started = datetime.combine(s.today - timedelta(days=40), time(10, 5), tzinfo=colo_tz)
    resolved = started + timedelta(minutes=TIMELINE[-1][0])
    incident, created = s.ensure(
        Incident,
        {"title": INCIDENT_TITLE},
        {
            "cause": Incident.Cause.OUTAGE,
            "created_by": user,
            "severity": Incident.Severity.CRITICAL,
            "status": Incident.Status.RESOLVED,
            "is_public": True,
            "summary": (
                "The server hosting Atlas Wiki and Field Notes stopped answering late in the morning. "
                "A remote power cycle did not help; a volunteer found it waiting at a disk check on boot "
                "and brought it back about four hours later. No edits were lost."
            ),
            "started_at": started,
            "resolved_at": resolved,
        },
        m2m={"machines": [machines["xen1"]], "guests": [guests["wiki1"], guests["blog1"]]},
    )
    if created:
        # Its public page, /status/incidents/<slug>/ (the slug comes with saving it public), shows the
        # postmortem the co-op published.
        incident.postmortem, incident.postmortem_published_at = POSTMORTEM, resolved + timedelta(days=3)
        incident.save(update_fields=["postmortem", "postmortem_published_at"])
    if not created:
        # The timeline and action items belong to the incident: a user may have pruned or ticked
        # them off since, so they are written once, with it.
        s.present[str(TimelineEntry._meta.verbose_name_plural)] += incident.timeline.count()
        s.present[str(ActionItem._meta.verbose_name_plural)] += incident.action_items.count()
        return
    for minutes, kind, is_public, by_user, body in TIMELINE:
        s.ensure(
            TimelineEntry,
            {"incident": incident, "kind": kind, "body": body},
            {"at": started + timedelta(minutes=minutes), "is_public": is_public, "author": user if by_user else None},
        )
    for title, owner, done_after_days, due_in_days in ACTION_ITEMS:
        s.ensure(
            ActionItem,
            {"incident": incident, "title": title},
            {
                "owner": people[owner],
                "done_at": resolved + timedelta(days=done_after_days) if done_after_days is not None else None,
                "due_on": s.in_days(due_in_days) if due_in_days is not None else None,
            },
        )
