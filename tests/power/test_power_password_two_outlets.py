"""A machine with two power supplies on one PDU: its password page works like any other."""

import pytest
from django.urls import reverse

from power.models import PowerOutlet

from .conftest import COMMUNITY


@pytest.mark.django_db
def test_password_reveal_works_for_a_machine_on_two_outlets_of_one_pdu(scene, operator_client):
    PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")
    url = reverse("power_secret_reveal", args=[scene.machine.hostname, scene.controller.pk])

    assert operator_client.get(url).status_code == 200
    response = operator_client.post(url, {"reason": "both PSUs hung, logging in by hand"})

    assert response.status_code == 200 and COMMUNITY in response.content.decode()
