"""After the outage: the whole incident as Markdown for the postmortem, the postmortem published,
and the incident list filtered down to what a volunteer is looking for."""

import pytest

from incidents import policy
from incidents.models import Incident

from ..factories import make_machine

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def test_one_click_exports_the_whole_incident_as_markdown(member_client, operator, scene):
    incident = scene.incident
    incident.take_lead(by=operator)
    incident.add_action_item("Buy a spare PSU", by=operator, owner=scene.noor)
    incident.resolve(by=operator, summary="A power supply failed; we replaced it.")

    response = member_client.get(f"/incidents/{incident.pk}/postmortem.md")
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"].startswith('attachment; filename="incident-')
    text = response.content.decode()
    assert text.startswith("# dom0 down: wiki offline\n")
    assert "## Summary\n\nA power supply failed; we replaced it." in text
    assert "**Lead:** Otto" in text and "**Duration:**" in text
    assert "wiki.example.org on dom0.harbor.example.org (owner: Wiki Project)" in text  # impact
    assert "Owners affected:" in text and "Wiki Project" in text
    assert "_(public)_: The wiki is offline; we are working on it. — Ada" in text  # the timeline, who wrote what
    assert "- [ ] Buy a spare PSU (Noor Example)" in text


def test_a_published_postmortem_is_on_the_public_page(operator_client, scene):
    incident = scene.incident
    incident.publish(by=None, title="The wiki was down")
    incident.resolve(note="Resolved.")
    response = operator_client.post(
        f"/incidents/{incident.pk}/postmortem/", {"postmortem": "## What happened\n\nA **power supply** failed."}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.postmortem_published_at is not None
    public = operator_client.get(incident.get_public_url()).content.decode()
    assert "<strong>power supply</strong>" in public


def test_the_incident_list_filters_by_severity_machine_site_and_mine(operator_client, operator, scene):
    elsewhere = make_machine(hostname="db1.elsewhere.example.org")
    mine = policy.open_by_person(title="db1 is slow", by=operator, machines=[elsewhere], severity="minor")
    mine.take_lead(by=operator)

    def titles(**query):
        return operator_client.get("/incidents/", query).content.decode()

    assert "db1 is slow" in titles() and "dom0 down: wiki offline" in titles()
    assert "db1 is slow" in titles(mine=1) and "dom0 down: wiki offline" not in titles(mine=1)
    assert "db1 is slow" in titles(severity="minor") and "dom0 down" not in titles(severity="minor")
    assert "dom0 down" in titles(machine=scene.machine.hostname) and "db1 is slow" not in titles(
        machine=scene.machine.hostname
    )
    assert "dom0 down" in titles(site=scene.site.slug) and "db1 is slow" not in titles(site=scene.site.slug)
    assert "No incidents here." in titles(machine="no-such-host.example.org")  # nothing, not everything
    assert Incident.objects.count() >= 2
