"""{% alert_panel incident %}: the alert's state and the operators' buttons, on the incident page.

A template tag, so the incident page (a lower layer) shows it without importing this app.
"""

from django import template

from core.access import is_operator

from ..models import Alert

register = template.Library()


@register.inclusion_tag("alerts/_panel.html", takes_context=True)
def alert_panel(context, incident):
    alert = Alert.objects.filter(incident=incident).select_related("acknowledged_by").first()
    notifications = alert.notifications.select_related("person").order_by("-created_at", "-pk")[:10] if alert else []
    request = context.get("request")
    return {
        "alert": alert,
        "notifications": notifications,
        "can_act": request is not None and is_operator(request.user),
        "csrf_token": context.get("csrf_token"),
    }
