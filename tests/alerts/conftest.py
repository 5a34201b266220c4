"""The alert tests' cast: Ana and Bo take turns on the Core rota, Cy has a key to the colo; an
escalation policy alerts whoever is on call, waits ten minutes, then alerts Bo. Their email goes
to a real SMTP server on 127.0.0.1, Ana's phone gets push messages through a local webhook (the
`mailbox`, `webhook` and `sends_run_at_once` fixtures of tests/conftest.py)."""

from datetime import date, time, timedelta

import pytest

from alerts.models import EscalationPolicy, EscalationStep, Rota, RotaMember
from coop.models import ContactMethod, SiteAccess

from ..factories import make_machine, make_person, make_site


@pytest.fixture
def harbor(db):
    return make_site(name="Harbor Colo", slug="harbor")


@pytest.fixture
def xen1(harbor):
    return make_machine(hostname="xen1.harbor.example.org", site=harbor)


@pytest.fixture
def ana(webhook):
    person = make_person(name="Ana Example", is_volunteer=True)
    ContactMethod.objects.create(person=person, kind="email", value="ana@example.org")
    ContactMethod.objects.create(
        person=person, kind="other", value="Ana's phone (push)", alert_url=webhook.url("ana"), priority=2
    )
    return person


@pytest.fixture
def bo():
    person = make_person(name="Bo Example", is_volunteer=True)
    ContactMethod.objects.create(person=person, kind="email", value="bo@example.org")
    ContactMethod.objects.create(person=person, kind="phone", value="+1 555 0142", priority=2)  # cannot take alerts
    return person


@pytest.fixture
def cy(harbor):
    person = make_person(name="Cy Example", is_volunteer=True)
    ContactMethod.objects.create(person=person, kind="email", value="cy@example.org")
    SiteAccess.objects.create(person=person, site=harbor, kind=SiteAccess.Kind.KEY)
    return person


@pytest.fixture
def core_rota(ana, bo):
    """Ana's week first, then Bo's: handing over Mondays at 09:00 UTC, from Monday 2026-11-30."""
    rota = Rota.objects.create(
        name="Core", starts_on=date(2026, 11, 30), handoff_time=time(9, 0), shift_length=timedelta(days=7)
    )
    RotaMember.objects.create(rota=rota, person=ana, position=1)
    RotaMember.objects.create(rota=rota, person=bo, position=2)
    return rota


@pytest.fixture
def outage_policy(core_rota, bo):
    policy = EscalationPolicy.objects.create(name="Outages", is_default=True, repeat=0)
    EscalationStep.objects.create(policy=policy, position=1, notify="rota", rota=core_rota, wait_minutes=10)
    EscalationStep.objects.create(policy=policy, position=2, notify="person", person=bo, wait_minutes=10)
    return policy
