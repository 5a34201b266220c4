"""Every URL of Switchboard, grouped by object. Grep here to find a page's view."""

from django.contrib import admin
from django.urls import path

admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard"
admin.site.index_title = "The co-op's inventory, people and incidents"

urlpatterns = [
    path("admin/", admin.site.urls),
]
