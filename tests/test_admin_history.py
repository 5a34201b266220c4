"""Ada edits a machine in the admin; later, Bea wants to know who changed what, and from what."""

import pytest

from coop.models import Organization, Site
from hosts.models import IPAddress, Machine
from tests.test_admin import admin_url, open_form


@pytest.fixture
def machine():
    site = Site.objects.create(name="Fremont colo", slug="fremont")
    owner = Organization.objects.create(name="Example Wiki Project", slug="example-wiki")
    return Machine.objects.create(
        hostname="xen1.fremont.example.org",
        site=site,
        owner=owner,
        hypervisor="xen",
        os_name="Debian",
        os_version="9",
        patch_policy="manual",
    )


@pytest.mark.django_db
def test_admin_edit_of_a_machine_is_recorded_as_made_by_the_admin(admin_client, admin_user, machine):
    response = open_form(admin_client, Machine, machine).type(os_version="12", reboot_safe=True).submit(admin_client)

    assert response.status_code == 302
    latest = machine.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == admin_user
    assert latest.os_version == "12"
    assert latest.prev_record.os_version == "9"


@pytest.mark.django_db
def test_history_page_shows_who_changed_the_os_version_and_its_value_before_and_after(admin_client, machine):
    open_form(admin_client, Machine, machine).type(os_version="12").submit(admin_client)

    response = admin_client.get(admin_url(Machine, "history", machine.pk))

    assert response.status_code == 200
    latest = response.context["page_obj"][0]
    assert {"field": "OS version", "old": "9", "new": "12"} in latest.history_delta_changes
    page = response.content.decode()
    assert "ada" in page
    assert "OS version:</strong>" in page
    assert "9\n" in page or "9 " in page
    assert "&rarr;&nbsp;&nbsp;12" in page


@pytest.mark.django_db
def test_history_page_names_the_new_site_not_its_id(admin_client, machine):
    new_site = Site.objects.create(name="Oakland colo", slug="oakland")

    open_form(admin_client, Machine, machine).type(site=new_site.pk).submit(admin_client)
    response = admin_client.get(admin_url(Machine, "history", machine.pk))

    changes = response.context["page_obj"][0].history_delta_changes
    assert {"field": "Site", "old": "Fremont colo", "new": "Oakland colo"} in changes


@pytest.mark.django_db
def test_address_added_on_the_machine_page_is_recorded_as_made_by_the_admin(admin_client, admin_user, machine):
    # Inline rows are saved outside ModelAdmin.save_model: the user comes from HistoryRequestMiddleware.
    form = open_form(admin_client, Machine, machine).add_row(IPAddress, address="192.0.2.10", note="public")

    response = form.submit(admin_client)

    assert response.status_code == 302
    address = IPAddress.objects.get(address="192.0.2.10")
    assert address.machine == machine
    assert address.history.get().history_user == admin_user


@pytest.mark.django_db
def test_an_old_version_of_a_machine_can_be_viewed(admin_client, machine):
    open_form(admin_client, Machine, machine).type(os_version="12").submit(admin_client)
    first = machine.history.earliest()

    response = admin_client.get(admin_url(Machine, "simple_history", machine.pk, first.history_id))

    assert response.status_code == 200
    assert response.context["adminform"].form.initial["os_version"] == "9"
