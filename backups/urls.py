"""Backup pages and the heartbeat URLs backup jobs call; included from switchboard/urls.py."""

from django.urls import include, path, re_path

from . import views

backup_urls = [
    path("", views.backup_list, name="backup_list"),
    path("<int:pk>/", views.backup_detail, name="backup_detail"),
    path("<int:pk>/check/", views.backup_check_now, name="backup_check_now"),
    path("<int:pk>/drills/", views.backup_drills, name="backup_drills"),
    path("<int:pk>/drills/new/", views.backup_drill_new, name="backup_drill_new"),
]

# What backup jobs call, healthchecks.io-style: no login, the trailing slash optional (curl-friendly).
PING = r"^(?P<heartbeat_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
heartbeat_urls = [
    re_path(PING + r"/?$", views.heartbeat_ping, name="heartbeat_ping"),
    re_path(PING + r"/start/?$", views.heartbeat_ping, {"kind": "start"}, name="heartbeat_ping_start"),
    re_path(PING + r"/fail/?$", views.heartbeat_ping, {"kind": "fail"}, name="heartbeat_ping_fail"),
]

urlpatterns = [
    path("backups/", include(backup_urls)),
    path("ping/", include(heartbeat_urls)),
]
