from django.urls import path

from . import views

urlpatterns = [
    path("alerts/ack/<str:token>/", views.acknowledge_by_link, name="alert_ack"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_here, name="alert_acknowledge"),
    path("alerts/<int:pk>/site-access/", views.ask_for_site_access, name="alert_site_access"),
    path("alerts/calendar/<str:token>.ics", views.calendar_feed, name="oncall_calendar"),
    path("alerts/my-calendar/", views.my_calendar, name="my_oncall_calendar"),
]
