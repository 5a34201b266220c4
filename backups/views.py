"""Backup targets and whether they are real: the list, a target's page with its history and
chart, "check now", restore drills, and the heartbeat URLs backup jobs call."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import throttle
from core.access import member_required, operator_required
from core.page_cache import cached_for_viewer
from core.pages import paginate, render_page

from .forms import RestoreDrillForm
from .models import BackupTarget, HeartbeatPing, RestoreDrill
from .tasks import queue_check

HISTORY_ROWS = 30
CHART_POINTS = 60
CHART_WIDTH, CHART_HEIGHT = 300, 60


def _get_target(pk):
    """The backup target with this id and what it protects, or 404."""
    return get_object_or_404(BackupTarget.objects.select_related("machine", "guest", "incident"), pk=pk)


@require_GET
@member_required
@cached_for_viewer
def backup_list(request: HttpRequest):
    failing = request.GET.get("state") == "failing"
    targets = BackupTarget.objects.failing() if failing else BackupTarget.objects.all()
    targets = targets.select_related("machine", "guest").order_by("name")
    context = {"page": paginate(request, targets), "failing": failing}
    return render_page(request, "backups/backup_list.html", context, partial="backups/_backup_rows.html")


def _live_context(target):
    checks = list(target.checks.all()[:CHART_POINTS])
    return {
        "target": target,
        "checks": checks[:HISTORY_ROWS],
        "chart": backup_chart(checks),
        "pings": target.pings.all()[:10] if target.kind == BackupTarget.Kind.HEARTBEAT else [],
    }


@require_GET
@member_required
@cached_for_viewer
def backup_detail(request: HttpRequest, pk):
    target = _get_target(pk)
    context = {
        **_live_context(target),
        "drills": target.drills.select_related("performed_by")[:5],
        "drill_count": target.drills.count(),
        "ping_url": request.build_absolute_uri(f"/ping/{target.heartbeat_id}"),
    }
    # htmx polls #backup-live while a check runs; the partial stops polling once it is done.
    return render_page(request, "backups/backup_detail.html", context, partial="backups/_backup_live.html")


@require_POST
@member_required
def backup_check_now(request: HttpRequest, pk):
    target = _get_target(pk)
    with transaction.atomic():
        target.request_check()
        queue_check(target.pk)
    if request.htmx:
        return render(request, "backups/_backup_live.html", _live_context(target))
    messages.info(request, f"Checking {target.name} now.")
    return redirect(target)


@require_GET
@member_required
def backup_drills(request: HttpRequest, pk):
    target = _get_target(pk)
    context = {
        "target": target,
        "page": paginate(request, target.drills.select_related("performed_by")),
        "form": RestoreDrillForm(initial={"started_at": timezone.localtime().replace(second=0, microsecond=0)}),
    }
    return render(request, "backups/backup_drills.html", context)


@require_POST
@operator_required
def backup_drill_new(request: HttpRequest, pk):
    target = _get_target(pk)
    form = RestoreDrillForm(request.POST, instance=RestoreDrill(target=target, performed_by=request.user))
    if not form.is_valid():
        context = {"target": target, "page": paginate(request, target.drills.all()), "form": form}
        return render(request, "backups/backup_drills.html", context, status=400)
    form.instance.record()
    messages.success(request, "Restore drill recorded.")
    return redirect("backup_drills", pk=target.pk)


def backup_chart(checks):
    """Two SVG polylines (size and age of the newest backup, oldest check on the left), each scaled to its own max.

    Returns {"size": "x,y x,y ...", "age": "...", "max_size": int, "max_age": timedelta} or None.
    """
    points = [c for c in reversed(checks) if c.size_bytes is not None or c.newest_age is not None]
    if len(points) < 2:
        return None
    max_size = max((c.size_bytes or 0 for c in points), default=0) or 1
    max_age = max((c.newest_age.total_seconds() for c in points if c.newest_age), default=0) or 1
    step = CHART_WIDTH / (len(points) - 1)

    def line(value, top):
        return " ".join(
            f"{i * step:.1f},{CHART_HEIGHT - value(c) / top * (CHART_HEIGHT - 2):.1f}" for i, c in enumerate(points)
        )

    return {
        "size": line(lambda c: c.size_bytes or 0, max_size),
        "age": line(lambda c: c.newest_age.total_seconds() if c.newest_age else 0, max_age),
        "max_size": max_size,
        "max_age_hours": max_age / 3600,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "first": points[0].checked_at,
        "last": points[-1].checked_at,
    }


# --- Heartbeat URLs -------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def heartbeat_ping(request: HttpRequest, heartbeat_id, kind=HeartbeatPing.Kind.SUCCESS):
    """`/ping/<uuid>` (success), `/ping/<uuid>/start`, `/ping/<uuid>/fail`: no login, like healthchecks.io.

    HEAD answers without counting (link checkers and previewers send it), and so does GET on a
    target that counts POST only. A body (the job's log) is kept up to HeartbeatPing.BODY_LIMIT
    bytes, cut beyond that, and refused with 413 over PING_BODY_MAX_BYTES. Too many pings a minute
    for one target or from one client get 429 and are counted nowhere.
    """
    client = throttle.client_ip(request)
    if not throttle.allow("ping-client", throttle.client_key(client), settings.PING_CLIENT_LIMIT_PER_MINUTE):
        return _too_many("from your address")
    target = get_object_or_404(BackupTarget, heartbeat_id=heartbeat_id, kind=BackupTarget.Kind.HEARTBEAT)
    if request.method == "HEAD":
        return HttpResponse(content_type="text/plain")
    if target.ping_post_only and request.method != "POST":
        return HttpResponseNotAllowed(
            ["POST"], "This heartbeat counts POST pings only (curl -fsS -X POST <url>). Nothing was recorded.\n"
        )
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > settings.PING_BODY_MAX_BYTES:
        return _too_large()
    body = request.read(settings.PING_BODY_MAX_BYTES + 1) if request.method == "POST" else b""
    if len(body) > settings.PING_BODY_MAX_BYTES:
        return _too_large()
    if not throttle.allow("ping-target", target.pk, settings.PING_TARGET_LIMIT_PER_MINUTE):
        return _too_many("for this heartbeat")
    HeartbeatPing.receive(target, kind, body=body, remote_addr=client, user_agent=request.headers.get("user-agent", ""))
    return HttpResponse("OK\n", content_type="text/plain")


def _too_many(whose):
    response = HttpResponse(
        f"Too many pings {whose} this minute: this one was not recorded. Try again in a minute.\n",
        status=429,
        content_type="text/plain",
    )
    response["Retry-After"] = "60"
    return response


def _too_large():
    limit = settings.PING_BODY_MAX_BYTES
    return HttpResponse(
        f"The body is over {limit:,} bytes: this ping was not recorded. Send the end of the log instead (tail -c).\n",
        status=413,
        content_type="text/plain",
    )
