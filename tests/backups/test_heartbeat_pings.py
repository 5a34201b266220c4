"""A backup job calls its heartbeat URL: /ping/<uuid>, /start, /fail; GET or POST, no login."""

import uuid
from datetime import timedelta

from django.utils import timezone

from backups.models import BackupState, HeartbeatPing


def test_success_ping_by_get_makes_the_target_ok(client, heartbeat):
    response = client.get(f"/ping/{heartbeat.heartbeat_id}", HTTP_USER_AGENT="curl/8.5.0")

    assert response.status_code == 200
    assert response.content == b"OK\n"
    ping = heartbeat.pings.get()
    assert (ping.kind, ping.user_agent, ping.remote_addr) == ("success", "curl/8.5.0", "127.0.0.1")
    heartbeat.refresh_from_db()
    assert heartbeat.state == BackupState.OK


def test_start_then_success_by_post_records_the_run_time(client, heartbeat):
    assert client.post(f"/ping/{heartbeat.heartbeat_id}/start").status_code == 200
    assert (
        client.post(f"/ping/{heartbeat.heartbeat_id}/", b"base backup done", content_type="text/plain").status_code
        == 200
    )

    start, success = heartbeat.pings.order_by("received_at", "pk")
    assert (start.kind, success.kind) == ("start", "success")
    assert success.body == "base backup done"
    assert success.run_time is not None and success.run_time >= timedelta(0)


def test_fail_ping_makes_the_target_failed(client, heartbeat):
    client.get(f"/ping/{heartbeat.heartbeat_id}")
    client.post(f"/ping/{heartbeat.heartbeat_id}/fail", b"pg_basebackup: error: could not connect", "text/plain")

    heartbeat.refresh_from_db()
    assert heartbeat.state == BackupState.FAILED
    assert heartbeat.state_message.startswith("The job reported failure")


def test_unknown_uuid_is_404(client, heartbeat):
    assert client.get(f"/ping/{uuid.uuid4()}").status_code == 404
    assert client.post(f"/ping/{uuid.uuid4()}/fail").status_code == 404
    assert client.get("/ping/not-a-uuid").status_code == 404
    assert not HeartbeatPing.objects.exists()


def test_an_s3_target_has_no_heartbeat_url(client, heartbeat):
    heartbeat.kind = "s3"
    heartbeat.bucket = "wiki-backups"
    heartbeat.save()

    assert client.get(f"/ping/{heartbeat.heartbeat_id}").status_code == 404


def test_late_success_is_stale(heartbeat):
    HeartbeatPing.receive(heartbeat, "success")

    verdict = heartbeat.judge_heartbeat(timezone.now() + timedelta(minutes=21))

    assert verdict.state == BackupState.STALE
    assert verdict.message == "Last success ping 21\xa0minutes ago."
    assert heartbeat.judge_heartbeat(timezone.now() + timedelta(minutes=19)).state == BackupState.OK


def test_a_heartbeat_that_never_pinged_goes_stale(heartbeat):
    assert heartbeat.judge_heartbeat(timezone.now()).state == BackupState.UNKNOWN
    verdict = heartbeat.judge_heartbeat(timezone.now() + timedelta(hours=1))
    assert (verdict.state, verdict.message) == (BackupState.STALE, "The job has never reported success.")


def test_a_run_far_faster_than_usual_is_flagged(heartbeat):
    now = timezone.now() - timedelta(days=1)
    for _ in range(4):  # the usual nightly base backup: 20 minutes
        HeartbeatPing.receive(heartbeat, "start", now=now)
        HeartbeatPing.receive(heartbeat, "success", now=now + timedelta(minutes=20))
        now += timedelta(hours=1)
    HeartbeatPing.receive(heartbeat, "start", now=now)
    HeartbeatPing.receive(heartbeat, "success", now=now + timedelta(seconds=3))

    heartbeat.refresh_from_db()
    assert heartbeat.state == BackupState.SHRUNK
    assert heartbeat.state_message == "The last run took 3 s; it usually takes 20 min."


def test_a_long_log_is_cut_and_a_huge_one_refused(client, heartbeat, settings):
    settings.PING_BODY_MAX_BYTES = 100_000
    response = client.post(f"/ping/{heartbeat.heartbeat_id}", b"x" * 50_000, content_type="text/plain")
    assert response.status_code == 200
    ping = heartbeat.pings.get()
    assert len(ping.body) == HeartbeatPing.BODY_LIMIT and ping.body_truncated

    body = b"x" * 3_000_000  # bigger than the limit (and Django's 2.5 MB request-body limit)
    response = client.post(f"/ping/{heartbeat.heartbeat_id}", body, content_type="text/plain")
    assert response.status_code == 413
    assert b"not recorded" in response.content
    assert heartbeat.pings.count() == 1


def test_pings_need_no_csrf_token(heartbeat):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(f"/ping/{heartbeat.heartbeat_id}/start")

    assert response.status_code == 200


def test_a_burst_of_pings_within_the_limit_is_kept_with_one_check(client, heartbeat, settings):
    settings.PING_TARGET_LIMIT_PER_MINUTE = 100
    url = f"/ping/{heartbeat.heartbeat_id}"

    statuses = [client.post(url, f"segment {n}", content_type="text/plain").status_code for n in range(100)]

    assert statuses == [200] * 100
    assert heartbeat.pings.count() == 100
    assert heartbeat.checks.count() == 1  # a check row only when the verdict changes
    heartbeat.refresh_from_db()
    assert heartbeat.state == BackupState.OK
    assert heartbeat.incident is None
