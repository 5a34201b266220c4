"""The demo co-op: a colo closing in a few weeks, a Xen host that died and took a wiki and a
blog with it, and a Windows host at a provider whose only admin cannot be reached and whose
hosting contract runs out soon. Modelled on the two outage stories; every name, number and
address is invented (example.org/.net, +1 555 01xx, documentation IP ranges).

`seed()` creates only what is missing and never changes a row that is already there, so it is
safe on a database with real data and on a demo someone has been editing. Dates are relative
to the moment it runs. One module per noun (people, sites, inventory, power, backups,
contracts, runbooks, incidents, oncall); `seeder` holds the Seeder they all write through.
"""

from django.db import transaction
from django.utils import timezone

from .backups import S3_ENDPOINT, seed_backups
from .contracts import seed_contracts
from .incidents import INCIDENT_TITLE, seed_past_incident
from .inventory import seed_machines, seed_monitors, seed_virtuozzo_containers, seed_xen_guests
from .oncall import POLICY_NAME, ROTA_NAME, seed_oncall
from .people import DEMO_EMAIL, DEMO_PASSWORD, DEMO_USERNAME, seed_demo_user, seed_organizations, seed_people
from .power import BMC_PORT, PDU_PORT, SIMULATOR_HOST, seed_power
from .runbooks import seed_runbooks
from .seeder import CHANGE_REASON, Seeder
from .sites import seed_site_access, seed_sites

# What callers use as `demo.X` (seed_demo, demo_s3, the tests).
__all__ = [
    "BMC_PORT",
    "CHANGE_REASON",
    "DEMO_EMAIL",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "INCIDENT_TITLE",
    "PDU_PORT",
    "POLICY_NAME",
    "ROTA_NAME",
    "S3_ENDPOINT",
    "SIMULATOR_HOST",
    "Seeder",
    "seed",
]


def seed(now=None):
    """Create whatever part of the demo co-op is missing, in one transaction; return the Seeder."""
    s = Seeder(now or timezone.now())
    with transaction.atomic():
        user = seed_demo_user(s)
        sites = seed_sites(s)
        orgs = seed_organizations(s)
        people = seed_people(s, orgs, user)
        seed_site_access(s, sites, people)
        machines = seed_machines(s, sites, orgs, people)
        guests = seed_xen_guests(s, machines, orgs, people) | seed_virtuozzo_containers(s, machines, orgs, people)
        seed_power(s, sites, machines)
        seed_backups(s, guests, machines)
        seed_contracts(s, sites, orgs, machines)
        seed_runbooks(s, sites, machines, guests)
        seed_monitors(s, machines, guests)
        seed_oncall(s, user, people)
        seed_past_incident(s, user, machines, guests, people)
    return s
