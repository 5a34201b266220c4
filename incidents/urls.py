"""Incident pages for members, included from coop/urls.py. The public face is /status/."""

from django.urls import include, path

from . import views

incident_urls = [
    path("", views.incident_list, name="incident_list"),
    path("<int:pk>/", views.incident_detail, name="incident_detail"),
    path("<int:pk>/resolve/", views.incident_resolve, name="incident_resolve"),
]

urlpatterns = [
    path("incidents/", include(incident_urls)),
]
