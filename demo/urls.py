"""The demo's pages, included from switchboard/urls.py only when DEBUG is on (`make run`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("demo/mailbox/", views.mailbox, name="demo_mailbox"),
]
