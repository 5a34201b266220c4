"""iCal feeds of on-call shifts (RFC 5545, through the icalendar library)."""

from datetime import timedelta

from django.conf import settings
from icalendar import Calendar, Event

FEED_DAYS = 90


def _calendar(name):
    calendar = Calendar()
    calendar.add("prodid", "-//Switchboard//On-call shifts//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(rota, person, start, end):
    event = Event()
    event.add("uid", f"rota-{rota.pk}-{person.pk}-{int(start.timestamp())}@switchboard")
    event.add("summary", f"On call: {rota.name} ({person.name})")
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", start)
    event.add("description", f"Switchboard alerts {person.name} for outages while this shift lasts.")
    event.add("url", settings.SITE_URL + "/")
    return event


def rota_calendar(rota, start):
    calendar = _calendar(f"On call: {rota.name}")
    for person, begins, ends in rota.shifts(start, start + timedelta(days=FEED_DAYS)):
        calendar.add_component(_event(rota, person, begins, ends))
    return calendar.to_ical()


def person_calendar(person, start):
    from .models import Rota

    calendar = _calendar(f"On call: {person.name}")
    rotas = Rota.objects.filter(members__person=person) | Rota.objects.filter(overrides__person=person)
    for rota in rotas.distinct():
        for who, begins, ends in rota.shifts(start, start + timedelta(days=FEED_DAYS)):
            if who.pk == person.pk:
                calendar.add_component(_event(rota, who, begins, ends))
    return calendar.to_ical()
