"""Member pages rendered once per viewer per change of data, never shown stale.

In an outage everyone reloads the same machine page; rendering it takes tens of queries, and
serving a stored copy takes none (the session and the user with their roles, as every page).
A stored page is served only while it matches:

- the *data generation*: a token replaced whenever anything writes to a Switchboard table
  through Django (save, delete, queryset.update(), bulk_create, raw SQL: every INSERT, UPDATE
  or DELETE passes the connection's execute wrapper below), once at the write and once more
  when its transaction commits, so no page rendered from uncommitted or older data is ever
  served after the change;
- the viewer (user, time zone, whether this session passed a second factor), the full URL and
  whether htmx asked for a part of the page;
- the current minute, so times ("local time", "3 min ago") are never more than a minute old.

The generation and the page come back in one round trip. A write from outside Django (psql)
or while the cache was unreachable is seen within PAGE_CACHE_SECONDS; while the cache does not
answer, pages are rendered afresh and the process leaves it alone for CACHE_RETRY_SECONDS.

The CSRF token is never stored: the page is rendered with a random placeholder that each
response replaces with a fresh token for its own browser. Pages with flash messages pending,
errors and htmx redirects are not stored. PAGE_CACHE_SECONDS=0 turns this off.

Public pages (/status/ and what hangs off it) are the same for every visitor: they are kept for
a few seconds whatever changes, by `cached_public`, which fails open the same way.
"""

import hashlib
import logging
import os
import re
import secrets
import threading
import time
from contextlib import suppress
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from .access import session_used_mfa

log = logging.getLogger(__name__)

