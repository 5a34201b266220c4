"""Admins build a bundle on demand and download it; nobody else can."""

import pytest
from django.urls import reverse

from breakglass.models import Bundle
from breakglass.tasks import build_bundle_nightly
from tests.conftest import log_in_with_second_factor

from .conftest import open_bundle

pytest_plugins = ["tests.cast"]


@pytest.mark.usefixtures("sends_run_at_once")
def test_an_admin_builds_a_bundle_now_and_downloads_it(scene, admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:breakglass_bundle_build"))
    assert response.status_code == 302

    bundle = Bundle.objects.get()
    assert bundle.state == Bundle.State.BUILT and bundle.requested_by.username == "ada"
    page = admin_client.get(reverse("admin:breakglass_bundle_changelist")).content.decode()
    assert bundle.filename in page and "No off-site bucket configured" in page

    download = admin_client.get(reverse("admin:breakglass_bundle_newest"))
    assert download.status_code == 200
    assert "Noor Example" in open_bundle(b"".join(download.streaming_content).decode())


def test_a_staff_member_who_is_not_an_admin_cannot_download(scene, client, django_user_model):
    build_bundle_nightly()
    staff = django_user_model.objects.create_user("sam", "sam@example.org", "pw", is_staff=True)
    log_in_with_second_factor(client, staff)

    assert client.get(reverse("admin:breakglass_bundle_newest")).status_code == 403
    assert client.post(reverse("admin:breakglass_bundle_build")).status_code == 403
    assert Bundle.objects.count() == 1


def test_a_member_is_sent_away(scene, member_client):
    build_bundle_nightly()

    response = member_client.get(reverse("admin:breakglass_bundle_newest"))

    assert response.status_code == 302 and "/admin/login/" in response.url
