"""The whole incident as one Markdown document: the draft of its postmortem.

It is for members (it names owners, hosts and who did what): the public reads only what an
operator publishes from it (Incident.publish_postmortem).
"""

from django.utils import timezone

from .models import display_name

# Markdown characters that would turn a hostname or a note into formatting.
_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|"})


def _md(text):
    return (text or "").translate(_ESCAPE)


def _at(when):
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M %Z}"


def _duration(incident):
    end = incident.resolved_at or timezone.now()
    minutes = int((end - incident.started_at).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return " ".join(parts) + ("" if incident.resolved_at else " so far (still open)")


def postmortem_markdown(incident):
    """The incident's summary, impact, duration, timeline and action items, as Markdown."""
    lines = [f"# {_md(incident.title)}", ""]
    lines += [
        f"- **Status:** {incident.get_status_display()}",
        f"- **Severity:** {incident.get_severity_display()}",
        f"- **Started:** {_at(incident.started_at)}",
        f"- **Resolved:** {_at(incident.resolved_at) if incident.resolved_at else 'not yet'}",
        f"- **Duration:** {_duration(incident)}",
    ]
    if incident.lead:
        lines.append(f"- **Lead:** {_md(display_name(incident.lead))}")
    lines += ["", "## Summary", "", _md(incident.summary) or "_No summary written yet._", ""]

    lines += ["## Impact", ""]
    machines = list(incident.machines.order_by("hostname").values_list("hostname", flat=True))
    guests = list(incident.affected_guests().select_related("owner", "machine").order_by("name"))
    owners = list(incident.affected_owners().order_by("name").values_list("name", flat=True))
    lines.append(f"Machines: {', '.join(_md(m) for m in machines) or 'none listed'}.")
    lines.append("")
    lines.append(f"Guests affected: {len(guests)}.")
    lines.append("")
    for guest in guests:
        owner = f" (owner: {_md(guest.owner.name)})" if guest.owner else ""
        lines.append(f"- {_md(guest.name)} on {_md(guest.machine.hostname)}{owner}")
    if guests:
        lines.append("")
    lines.append(f"Owners affected: {', '.join(_md(o) for o in owners) or 'none recorded'}.")
    lines += ["", "## Timeline", ""]
    lines.append("Times in " + timezone.get_current_timezone_name() + ". _(public)_ marks what the public read.")
    lines.append("")
    for entry in incident.timeline.select_related("author").order_by("at", "pk").iterator(chunk_size=2000):
        who = f" — {_md(display_name(entry.author))}" if entry.author else ""
        public = " _(public)_" if entry.is_public and entry.author else ""
        body = _md(entry.body).replace("\n", "  \n  ")
        at = f"{timezone.localtime(entry.at):%Y-%m-%d %H:%M}"
        lines.append(f"- {at} **{entry.get_kind_display()}**{public}: {body}{who}")
    lines += ["", "## Action items", ""]
    items = list(incident.action_items.select_related("owner"))
    for item in items:
        box = "x" if item.is_done else " "
        lines.append(f"- [{box}] {_md(item.describe())}")
    if not items:
        lines.append("_None recorded._")
    lines.append("")
    return "\n".join(lines)


def public_draft(incident):
    """A start for the public postmortem: only what the public already read (summary, public updates)."""
    lines = ["## What happened", "", incident.summary or "_Write what happened, for the public._", ""]
    lines += [f"Down for about {_duration(incident)}.", "", "## How it unfolded", ""]
    public = incident.timeline.filter(is_public=True, author__isnull=False).order_by("at", "pk")
    for entry in public:
        lines.append(f"- {timezone.localtime(entry.at):%H:%M}: {entry.body.replace(chr(10), ' ')}")
    lines += ["", "## What we change", "", "- "]
    return "\n".join(lines)
