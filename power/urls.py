"""Power pages, under the machine's address; included from switchboard/urls.py."""

from django.urls import include, path

from . import views

machine_power_urls = [
    path("", views.power_request, name="power_request"),
    path("<int:pk>/", views.power_action, name="power_action"),
    path("<int:pk>/done/", views.power_action_done, name="power_action_done"),
    path("<int:pk>/cancel/", views.power_action_cancel, name="power_action_cancel"),
    path("controllers/<int:controller_pk>/password/", views.power_secret_reveal, name="power_secret_reveal"),
]

urlpatterns = [
    path("machines/<str:hostname>/power/", include(machine_power_urls)),
]
