"""The owner-notice tests' co-op: xen1 in Harbor Colo runs ten guests of three owners, and goes down.

- Wiki Project (4 guests): ops@wiki.example.org, and Wen, whose contacts are the same address
  spelled differently and her own wen@wiki.example.org;
- Mail Collective (3 guests): mail-team@mail.example.org, and Max, whose phone takes push messages
  through a local webhook (json://), and whose phone number takes nothing;
- Blog Club (3 guests, one serving the site "Bea's Blog"): no address of its own; Bea's email.
And a bystander, Quiet Co., whose guest lives on another host: never told anything.
Email goes to a real SMTP server on 127.0.0.1, the push to a real HTTP peer (tests/conftest.py).
"""

import re

import pytest
from django.contrib.messages import get_messages

from coop.models import ContactMethod
from hosts.models import HostedService
from incidents import policy
from incidents.models import Incident, TimelineEntry

from ..factories import make_guest, make_machine, make_org, make_person, make_site

SITE_URL = "https://switchboard.example.org"
OWNER_ADDRESSES = [
    "ops@wiki.example.org",
    "wen@wiki.example.org",
    "mail-team@mail.example.org",
    "bea@blog.example.org",
]
GUESTS = {
    "Wiki Project": ["wiki1.example.org", "wiki2.example.org", "wiki3.example.org", "wiki4.example.org"],
    "Mail Collective": ["mx1.example.org", "mx2.example.org", "mx3.example.org"],
    "Blog Club": ["blog1.example.org", "blog2.example.org", "blog3.example.org"],
}


@pytest.fixture
def owners(db, webhook):
    harbor = make_site(name="Harbor Colo", slug="harbor")
    xen1 = make_machine(hostname="xen1.harbor.example.org", site=harbor)
    made = {}
    for name, email in (
        ("Wiki Project", "ops@wiki.example.org"),
        ("Mail Collective", "mail-team@mail.example.org"),
        ("Blog Club", ""),
    ):
        made[name] = make_org(name=name, email=email)
        for guest in GUESTS[name]:
            make_guest(name=guest, machine=xen1, owner=made[name])
    wen = make_person(name="Wen Example", organization=made["Wiki Project"])
    ContactMethod.objects.create(person=wen, kind="email", value="Ops@Wiki.example.org")
    ContactMethod.objects.create(person=wen, kind="email", value="wen@wiki.example.org", priority=2)
    max_ = make_person(name="Max Example", organization=made["Mail Collective"])
    ContactMethod.objects.create(person=max_, kind="other", value="Max's phone (push)", alert_url=webhook.url("max"))
    ContactMethod.objects.create(person=max_, kind="phone", value="+1 555 0199", priority=2)
    bea = make_person(name="Bea Example", organization=made["Blog Club"])
    ContactMethod.objects.create(person=bea, kind="email", value="bea@blog.example.org")
    HostedService.objects.create(guest=made["Blog Club"].guests.get(name="blog1.example.org"), name="Bea's Blog")
    quiet = make_org(name="Quiet Co.", email="hello@quiet.example.org")
    make_guest(name="quiet.example.org", owner=quiet)
    made["xen1"] = xen1
    return made


@pytest.fixture
def outage(owners):
    """xen1 stopped answering: the checker opened one incident for it, titled by Switchboard for members."""
    return policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(owners["xen1"]),
        title="xen1.harbor.example.org is down",
        note="TCP is down: connection refused",
        kind=TimelineEntry.Kind.CHECK_FAILED,
        machines=[owners["xen1"]],
    )[0]


@pytest.fixture
def published(outage, operator):
    """The operator put it on the status page under a public title and posted a public update."""
    outage.publish(by=operator, title="Hosting outage in Harbor Colo")
    outage.summary = "A power fault in one rack; the machines in it are down."
    outage.save(update_fields=["summary"])
    outage.post_update("Power is off in rack 4; the colo's technician is on the way.", by=operator, public=True)
    return outage


def press(client, incident, capture, execute=True):
    """The operator presses "Notify affected owners"; returns the response and the messages it left."""
    client.cookies.pop("messages", None)  # what an earlier press said (the incident page would have shown it)
    with capture(execute=execute) as callbacks:
        response = client.post(f"/incidents/{incident.pk}/notify-owners/")
    said = [str(message) for message in get_messages(response.wsgi_request)]
    return response, said, callbacks


def link_in(message, kind):
    """The path of the subscribe or unsubscribe link in an email, without SITE_URL."""
    found = re.search(rf"{re.escape(SITE_URL)}(/notices/{kind}/[^/\s]+/)", message["body"])
    assert found, f"no {kind} link in:\n{message['body']}"
    return found.group(1)
