"""What an attacker or a careless neighbour tries on the break-glass bundle: markup in inventory text
(the opened page is put in place with innerHTML), a superuser's password without the second factor,
and a bucket shared with other files, which pruning old bundles must leave alone."""

import pytest
from django.urls import reverse

from breakglass import store
from breakglass.models import Bundle
from breakglass.tasks import build_bundle_nightly
from coop.models import ContactMethod, Person, Site

from .conftest import open_bundle

pytest_plugins = ["tests.cast"]

MARKUP = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_markup_typed_into_names_notes_and_procedures_is_text_in_the_opened_page(scene):
    person = Person.objects.create(name=f"Mallory {MARKUP}")
    ContactMethod.objects.create(person=person, kind="phone", value="+1 555 0199", notes=MARKUP)
    Site.objects.create(name=f"Cellar {MARKUP}", slug="cellar", access_procedure=MARKUP, address=MARKUP)

    build_bundle_nightly()
    page = open_bundle(store.local_path(Bundle.objects.get().filename).read_text())

    assert "<img" not in page and "<script" not in page
    assert "Mallory &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_a_superuser_with_only_a_password_cannot_download(scene, client, admin_user):
    build_bundle_nightly()
    client.force_login(admin_user)  # the password step only

    response = client.get(reverse("admin:breakglass_bundle_newest"))

    assert response.status_code in (302, 403)
    assert b"sealed" not in b"".join(getattr(response, "streaming_content", [response.content]))


@pytest.mark.usefixtures("sends_run_at_once")
def test_pruning_leaves_the_buckets_other_files_alone(scene, bucket, s3_server, settings):
    # A bucket without a prefix of its own for the bundles, as an admin may well configure it.
    settings.BREAK_GLASS_S3_PREFIX = ""
    settings.BREAK_GLASS_KEEP = 2
    s3 = s3_server.client()
    for key in ("index.html", "docs/restore.html", "zzz-notes.html"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"<p>not a bundle</p>")

    for _ in range(3):
        build_bundle_nightly()

    keys = sorted(obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    newest = sorted(Bundle.objects.values_list("filename", flat=True)[:2])
    assert keys == sorted([*newest, "docs/restore.html", "index.html", "zzz-notes.html"])
