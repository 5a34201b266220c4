"""Who may press the button, and what they must confirm first."""

import pytest
from django.urls import reverse

from incidents.models import TimelineEntry
from power.forms import PowerRequestForm
from power.models import PowerAction

from .conftest import COMMUNITY, pass_mfa, power_form


def _url(scene):
    return reverse("power_request", args=[scene.machine.hostname])


@pytest.mark.django_db
def test_member_cannot_power_cycle(scene, member_client):
    assert member_client.get(_url(scene)).status_code == 403
    assert member_client.post(_url(scene), power_form(scene)).status_code == 403
    assert not PowerAction.objects.exists()


@pytest.mark.django_db
def test_member_sees_no_power_button_on_the_machine_page(scene, member_client):
    page = member_client.get(reverse("machine_detail", args=[scene.machine.hostname])).content.decode()
    assert "Power-cycle…" not in page


@pytest.mark.django_db
def test_operator_without_a_fresh_code_is_sent_to_enter_one(scene, client, operator):
    pass_mfa(client, operator, ago=3600)  # passed MFA an hour ago: too long for a power action
    response = client.post(_url(scene), power_form(scene), HTTP_REFERER=_url(scene))
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_reauthenticate"))
    assert not PowerAction.objects.exists()


@pytest.mark.django_db
def test_operator_must_type_the_right_hostname(scene, operator_client):
    response = operator_client.post(_url(scene), power_form(scene, confirm_hostname="host1.harbor.example.org"))
    assert response.status_code == 400
    assert "not this machine&#x27;s name" in response.content.decode()
    assert not PowerAction.objects.exists()


@pytest.mark.django_db
def test_the_machines_short_name_is_enough_to_confirm_but_a_neighbours_is_not(scene, operator_client):
    # "dom0" for dom0.harbor.example.org: the check is about being on the right page, not about typing.
    refused = operator_client.post(_url(scene), power_form(scene, confirm_hostname="host1"))
    assert refused.status_code == 400 and not PowerAction.objects.exists()
    form = PowerRequestForm(power_form(scene, confirm_hostname="DOM0"), machine=scene.machine)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["confirm_hostname"] == scene.machine.hostname


@pytest.mark.django_db
def test_operator_must_give_a_reason(scene, operator_client):
    response = operator_client.post(_url(scene), power_form(scene, reason=""))
    assert response.status_code == 400 and not PowerAction.objects.exists()


@pytest.mark.django_db
def test_confirmation_lists_every_guest_and_owner_going_down(scene, operator_client):
    page = operator_client.get(_url(scene)).content.decode()
    for guest in scene.machine.guests.all():
        assert guest.name in page
    assert scene.wiki_owner.name in page
    assert "This takes down" in page


@pytest.mark.django_db
def test_operator_with_a_fresh_code_power_cycles_and_follows_progress(
    scene, pdu, operator_client, django_capture_on_commit_callbacks, settings
):
    from unittest import mock

    from power.tasks import run_power_action

    with (
        mock.patch.object(run_power_action, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = operator_client.post(_url(scene), power_form(scene))
    action = PowerAction.objects.get()
    send.assert_called_once_with((action.pk,))
    assert response.url == reverse("power_action", args=[scene.machine.hostname, action.pk])
    running = operator_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running  # polls while it runs

    run_power_action(action.pk)
    done = operator_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "Succeeded" in done and "hx-trigger" not in done  # stops polling once done
    machine_page = operator_client.get(reverse("machine_detail", args=[scene.machine.hostname])).content.decode()
    assert "Power-cycle</strong> of pdu-sf-1 outlet 4" in machine_page
    assert COMMUNITY not in machine_page


@pytest.mark.django_db
def test_revealing_the_password_needs_a_reason_and_lands_on_the_timeline(scene, operator_client, operator):
    url = reverse("power_secret_reveal", args=[scene.machine.hostname, scene.controller.pk])
    page = operator_client.get(url).content.decode()
    assert COMMUNITY not in page
    assert COMMUNITY not in operator_client.post(url, {"reason": ""}).content.decode()

    response = operator_client.post(url, {"reason": "logging in to the PDU's web UI by hand"})

    assert COMMUNITY in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    entry = scene.incident.timeline.get(kind=TimelineEntry.Kind.SECRET_REVEALED)
    assert entry.author == operator and "logging in to the PDU" in entry.body
    assert COMMUNITY not in entry.body


@pytest.mark.django_db
def test_revealing_the_password_needs_a_fresh_code(scene, client, operator):
    pass_mfa(client, operator, ago=3600)
    url = reverse("power_secret_reveal", args=[scene.machine.hostname, scene.controller.pk])
    response = client.post(url, {"reason": "need it"})
    assert response.status_code == 302 and COMMUNITY not in response.content.decode()
    assert not TimelineEntry.objects.filter(kind=TimelineEntry.Kind.SECRET_REVEALED).exists()
