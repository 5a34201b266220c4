"""The pages that bring every app together, included from switchboard/urls.py: dashboard, search,
the public status page, machines, guests, sites, people and organisations."""

from django.urls import include, path

from .views import directory, inventory, overview

machine_urls = [
    path("", inventory.machine_list, name="machine_list"),
    path("<str:hostname>/", inventory.machine_detail, name="machine_detail"),
]

guest_urls = [
    path("", inventory.guest_list, name="guest_list"),
    path("<str:name>/", inventory.guest_detail, name="guest_detail"),
]

site_urls = [
    path("", directory.site_list, name="site_list"),
    path("<slug:slug>/", directory.site_detail, name="site_detail"),
]

person_urls = [
    path("", directory.person_list, name="person_list"),
    path("<int:pk>/", directory.person_detail, name="person_detail"),
]

organization_urls = [
    path("", directory.organization_list, name="organization_list"),
    path("<slug:slug>/", directory.organization_detail, name="organization_detail"),
]

urlpatterns = [
    path("", overview.dashboard, name="dashboard"),
    path("search/", overview.search, name="search"),
    path("status/", overview.status, name="status"),
    path("machines/", include(machine_urls)),
    path("guests/", include(guest_urls)),
    path("sites/", include(site_urls)),
    path("people/", include(person_urls)),
    path("organizations/", include(organization_urls)),
]
