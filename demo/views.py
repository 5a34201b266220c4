"""The demo's own page: the mailbox the demo's email lands in (demo/mailbox.py).

Wired in switchboard/urls.py only when DEBUG is on (`make run`): a real installation sends real
mail and has no such page.
"""

from django.conf import settings
from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.access import member_required
from core.pages import render_page

from .mailbox import mail_dir, read_mailbox

SHOWN = 50


@never_cache
@require_GET
@member_required
def mailbox(request: HttpRequest):
    """Every message the demo sent, newest first: alerts with their acknowledge links. Members only (addresses)."""
    messages, total = read_mailbox(mail_dir(), limit=SHOWN)
    context = {"mails": messages, "total": total, "hidden": total - len(messages), "folder": _shown(mail_dir())}
    # While it is empty, htmx polls it so the first alert shows up by itself; after that, "Refresh".
    return render_page(request, "demo/mailbox.html", context, partial="demo/_mailbox.html")


def _shown(folder):
    """var/demo-mail/ as a newcomer types it from the project folder; the full path if it is elsewhere."""
    try:
        return f"{folder.relative_to(settings.BASE_DIR)}/"
    except ValueError:
        return f"{folder}/"
