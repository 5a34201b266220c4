"""Owner-notice URLs, included from switchboard/urls.py: the operators' button on an incident, and the
signed subscription links in owner emails."""

from django.urls import include, path

from . import views

notice_urls = [
    path("subscribe/<str:token>/", views.subscribe, name="owner_subscribe"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="owner_unsubscribe"),
]

urlpatterns = [
    path("incidents/<int:pk>/notify-owners/", views.notify_owners, name="incident_notify_owners"),
    path("notices/", include(notice_urls)),
]
