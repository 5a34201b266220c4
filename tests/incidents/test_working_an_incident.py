"""An operator works the dom0 outage from the incident page, never opening the admin: every change
is on the timeline, by them, and the page they come back to shows it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hosts.models import Guest
from incidents.models import ActionItem, Incident, TimelineEntry

from ..factories import make_machine

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def _page(client, incident, **query):
    response = client.get(f"/incidents/{incident.pk}/", query)
    assert response.status_code == 200
    return response.content.decode()


def _post(client, incident, action, data=None, follow=True):
    return client.post(f"/incidents/{incident.pk}/{action}/", data or {}, follow=follow)


def test_an_operator_opens_an_incident_from_the_machine_page(operator_client, scene):
    scene.incident.resolve(note="Earlier outage over.")
    machine_page = operator_client.get(f"/machines/{scene.machine.hostname}/").content.decode()
    assert f"/incidents/new/?machine={scene.machine.hostname}" in machine_page

    form = operator_client.get("/incidents/new/", {"machine": scene.machine.hostname}).content.decode()
    assert f'value="{scene.machine.hostname}"' in form  # prefilled with the machine
    assert f"{scene.machine.hostname} is down" in form  # and a title to start from

    response = operator_client.post(
        "/incidents/new/",
        {
            "title": "dom0 does not boot",
            "severity": "critical",
            "update": "PSU light off",
            "affected": scene.machine.hostname,
        },
    )
    incident = Incident.objects.get(title="dom0 does not boot")
    assert response.status_code == 302 and response.url == f"/incidents/{incident.pk}/"
    assert list(incident.machines.all()) == [scene.machine]
    assert incident.severity == "critical" and incident.created_by.username == "otto"
    notes = list(incident.timeline.values_list("body", "author__username"))
    assert ("PSU light off", "otto") in notes


def test_opening_a_second_incident_for_a_machine_points_to_the_one_already_open(operator_client, scene):
    html = operator_client.get("/incidents/new/", {"machine": scene.machine.hostname}).content.decode()
    assert "Already open" in html and f"/incidents/{scene.incident.pk}/#update" in html


def test_a_private_update_appears_on_the_page_at_once_for_members_only(operator_client, scene):
    response = _post(operator_client, scene.incident, "update", {"body": "Swapping the PSU now."})
    html = response.content.decode()
    assert "Swapping the PSU now." in html and "Posted for members." in html
    entry = scene.incident.timeline.get(body="Swapping the PSU now.")
    assert entry.author.username == "otto" and not entry.is_public and entry.kind == TimelineEntry.Kind.NOTE
    assert response.redirect_chain[-1][0].endswith(f"#entry-{entry.pk}")


def test_a_public_update_needs_the_incident_on_the_status_page_first(operator_client, scene):
    scene.incident.unpublish(by=None)
    response = _post(operator_client, scene.incident, "update", {"body": "We are on it.", "public": "on"})
    assert response.status_code == 400
    assert "give it a public title first" in response.content.decode()
    assert not scene.incident.timeline.filter(body="We are on it.").exists()

    _post(operator_client, scene.incident, "publish", {"title": "The wiki is down"})
    _post(operator_client, scene.incident, "update", {"body": "We are on it.", "public": "on"})
    scene.incident.refresh_from_db()
    assert scene.incident.is_public and scene.incident.get_public_url().startswith("/status/incidents/")
    assert scene.incident.timeline.get(body="We are on it.").is_public


def test_a_public_update_naming_a_host_or_an_address_asks_before_it_goes_out(operator_client, scene):
    scene.incident.publish(by=None, title="The wiki is down")
    words = f"dom0 rebooted, see {scene.machine.hostname} and mail noor@example.org"
    response = _post(operator_client, scene.incident, "update", {"body": words, "public": "on"})
    html = response.content.decode()
    assert response.status_code == 400
    assert scene.machine.hostname in html and "noor@example.org" in html and "Yes, publish" in html
    assert words in html  # what they typed is kept
    assert not scene.incident.timeline.filter(body=words).exists()

    _post(operator_client, scene.incident, "update", {"body": words, "public": "on", "names_are_public": "on"})
    assert scene.incident.timeline.get(body=words).is_public


def test_status_changes_are_recorded_and_a_reopening_too(operator_client, scene):
    incident = scene.incident
    _post(operator_client, incident, "status", {"status": "identified", "note": "Dead PSU"})
    _post(operator_client, incident, "status", {"status": "monitoring"})
    _post(operator_client, incident, "status", {"status": "resolved"})
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at

    html = _post(
        operator_client, incident, "status", {"status": "investigating", "note": "Down again"}
    ).content.decode()
    incident.refresh_from_db()
    assert incident.status == "investigating" and incident.resolved_at is None
    assert "Reopened" in html
    bodies = list(incident.timeline.filter(kind="status", author__username="otto").values_list("body", flat=True))
    assert bodies[-4:] == [
        "Status: Investigating → Identified. Dead PSU",
        "Status: Identified → Monitoring a fix.",
        "Resolved.",
        "Reopened: investigating. Down again",
    ]


def test_severity_lead_and_affected_are_changed_from_the_page(operator_client, scene):
    incident = scene.incident
    _post(operator_client, incident, "severity", {"severity": "critical"})
    html = _post(operator_client, incident, "lead").content.decode()
    assert "You are leading this incident" in html and "Lead: <strong>Otto" in html
    mail = Guest.objects.create(name="mail.example.org", machine=make_machine(hostname="dom1.harbor.example.org"))
    _post(operator_client, incident, "affected", {"names": "mail.example.org, dom1.harbor.example.org"})
    incident.refresh_from_db()
    assert incident.severity == "critical" and incident.lead.username == "otto"
    assert mail in incident.guests.all() and mail.machine in incident.machines.all()
    bodies = set(incident.timeline.values_list("body", flat=True))
    assert {
        "Severity: Major: partly down → Critical: down for everyone.",
        "Affected: added dom1.harbor.example.org, guest mail.example.org.",
    } <= bodies


def test_action_items_are_added_and_ticked_with_an_owner_and_a_due_date(operator_client, scene):
    incident = scene.incident
    due = timezone.localdate() + timedelta(days=7)
    _post(operator_client, incident, "actions", {"title": "Buy a spare PSU", "owner": scene.noor.pk, "due_on": due})
    item = ActionItem.objects.get(title="Buy a spare PSU")
    assert item.owner == scene.noor and item.due_on == due
    html = _post(operator_client, incident, f"actions/{item.pk}/done").content.decode()
    item.refresh_from_db()
    assert item.is_done and "<s>Buy a spare PSU</s>" in html
    bodies = list(incident.timeline.filter(kind="action_item").values_list("body", flat=True))
    assert bodies == [f"Still to do: Buy a spare PSU (Noor Example, due {due}).", "Done: Buy a spare PSU."]


def test_resolving_with_a_summary_keeps_the_summary_and_names_nobody_in_public_text(operator_client, scene):
    incident = scene.incident
    incident.publish(by=None, title="The wiki is down")
    _post(operator_client, incident, "resolve", {"summary": "A power supply failed; replaced."})
    incident.refresh_from_db()
    assert not incident.is_open and incident.summary == "A power supply failed; replaced."
    resolved = incident.timeline.filter(kind="status").latest("at", "pk")
    assert resolved.is_public and resolved.body == "Resolved." and resolved.author.username == "otto"


def test_a_member_reads_the_page_but_sees_no_forms(member_client, scene):
    html = _page(member_client, scene.incident)
    assert "Post an update" not in html and "Set status" not in html
    assert member_client.post(f"/incidents/{scene.incident.pk}/update/", {"body": "x"}).status_code == 403
