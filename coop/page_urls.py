"""The co-op app's pages, included from coop/urls.py (the root URLconf): dashboard,
search, the public status page, sites, people and organisations."""

from django.urls import include, path

from . import views

site_urls = [
    path("", views.site_list, name="site_list"),
    path("<slug:slug>/", views.site_detail, name="site_detail"),
]

person_urls = [
    path("", views.person_list, name="person_list"),
    path("<int:pk>/", views.person_detail, name="person_detail"),
]

organization_urls = [
    path("", views.organization_list, name="organization_list"),
    path("<slug:slug>/", views.organization_detail, name="organization_detail"),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", views.search, name="search"),
    path("status/", views.status, name="status"),
    path("sites/", include(site_urls)),
    path("people/", include(person_urls)),
    path("organizations/", include(organization_urls)),
]
