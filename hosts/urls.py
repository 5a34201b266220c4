"""Inventory pages, included from coop/urls.py."""

from django.urls import include, path

from .views import backups, inventory, runbooks

machine_urls = [
    path("", inventory.machine_list, name="machine_list"),
    path("<str:hostname>/", inventory.machine_detail, name="machine_detail"),
]

guest_urls = [
    path("", inventory.guest_list, name="guest_list"),
    path("<str:name>/", inventory.guest_detail, name="guest_detail"),
]

backup_urls = [
    path("", backups.backup_list, name="backup_list"),
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
    path("runbooks/", include(runbook_urls)),
]
