"""What goes into a break-glass bundle, and the one HTML file it becomes.

`build(passphrase, now)` reads the co-op (people and every channel with its verified date, sites
with their access procedure and who can get in, runbooks, machines, guests, addresses, DNS names,
outlets and how to cycle them by hand, contracts), renders it as one HTML fragment, seals it
(breakglass.sealing) and wraps the ciphertext in templates/breakglass/file.html: inline CSS and
script, no request to anywhere, readable at 360 px, with a filter box once opened.
"""

import time
from dataclasses import dataclass

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from coop.models import ContactMethod, Contract, Person, Site, SiteAccess
from hosts.models import Guest, Machine, Runbook
from power.models import PowerController, PowerOutlet

from .sealing import MIN_ITERATIONS, seal


@dataclass(frozen=True)
class Built:
    html: bytes
    summary: str
    seconds: float


def gather(now):
    """Everything the bundle shows, as querysets evaluated once each (prefetched: thousands of machines)."""
    today = timezone.localdate(now)
    people = list(
        Person.objects.select_related("organization")
        .prefetch_related(Prefetch("contact_methods", ContactMethod.objects.order_by("priority", "kind")))
        .order_by("name")
    )
    access = SiteAccess.objects.select_related("person").order_by("kind", "person__name")
    sites = list(Site.objects.prefetch_related(Prefetch("access", access)).order_by("name"))
    for site in sites:
        site.current_access = [grant for grant in site.access.all() if grant.is_current(today)]
    outlets = PowerOutlet.objects.select_related("controller").order_by("controller__name", "number")
    machines = list(
        Machine.objects.select_related("site", "owner")
        .prefetch_related("admins", "addresses", "dns_names", "contracts", Prefetch("outlets", outlets))
        .order_by("site__name", "hostname")
    )
    guests = list(
        Guest.objects.select_related("machine", "owner")
        .prefetch_related("contacts", "addresses", "dns_names")
        .order_by("name")
    )
    return {
        "now": now,
        "today": today,
        "people": people,
        "sites": sites,
        "runbooks": list(Runbook.objects.select_related("machine", "guest", "site").order_by("title")),
        "machines": machines,
        "guests": guests,
        "controllers": list(PowerController.objects.select_related("site").order_by("site__name", "name")),
        "contracts": list(Contract.objects.select_related("provider", "paid_by", "site").order_by("ends_on", "pk")),
    }


def summarise(data):
    return ", ".join(
        f"{len(data[key])} {key}" for key in ("people", "sites", "runbooks", "machines", "guests", "contracts")
    )


def build(passphrase, now=None, iterations=MIN_ITERATIONS):
    """The sealed bundle file for the co-op as it is `now`; raises ValueError without a passphrase."""
    started = time.monotonic()
    now = now or timezone.now()
    data = gather(now)
    contents = render_to_string("breakglass/contents.html", data)
    sealed = seal(contents.encode("utf-8"), passphrase, iterations)
    html = render_to_string(
        "breakglass/file.html",
        {"now": now, "sealed": sealed},
    )
    return Built(html.encode("utf-8"), summarise(data), time.monotonic() - started)
