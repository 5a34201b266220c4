"""Incident pages for members and the work operators do on them, included from coop/urls.py.
The public face is /status/ (front.views.public)."""

from django.urls import include, path

from . import views

incident_urls = [
    path("", views.incident_list, name="incident_list"),
    path("new/", views.incident_new, name="incident_new"),
    path("<int:pk>/", views.incident_detail, name="incident_detail"),
    path("<int:pk>/timeline/new/", views.incident_timeline_new, name="incident_timeline_new"),
    path("<int:pk>/postmortem.md", views.incident_postmortem_markdown, name="incident_postmortem_markdown"),
    path("<int:pk>/update/", views.incident_update, name="incident_update"),
    path("<int:pk>/status/", views.incident_status, name="incident_status"),
    path("<int:pk>/severity/", views.incident_severity, name="incident_severity"),
    path("<int:pk>/lead/", views.incident_lead, name="incident_lead"),
    path("<int:pk>/affected/", views.incident_affected, name="incident_affected"),
    path("<int:pk>/publish/", views.incident_publish, name="incident_publish"),
    path("<int:pk>/unpublish/", views.incident_unpublish, name="incident_unpublish"),
    path("<int:pk>/actions/", views.action_item_add, name="action_item_add"),
    path("<int:pk>/actions/<int:item_pk>/done/", views.action_item_done, name="action_item_done"),
    path("<int:pk>/resolve/", views.incident_resolve, name="incident_resolve"),
    path("<int:pk>/postmortem/", views.incident_postmortem, name="incident_postmortem"),
]

urlpatterns = [
    path("incidents/", include(incident_urls)),
]
