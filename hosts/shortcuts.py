"""Fetching a machine or guest named in a URL, for every app's pages."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from coop.models import Person
from core.pages import clean_query

from .models import Guest, Machine


def get_machine_or_404(hostname):
    """The machine called `hostname` (any case, a trailing dot allowed) with its site, owner and monitor verdict."""
    machines = Machine.objects.with_monitor_state().select_related("site", "owner")
    return get_object_or_404(machines, hostname=clean_query(hostname).rstrip(".").lower())


def get_guest_or_404(name):
    """The guest called `name` with its host, owner, contacts and both monitor verdicts."""
    guests = (
        Guest.objects.with_monitor_state()
        .select_related("machine__site", "owner")
        .prefetch_related("machine__monitors", Prefetch("contacts", queryset=Person.objects.to_call()))
    )
    return get_object_or_404(guests, name=clean_query(name).rstrip(".").lower())
