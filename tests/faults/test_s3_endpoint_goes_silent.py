"""An S3 endpoint goes silent: it accepts connections and never answers.

Two targets live on it, one on a healthy endpoint. A member presses "check now" and beat queues the due
checks to a real worker (prefork, three processes): the press answers at once, the healthy target is
checked while the silent ones still wait, and each silent check ends within the timeouts of
backups/s3.py with "could not check" naming the endpoint, all on one incident for it. An hour later
the endpoint answers again, beat's next checks find the backups good and the incident is resolved.
"""

import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from backups.models import BackupState, BackupTarget
from backups.s3 import S3_CONFIG, Location
from core.access import MEMBERS
from incidents.models import Incident
from switchboard.celery import app
from tests.backups.conftest import put
from tests.cast import make_user

from .conftest import timed, wait_for
from .peers import TCPProxy

FAULT = "S3 endpoint silent"
ORDER = 3
BOUND = 1.0  # seconds the "check now" press and the target's page may take
# The longest a check of a silent endpoint may take (backups/s3.py): every try connects (the endpoint accepts)
# and then waits out the read timeout, with botocore's backoff (a second or two) between tries. botocore's
# "max_attempts" counts the retries after the first try; "total_max_attempts" counts them all.
TRIES = S3_CONFIG.retries.get("total_max_attempts") or S3_CONFIG.retries["max_attempts"] + 1
CHECK_BOUND = TRIES * (S3_CONFIG.connect_timeout + S3_CONFIG.read_timeout) + 3


@pytest.fixture
def silent_endpoint(s3_server):
    """A proxy in front of the test's S3 server; stalled, it accepts connections and says nothing."""
    proxy = TCPProxy(int(s3_server.endpoint.rsplit(":", 1)[1])).start()
    yield proxy
    proxy.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("faults")
def test_a_silent_endpoint_costs_its_own_targets_a_timeout_and_nobody_else_anything(
    fault, silent_endpoint, workers, make_target, bucket, s3, django_user_model
):
    # One process for each silent check and one for the rest. With fewer processes than silent targets, the
    # others wait behind them: each check holds its process for the whole timeout.
    workers("backups", pool="prefork", concurrency=3)
    silent_url = f"http://127.0.0.1:{silent_endpoint.port}"
    for prefix in ("wiki/", "mail/", "good/"):
        put(s3, bucket, f"{prefix}2026-12-01.tar.gpg", 5000)
    wiki_nightly = make_target(bucket, name="wiki nightly", prefix="wiki/", endpoint_url=silent_url)
    mail_nightly = make_target(bucket, name="mail nightly", prefix="mail/", endpoint_url=silent_url)
    elsewhere = make_target(bucket, name="blog nightly", prefix="good/")
    silent = [wiki_nightly.pk, mail_nightly.pk]
    endpoint = Location(silent_url, "", "", "", "", "").endpoint
    member = Client()
    member.force_login(make_user(django_user_model, "mira", MEMBERS))

    silent_endpoint.stall()
    response, took = timed(member.post, reverse("backup_check_now", args=[wiki_nightly.pk]))
    assert response.status_code == 302
    fault.page("check now", took, response.status_code, BOUND)
    app.send_task("backups.check_due_backups")  # beat's round: every target is due
    queued_at = time.monotonic()

    wait_for(
        lambda: BackupTarget.objects.get(pk=elsewhere.pk).state == BackupState.OK,
        "the target on the healthy endpoint to be checked",
        timeout=15,
    )
    elsewhere_after = time.monotonic() - queued_at
    assert not BackupTarget.objects.filter(pk__in=silent, last_checked_at__isnull=False).exists(), (
        "the silent checks ended before the healthy one: the test proved nothing"
    )
    response, took = timed(member.get, reverse("backup_detail", args=[wiki_nightly.pk]))
    assert response.status_code == 200 and 'hx-trigger="every 1s"' in response.content.decode()
    fault.page("target page while it checks", took, response.status_code, BOUND)

    wait_for(
        lambda: BackupTarget.objects.filter(pk__in=silent, state=BackupState.ERROR).count() == 2,
        "both checks of the silent endpoint to give up",
        timeout=CHECK_BOUND + 10,
        every=0.2,
    )
    gave_up_after = time.monotonic() - queued_at
    targets = BackupTarget.objects.filter(pk__in=silent).select_related("incident")
    for target in targets:
        check = target.checks.get()
        assert check.duration.total_seconds() < CHECK_BOUND
        assert check.message.startswith("Could not check: ") and silent_url in check.message, check.message
    durations = sorted(target.checks.get().duration.total_seconds() for target in targets)
    incidents = {target.incident for target in targets}
    assert len(incidents) == 1
    incident = incidents.pop()
    assert incident.cause_key == f"s3:{endpoint}" and incident.is_open
    assert endpoint in incident.title
    assert Incident.objects.filter(cause=Incident.Cause.BACKUP).count() == 1
    fault.kept.add(f"the healthy target checked {elsewhere_after:.1f} s after beat queued it")
    fault.kept.add(
        f"the silent targets judged 'could not check' after {durations[0]:.1f} s and {durations[1]:.1f} s "
        f"({TRIES} tries of {S3_CONFIG.read_timeout:g} s; bound {CHECK_BOUND:g} s)"
    )
    fault.duplicates.add("incidents for the endpoint: 1 for both targets", True)

    # An hour later the endpoint answers again; beat's round finds both good and the incident is resolved.
    silent_endpoint.flow()
    BackupTarget.objects.filter(pk__in=silent).update(last_checked_at=F("last_checked_at") - timedelta(hours=1))
    app.send_task("backups.check_due_backups")
    flowing_at = time.monotonic()
    wait_for(
        lambda: BackupTarget.objects.filter(pk__in=silent, state=BackupState.OK).count() == 2,
        "beat's next checks to find the backups good",
        timeout=20,
        every=0.2,
    )
    incident.refresh_from_db()
    assert not incident.is_open
    fault.recovered.add(
        f"silent for {gave_up_after:.0f} s; the next round found both good and resolved the incident "
        f"in {time.monotonic() - flowing_at:.1f} s"
    )
