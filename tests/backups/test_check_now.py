"""A member presses "check now": the check is queued on commit, the page polls until it is done."""

import pytest

from backups.models import BackupState
from backups.tasks import check_backup_target

from .conftest import put

pytest_plugins = ["tests.cast"]


def test_check_now_queues_the_pk_on_commit_and_the_page_polls(
    member_client, make_target, bucket, s3, monkeypatch, django_capture_on_commit_callbacks
):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 5000)
    target = make_target(bucket)
    sent = []
    monkeypatch.setattr(check_backup_target, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(f"/backups/{target.pk}/check/", HTTP_HX_REQUEST="true")

    assert sent == [target.pk]
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and "Checking now" in html

    check_backup_target(target.pk)  # what the worker does
    done = member_client.get(f"/backups/{target.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done  # polling stops
    assert done.startswith('\n<div id="backup-live"') or 'id="backup-live"' in done
    assert "1 object(s)" in done and "<html" not in done


def test_check_now_without_javascript_redirects_back(member_client, make_target, bucket, monkeypatch):
    target = make_target(bucket)
    monkeypatch.setattr(check_backup_target, "delay", lambda pk: None)

    response = member_client.post(f"/backups/{target.pk}/check/")

    assert response.status_code == 302 and response.url == f"/backups/{target.pk}/"


def test_target_page_shows_history_and_a_chart(member_client, make_target, bucket, s3):
    target = make_target(bucket)
    for day, size in [(18, 4000), (19, 4200), (20, 4100)]:
        put(s3, bucket, f"wiki/2026-11-{day}.tar.gpg", size)
        target.run_check()

    html = member_client.get(f"/backups/{target.pk}/").content.decode()

    assert html.count("<polyline") == 2
    assert "wiki/2026-11-20.tar.gpg" in html
    assert "Check now" in html
    assert target.secret_access_key not in html


@pytest.mark.parametrize("page", ["/", "/guests/wiki.example.org/", "/machines/dom0.harbor.example.org/", "/backups/"])
def test_failing_backup_shows_what_is_wrong_everywhere(member_client, make_target, page):
    target = make_target("no-such-bucket-here")
    target.run_check()
    assert target.state == BackupState.ERROR

    html = member_client.get(page).content.decode()

    assert f'href="/backups/{target.pk}/"' in html
    assert "Could not check" in html
    assert "restore drill overdue" in html
