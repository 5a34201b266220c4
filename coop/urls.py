"""The co-op directory's own pages, included from switchboard/urls.py: the confirm link of a contact method."""

from django.urls import include, path

from . import verification_views

contact_urls = [
    path("confirm/<str:token>/", verification_views.confirm_contact, name="contact_confirm"),
]

urlpatterns = [
    path("contacts/", include(contact_urls)),
]
