"""{% owners_panel incident %}: the affected owners, what each was sent, and the operators' "Notify
affected owners" button, on the incident page.

A template tag, so the incident page (a lower layer) shows it without importing this app.
"""

from django import template

from core.access import is_operator

from ..models import OwnerNotice
from ..owners import latest_public_update

register = template.Library()

OWNERS_SHOWN = 50
NOTICES_PER_OWNER = 5


@register.inclusion_tag("notices/_owners_panel.html", takes_context=True)
def owners_panel(context, incident):
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    owners = list(incident.affected_owners().order_by("name")[:OWNERS_SHOWN])
    notices = (
        OwnerNotice.objects.filter(incident=incident, organization__in=[owner.pk for owner in owners])
        .select_related("person")
        .order_by("-created_at", "-pk")[: OWNERS_SHOWN * NOTICES_PER_OWNER]
    )
    sent = {}
    for notice in notices:
        sent.setdefault(notice.organization_id, []).append(notice)
    update = latest_public_update(incident)
    if not incident.get_public_url():
        not_ready = "Put it on the status page first: owners get what the public reads and a link to it."
    elif update is None:
        not_ready = "Post a public update first: that is what owners get."
    else:
        not_ready = ""
    told = OwnerNotice.objects.filter(incident=incident, purpose=OwnerNotice.Purpose.UPDATE, entry=update)
    return {
        "incident": incident,
        "rows": [(owner, sent.get(owner.pk, [])[:NOTICES_PER_OWNER]) for owner in owners],
        "update": update,
        "told_at": told.order_by("created_at").values_list("created_at", flat=True).first() if update else None,
        "not_ready": not_ready,
        "can_act": user is not None and is_operator(user),
        "csrf_token": context.get("csrf_token"),
    }
