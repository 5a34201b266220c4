"""Runbook pages, included from switchboard/urls.py."""

from django.urls import include, path

from . import views

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
    path("runbooks/", include(runbook_urls)),
]
