"""Inventory pages, included from coop/urls.py."""

from django.urls import include, path, re_path

from .views import backups, inventory, power, runbooks

machine_urls = [
    path("", inventory.machine_list, name="machine_list"),
    path("<str:hostname>/", inventory.machine_detail, name="machine_detail"),
    path("<str:hostname>/power/", power.power_request, name="power_request"),
    path("<str:hostname>/power/<int:pk>/", power.power_action, name="power_action"),
    path("<str:hostname>/power/<int:pk>/done/", power.power_action_done, name="power_action_done"),
    path("<str:hostname>/power/<int:pk>/cancel/", power.power_action_cancel, name="power_action_cancel"),
    path(
        "<str:hostname>/power/controllers/<int:controller_pk>/password/",
        power.power_secret_reveal,
        name="power_secret_reveal",
    ),
]

guest_urls = [
    path("", inventory.guest_list, name="guest_list"),
    path("<str:name>/", inventory.guest_detail, name="guest_detail"),
]

backup_urls = [
    path("", backups.backup_list, name="backup_list"),
    path("<int:pk>/", backups.backup_detail, name="backup_detail"),
    path("<int:pk>/check/", backups.backup_check_now, name="backup_check_now"),
    path("<int:pk>/drills/", backups.backup_drills, name="backup_drills"),
    path("<int:pk>/drills/new/", backups.backup_drill_new, name="backup_drill_new"),
]

# What backup jobs call, healthchecks.io-style: no login, the trailing slash optional (curl-friendly).
PING = r"^(?P<heartbeat_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
heartbeat_urls = [
    re_path(PING + r"/?$", backups.heartbeat_ping, name="heartbeat_ping"),
    re_path(PING + r"/start/?$", backups.heartbeat_ping, {"kind": "start"}, name="heartbeat_ping_start"),
    re_path(PING + r"/fail/?$", backups.heartbeat_ping, {"kind": "fail"}, name="heartbeat_ping_fail"),
]

runbook_urls = [
    path("", runbooks.runbook_list, name="runbook_list"),
    path("new/", runbooks.runbook_new, name="runbook_new"),
    path("<int:pk>/", runbooks.runbook_detail, name="runbook_detail"),
    path("<int:pk>/edit/", runbooks.runbook_edit, name="runbook_edit"),
    path("<int:pk>/exercised/", runbooks.runbook_exercised, name="runbook_exercised"),
    path("<int:pk>/versions/", runbooks.runbook_versions, name="runbook_versions"),
    path("<int:pk>/versions/<int:version_id>/", runbooks.runbook_version, name="runbook_version"),
]

urlpatterns = [
    path("machines/", include(machine_urls)),
    path("guests/", include(guest_urls)),
    path("backups/", include(backup_urls)),
    path("ping/", include(heartbeat_urls)),
    path("runbooks/", include(runbook_urls)),
]
