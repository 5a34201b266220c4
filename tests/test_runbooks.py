"""Runbooks: Markdown rendered safely, every edit kept as a version with its author, and a
"last exercised" date anyone can bump with a note."""

import pytest
from django.test import Client
from django.utils import timezone

from core.templatetags.switchboard import markdown
from hosts.models import Runbook
from tests.conftest import log_in_with_second_factor

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def edit(client, runbook, **fields):
    runbook.refresh_from_db()
    data = {"title": runbook.title, "body": runbook.body, "based_on": runbook.updated_at.isoformat(), **fields}
    return client.post(f"/runbooks/{runbook.pk}/edit/", data)


def test_markdown_is_rendered(member_client, scene):
    scene.runbook.body = "# Restore\n\n1. **Stop** the wiki\n2. Run `duplicity restore`\n\n```\npg_restore -d wiki\n```"
    scene.runbook.save()
    html = member_client.get(f"/runbooks/{scene.runbook.pk}/").content.decode()
    assert "<h1>Restore</h1>" in html
    assert "<strong>Stop</strong>" in html and "<code>duplicity restore</code>" in html
    assert "<pre><code>pg_restore -d wiki" in html


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src='https://example.org'></iframe>",
        "<style>body{display:none}</style>",
    ],
)
def test_a_script_in_the_body_never_reaches_the_page(member_client, scene, evil):
    scene.runbook.body = f"Step one.\n\n{evil}\n\nStep two."
    scene.runbook.save()
    html = member_client.get(f"/runbooks/{scene.runbook.pk}/").content.decode()
    body = html[html.index('<div class="markdown') :]
    for bad in ("<script", "onerror", "javascript:", "onclick", "<iframe", "<style", "alert("):
        assert bad not in body
    assert "Step two." in body


def test_the_markdown_filter_keeps_useful_links():
    html = markdown("Call [the desk](tel:+15550100) or see [docs](https://example.org/)")
    assert 'href="tel:+15550100"' in html and 'href="https://example.org/"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_an_edit_is_kept_as_a_version_with_its_author(operator_client, operator, scene):
    response = edit(operator_client, scene.runbook, body="1. Mount /srv first\n2. Restore", summary="added /srv")
    assert response.status_code == 302
    newest = scene.runbook.history.order_by("-history_date").first()
    assert newest.history_user == operator
    assert newest.history_change_reason == "added /srv"
    assert newest.body.startswith("1. Mount /srv first")
    assert scene.runbook.history.count() == 2


def test_versions_page_lists_every_version_and_shows_a_diff(operator_client, scene):
    edit(operator_client, scene.runbook, body="1. Mount /srv first\n2. Restore", summary="added /srv")
    html = operator_client.get(f"/runbooks/{scene.runbook.pk}/versions/").content.decode()
    assert "Otto" in html and "added /srv" in html and "first version" in html
    newest = scene.runbook.history.order_by("-history_date").first()
    version = operator_client.get(f"/runbooks/{scene.runbook.pk}/versions/{newest.history_id}/").content.decode()
    assert '<span class="add">+1. Mount /srv first</span>' in version
    assert '<span class="del">-1. Start an Ubuntu 8.04 VM</span>' in version


def test_an_old_version_can_be_read(operator_client, scene):
    first = scene.runbook.history.earliest()
    edit(operator_client, scene.runbook, body="Completely new text")
    html = operator_client.get(f"/runbooks/{scene.runbook.pk}/versions/{first.history_id}/").content.decode()
    assert "Start an Ubuntu 8.04 VM" in html


def test_an_empty_body_is_refused_next_to_the_field(operator_client, scene):
    response = edit(operator_client, scene.runbook, body="   ", title="")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="body-errors"' in html and "Write at least one step" in html
    assert 'id="title-errors"' in html and "Give the runbook a title" in html
    assert scene.runbook.history.count() == 1


def test_a_second_editor_does_not_silently_overwrite_the_first(operator_client, admin, scene):
    stale = scene.runbook.updated_at.isoformat()
    edit(operator_client, scene.runbook, body="Otto's version")
    other = log_in_with_second_factor(Client(), admin)
    response = other.post(
        f"/runbooks/{scene.runbook.pk}/edit/",
        {"title": "Restore the wiki", "body": "Ada's version", "based_on": stale},
    )
    assert response.status_code == 200
    assert "Someone else saved this runbook while you were editing" in response.content.decode()
    scene.runbook.refresh_from_db()
    assert scene.runbook.body == "Otto's version"


def test_bumping_last_exercised_records_who_when_and_the_note(member_client, member, scene):
    before = timezone.now()
    response = member_client.post(f"/runbooks/{scene.runbook.pk}/exercised/", {"note": "restore drill, 40 minutes"})
    assert response.status_code == 302
    runbook = Runbook.objects.get(pk=scene.runbook.pk)
    assert runbook.last_exercised_by == member
    assert runbook.last_exercised_at >= before
    assert runbook.last_exercised_note == "restore drill, 40 minutes"
    newest = runbook.history.order_by("-history_date").first()
    assert newest.history_user == member and newest.history_change_reason == "Exercised: restore drill, 40 minutes"
    html = member_client.get(f"/runbooks/{scene.runbook.pk}/").content.decode()
    assert "by Mira: restore drill, 40 minutes" in html


def test_bumping_with_htmx_swaps_in_the_updated_section(member_client, scene):
    response = member_client.post(
        f"/runbooks/{scene.runbook.pk}/exercised/", {"note": "did it"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith("{#") or html.lstrip().startswith('<section class="card exercised"')
    assert "<html" not in html and "did it" in html


def test_bumping_without_a_note_explains_why(member_client, scene):
    response = member_client.post(f"/runbooks/{scene.runbook.pk}/exercised/", {"note": ""})
    assert response.status_code == 400
    assert 'id="note-errors"' in response.content.decode()
    scene.runbook.refresh_from_db()
    assert scene.runbook.last_exercised_at is None


def test_exercised_is_post_only(member_client, scene):
    assert member_client.get(f"/runbooks/{scene.runbook.pk}/exercised/").status_code == 405


def test_an_operator_writes_a_new_runbook_for_a_machine(operator_client, operator, scene):
    response = operator_client.post(
        f"/runbooks/new/?machine={scene.machine.hostname}", {"title": "Replace a disk", "body": "1. Call Noor"}
    )
    assert response.status_code == 302
    runbook = Runbook.objects.get(title="Replace a disk")
    assert runbook.machine == scene.machine
    assert runbook.history.get().history_user == operator


def test_a_new_runbook_needs_something_to_belong_to(operator_client, scene):
    assert operator_client.get("/runbooks/new/").status_code == 404


def test_a_member_reads_runbooks_but_cannot_change_them(member_client, scene):
    page = member_client.get(f"/runbooks/{scene.runbook.pk}/").content.decode()
    assert scene.runbook.title in page
    assert f"/runbooks/{scene.runbook.pk}/edit/" not in page  # no button that would only say 403
    response = edit(member_client, scene.runbook, body="Skip the backup step")
    assert response.status_code == 403
    scene.runbook.refresh_from_db()
    assert "Skip the backup step" not in scene.runbook.body
