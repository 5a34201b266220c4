"""Backup targets and whether they are real."""

from django.http import HttpRequest
from django.views.decorators.http import require_GET

from coop.access import member_required
from coop.pages import paginate, render_page
from coop.views import backups_failing

from ..models import BackupTarget


@require_GET
@member_required
def backup_list(request: HttpRequest):
    failing = request.GET.get("state") == "failing"
    targets = backups_failing() if failing else BackupTarget.objects.all()
    targets = targets.select_related("machine", "guest").order_by("name")
    context = {"page": paginate(request, targets), "failing": failing}
    return render_page(request, "hosts/backup_list.html", context, partial="hosts/_backup_rows.html")
