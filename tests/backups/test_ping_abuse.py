"""The heartbeat URL is public, so it is built to be hammered, previewed and pasted into chat
(healthchecks' rules): HEAD never counts, a target can count POST only, floods are throttled
per target and per client without stopping a well-behaved job, each target keeps a bounded
number of pings, and behind the co-op's proxy the client's own address is the one recorded."""

import pytest

from backups.models import BackupState, BackupTarget

pytestmark = pytest.mark.django_db


def _url(heartbeat, suffix=""):
    return f"/ping/{heartbeat.heartbeat_id}{suffix}"


def test_a_link_previewers_head_request_counts_for_nothing(client, heartbeat):
    response = client.head(_url(heartbeat))
    assert response.status_code == 200
    assert heartbeat.pings.count() == 0
    heartbeat.refresh_from_db()
    assert heartbeat.state != BackupState.OK


def test_options_is_refused_and_counts_for_nothing(client, heartbeat):
    assert client.options(_url(heartbeat)).status_code == 405
    assert heartbeat.pings.count() == 0


def test_a_post_only_target_ignores_a_get(client, heartbeat):
    heartbeat.ping_post_only = True
    heartbeat.save()
    response = client.get(_url(heartbeat))
    assert response.status_code == 405
    assert b"POST pings only" in response.content and heartbeat.pings.count() == 0
    assert client.post(_url(heartbeat)).status_code == 200
    assert heartbeat.pings.count() == 1


def test_a_flood_for_one_target_is_throttled_and_recorded_nowhere(client, heartbeat, settings):
    settings.PING_TARGET_LIMIT_PER_MINUTE = 5
    statuses = [client.get(_url(heartbeat)).status_code for _ in range(20)]
    assert statuses == [200] * 5 + [429] * 15
    assert heartbeat.pings.count() == 5
    response = client.get(_url(heartbeat))
    assert response["Retry-After"] == "60" and b"not recorded" in response.content


def test_a_flooding_client_does_not_stop_another_clients_job(client, heartbeat, settings):
    settings.PING_CLIENT_LIMIT_PER_MINUTE = 10
    other = BackupTarget.objects.create(name="db WAL", kind=BackupTarget.Kind.HEARTBEAT, guest=heartbeat.guest)
    flood = [client.get(_url(other), REMOTE_ADDR="203.0.113.66").status_code for _ in range(30)]
    assert flood.count(429) == 20
    assert client.post(_url(heartbeat), REMOTE_ADDR="198.51.100.20").status_code == 200
    assert heartbeat.pings.get().remote_addr == "198.51.100.20"


def test_behind_the_proxy_the_clients_own_address_is_recorded_and_throttled(client, heartbeat, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PING_CLIENT_LIMIT_PER_MINUTE = 3
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(3):
        client.get(_url(heartbeat), HTTP_X_FORWARDED_FOR="203.0.113.66", **proxy)
    assert client.get(_url(heartbeat), HTTP_X_FORWARDED_FOR="203.0.113.66", **proxy).status_code == 429
    # Another client behind the same proxy is not locked out with them.
    assert client.get(_url(heartbeat), HTTP_X_FORWARDED_FOR="198.51.100.20", **proxy).status_code == 200
    assert set(heartbeat.pings.values_list("remote_addr", flat=True)) == {"203.0.113.66", "198.51.100.20"}


def test_a_spoofed_forwarded_for_is_ignored_without_a_proxy(client, heartbeat):
    client.get(_url(heartbeat), HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert heartbeat.pings.get().remote_addr == "127.0.0.1"


def test_only_the_newest_pings_are_kept(client, heartbeat, settings):
    settings.PING_KEEP_PER_TARGET = 10
    settings.PING_TARGET_LIMIT_PER_MINUTE = 100
    for n in range(25):
        client.post(_url(heartbeat), f"run {n}", content_type="text/plain")
    kept = list(heartbeat.pings.values_list("body", flat=True))
    assert len(kept) == 10 and kept[0] == "run 24" and kept[-1] == "run 15"


def test_with_the_cache_down_pings_still_count(client, heartbeat, settings):
    # Redis unreachable (a real client against a closed port): throttling is skipped, pings are kept.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    settings.PING_TARGET_LIMIT_PER_MINUTE = 1
    assert [client.get(_url(heartbeat)).status_code for _ in range(3)] == [200, 200, 200]
    assert heartbeat.pings.count() == 3


def test_pings_that_change_nothing_leave_stored_pages_stored(client, heartbeat):
    from django.core.cache import cache

    from core.page_cache import GENERATION_KEY, data_changed

    client.get(_url(heartbeat))  # the first: the target becomes ok, a change pages must show
    data_changed()
    before = cache.get(GENERATION_KEY)
    for _ in range(5):
        assert client.get(_url(heartbeat)).status_code == 200
    assert cache.get(GENERATION_KEY) == before  # the crowd reloading pages in an outage keeps its copies
    client.get(_url(heartbeat, "/fail"))
    assert cache.get(GENERATION_KEY) != before  # a failure changes the target: every page shows it