GENERATION_KEY = "switchboard:data-generation"
WRITE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+[`"]?(\w+)', re.IGNORECASE
)


# After a failure this process leaves the cache alone for a while: a Redis that does not answer
# would otherwise cost every page and every write a socket timeout.
CACHE_RETRY_SECONDS = 10
_cache_down_until = 0.0


class CacheUnavailable(Exception):
    pass


def _store():
    """The "pages" cache: plain Redis that raises when down (never a per-process stand-in, see
    core.cache_backends), or the default cache where no such alias is configured."""
    return caches["pages" if "pages" in settings.CACHES else "default"]


def _cache_call(method, *args):
    global _cache_down_until
    if time.monotonic() < _cache_down_until:
        raise CacheUnavailable
    try:
        return method(*args)
    except Exception as exc:
        _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
        log.warning("cache unreachable (%r): pages are rendered afresh for %d s", exc, CACHE_RETRY_SECONDS)
        raise CacheUnavailable from exc


# --- The data generation -------------------------------------------------------------------


def data_changed():
    """Make every stored page stale; returns the new token."""
    generation = secrets.token_hex(8)
    # If the cache is down, pages stored before the outage age out within PAGE_CACHE_SECONDS.
    with suppress(CacheUnavailable):
        _cache_call(_store().set, GENERATION_KEY, generation, None)
    return generation


def is_watched_write(sql):
    """True for a write to a table whose rows pages show (not one in settings.PAGE_CACHE_UNWATCHED_TABLES)."""
    match = WRITE.match(sql)
    return bool(match) and not match.group(1).lower().startswith(tuple(settings.PAGE_CACHE_UNWATCHED_TABLES))


def watch_writes(execute, sql, params, many, context):
    """Execute wrapper: a write to a Switchboard table changes the data generation."""
    result = execute(sql, params, many, context)
    if is_watched_write(sql):
        data_changed()
        connection = context["connection"]
        if connection.in_atomic_block:
            # Again after commit: a page rendered in between saw the data before this write.
            transaction.on_commit(data_changed, using=connection.alias)
    return result


def watch_connection(sender, connection, **kwargs):
    """connection_created receiver (core.apps): every database connection reports its writes."""
    if watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(watch_writes)


# --- Stored pages ----------------------------------------------------------------------------


def csrf_placeholder(request):
    """Context processor: while a page is being stored, its CSRF token is a placeholder."""
    placeholder = getattr(request, "csrf_placeholder", None)
    return {"csrf_token": placeholder} if placeholder else {}


def _code_version():
    """What identifies the code that renders pages: SWITCHBOARD_VERSION, else the sizes and times of its
    Python files and templates. Every process of one deploy agrees on it; a deploy changes it, so no
    page rendered by the old code is served by the new."""
    if os.environ.get("SWITCHBOARD_VERSION"):
        return os.environ["SWITCHBOARD_VERSION"]
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    # The apps (folders with an apps.py or __init__.py) and the templates; not the virtualenv or var/.
    folders = [f for f in sorted(root.iterdir()) if (f / "__init__.py").exists() and f.name not in ("tests", "bench")]
    files = [p for folder in folders for p in sorted(folder.rglob("*.py"))] + sorted(root.glob("templates/**/*.html"))
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


CODE_VERSION = _code_version()


def _page_key(request):
    user = request.user
    viewer = [
        CODE_VERSION,
        str(user.pk),
        timezone.get_current_timezone_name(),
        "mfa" if session_used_mfa(request) else "",
        "htmx" if request.htmx else "",
        "boosted" if request.htmx and request.htmx.boosted else "",
        "target=" + (request.htmx.target or "") if request.htmx else "",
        "history" if request.htmx and request.htmx.history_restore_request else "",
    ]
    minute = str(int(time.time() // 60))
    digest = hashlib.sha256("\n".join([minute, *viewer, request.get_full_path()]).encode())
    return f"switchboard:page:{digest.hexdigest()}"


def _stored_page(key):
    """The current data generation and the page stored under `key` if it is of that generation.

    One round trip: the generation and the page are fetched together.
    """
    found = _cache_call(_store().get_many, [GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY) or data_changed()
    stored = found.get(key)
    if stored is not None and stored[0] == generation:
        return generation, stored[1:]
    return generation, None


def _storable(response):
    return (
        response.status_code == 200
        and not response.cookies
        and not any(header.lower().startswith("hx-") for header in response.headers)
    )


def cached_for_viewer(view):
    """Serve a GET page from the store while its data is unchanged (see the module's docstring).

    Goes inside the access decorators: a stored page is only ever served to the viewer it was
    rendered for, after the same checks.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = settings.PAGE_CACHE_SECONDS
        if not seconds or request.method != "GET" or len(get_messages(request)):
            return view(request, *args, **kwargs)
        key = _page_key(request)
        try:
            # Read before the data: a page is never stored under a generation newer than its data.
            generation, stored = _stored_page(key)
        except CacheUnavailable:
            return view(request, *args, **kwargs)
        if stored is not None:
            placeholder, content, headers = stored
            return HttpResponse(content.replace(placeholder, get_token(request)), headers=headers)

        request.csrf_placeholder = placeholder = secrets.token_hex(16)
        try:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
        finally:
            del request.csrf_placeholder  # an error page rendered after this shows a real token
        if response.streaming:
            return response
        content = response.content.decode(response.charset)
        if _storable(response):
            with suppress(CacheUnavailable):
                _cache_call(_store().set, key, (generation, placeholder, content, dict(response.headers)), seconds)
        response.content = content.replace(placeholder, get_token(request))
        return response

    return wrapper


# --- Public pages ------------------------------------------------------------------------------

PUBLIC_PREFIX = "switchboard:public:"


# While the shared cache is down, each process keeps its own copies (a few hundred, as long as the
# shared cache would have): a crowd on /status/ in an outage that took Redis with it is still
# served from memory, not rendered once per visitor.
LOCAL_COPIES = 256
_local_copies = {}


def cached_public(key, seconds, render):
    """What `render()` returns, kept `seconds` under `key` for every visitor (front.views.public).

    Only for what anyone may read: the value is served to whoever asks with the same key, so it
    must hold nothing of the viewer (no name, no CSRF token) and the key must name everything
    from the request it depends on. While the cache does not answer, this process keeps its own
    copy for as long instead of failing the request. An exception from `render()` (a 404) is
    raised, not kept.
    """
    key = PUBLIC_PREFIX + key
    try:
        value = _cache_call(_store().get, key)
    except CacheUnavailable:
        return _local_copy(key, seconds, render)
    if value is None:
        value = render()
        with suppress(CacheUnavailable):
            _cache_call(_store().set, key, value, seconds)
    return value


_local_lock = threading.Lock()


def _local_copy(key, seconds, render):
    now = time.monotonic()
    found = _local_copies.get(key)
    if found is not None and found[0] > now:
        return found[1]
    value = render()
    with _local_lock:  # threaded servers (gthread, runserver) share the dict
        _local_copies.pop(key, None)
        while len(_local_copies) >= LOCAL_COPIES:
            _local_copies.pop(next(iter(_local_copies)), None)  # the oldest first
        _local_copies[key] = (now + seconds, value)
    return value
