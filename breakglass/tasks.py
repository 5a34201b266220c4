"""Celery tasks for the break-glass bundle (the nightly run: settings.BEAT_SCHEDULE).

- build_bundle_nightly: the beat task: writes a Bundle row and builds it;
- build_bundle(pk): claims a requested bundle, builds and seals it into BREAK_GLASS_DIR, then uploads;
- upload_bundle(pk): puts it in the off-site bucket and prunes old ones. A refusing or unreachable
  bucket is recorded on the row (the admin's list says so) and retried with backoff, at most
  BREAK_GLASS_UPLOAD_ATTEMPTS times; the bundles already in the bucket stay as they are.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from . import store
from .bundle import build
from .models import Bundle

logger = logging.getLogger(__name__)


@shared_task(name="breakglass.build_bundle_nightly")
def build_bundle_nightly():
    """Build tonight's bundle (and upload it); returns its state."""
    bundle = Bundle.objects.create()
    return build_bundle(bundle.pk)


def request_bundle(by=None):
    """Write a requested bundle and queue its build once the transaction commits; returns the row."""
    bundle = Bundle.objects.create(requested_by=by)

    def send():
        try:
            build_bundle.delay(bundle.pk)
        except (OperationalError, OSError) as exc:
            Bundle.objects.filter(pk=bundle.pk).update(
                state=Bundle.State.FAILED, error=f"Could not queue the build: {type(exc).__name__}"
            )

    transaction.on_commit(send)
    return bundle


@shared_task(name="breakglass.build_bundle")
def build_bundle(pk):
    """Build one requested bundle and upload it; safe to run twice (the second run finds it claimed)."""
    bundle = Bundle.objects.filter(pk=pk).first()
    if bundle is None or not bundle.claim(Bundle.State.REQUESTED, Bundle.State.BUILDING):
        return "busy"
    now = timezone.now()
    try:
        built = build(settings.BREAK_GLASS_PASSPHRASE, now, settings.BREAK_GLASS_KDF_ITERATIONS)
    except ValueError as exc:  # no passphrase configured: say so on the row, not only in a log
        Bundle.objects.filter(pk=pk).update(state=Bundle.State.FAILED, error=str(exc))
        return Bundle.State.FAILED
    except Exception:
        logger.exception("break-glass bundle %s failed to build", pk)
        Bundle.objects.filter(pk=pk).update(state=Bundle.State.FAILED, error="The build failed: see the worker's log.")
        raise
    filename = store.filename_for(now, pk)
    store.save_locally(filename, built.html)
    Bundle.objects.filter(pk=pk).update(
        state=Bundle.State.BUILT,
        filename=filename,
        size_bytes=len(built.html),
        build_seconds=built.seconds,
        summary=built.summary,
        error="" if store.is_configured() else store.describe(),
    )
    logger.info("break-glass bundle %s built: %s bytes in %.2f s", pk, len(built.html), built.seconds)
    if store.is_configured():
        queue_upload(pk)
    return Bundle.State.BUILT


def queue_upload(pk, countdown=None):
    """Send upload_bundle(pk); with the broker down the bundle stays built here and the row says so."""
    try:
        upload_bundle.apply_async((pk,), countdown=countdown)
    except (OperationalError, OSError) as exc:
        Bundle.objects.filter(pk=pk).update(error=f"Built, but the upload could not be queued: {type(exc).__name__}")


# The cap is BREAK_GLASS_UPLOAD_ATTEMPTS, counted on the row (it survives a lost retry message).
@shared_task(name="breakglass.upload_bundle", bind=True, max_retries=None)
def upload_bundle(self, pk):
    """Upload one built bundle; on a store error record it and retry later (capped, with backoff)."""
    bundle = Bundle.objects.filter(pk=pk).first()
    path = bundle and store.local_path(bundle.filename)
    if bundle is None or bundle.state == Bundle.State.UPLOADED or path is None:
        return "gone"
    try:
        deleted = store.upload(bundle.filename, path.read_bytes())
    except store.STORE_ERRORS as exc:
        why = store.explain(exc)
        bundle.record_upload_failure(
            f"Upload to {store.describe()} failed (attempt {bundle.upload_attempts + 1}): {why}"
        )
        logger.warning("break-glass bundle %s: upload failed: %s", pk, why)
        if bundle.upload_attempts >= settings.BREAK_GLASS_UPLOAD_ATTEMPTS:
            return Bundle.State.UPLOAD_FAILED
        # 1, 4, 16, 64 minutes, then hourly: a bucket fixed in the morning gets last night's bundle.
        raise self.retry(countdown=min(60 * 4 ** (bundle.upload_attempts - 1), 3600)) from None
    bundle.record_upload()
    logger.info("break-glass bundle %s uploaded; %d older ones deleted", pk, len(deleted))
    return Bundle.State.UPLOADED
