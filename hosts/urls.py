"""Inventory pages, included from coop/urls.py."""

from django.urls import include, path

from . import views

machine_urls = [
    path("", views.machine_list, name="machine_list"),
    path("<str:hostname>/", views.machine_detail, name="machine_detail"),
]

guest_urls = [
    path("", views.guest_list, name="guest_list"),
    path("<str:name>/", views.guest_detail, name="guest_detail"),
]

backup_urls = [
    path("", views.backup_list, name="backup_list"),
]

runbook_urls = [
    path("", views.runbook_list, name="runbook_list"),
    path("new/", views.runbook_new, name="runbook_new"),
    path("<int:pk>/", views.runbook_detail, name="runbook_detail"),
    path("<int:pk>/edit/", views.runbook_edit, name="runbook_edit"),
    path("<int:pk>/exercised/", views.runbook_exercised, name="runbook_exercised"),
    path("<int:pk>/versions/", views.runbook_versions, name="runbook_versions"),
    path("<int:pk>/versions/<int:version_id>/", views.runbook_version, name="runbook_version"),
]

urlpatterns = [
    path("machines/", include(machine_urls)),
    path("guests/", include(guest_urls)),
    path("backups/", include(backup_urls)),
    path("runbooks/", include(runbook_urls)),
]
