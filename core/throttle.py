"""Who is asking, and how often: the client's address behind the co-op's proxy, and per-minute limits.

Limits are counted in the cache and fail open: with Redis down nothing is throttled, because
refusing a backup job's ping or a volunteer's login is worse than a flood getting through.
"""

import hashlib
import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def client_ip(request):
    """The client's address: the TRUSTED_PROXY_COUNT-th from the right of X-Forwarded-For, else REMOTE_ADDR."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    candidate = forwarded[-count] if count > 0 and len(forwarded) >= count else request.META.get("REMOTE_ADDR", "")
    return _address(candidate) or _address(request.META.get("REMOTE_ADDR", ""))


def _address(text):
    """The IP address in "203.0.113.9", "203.0.113.9:51234", "2001:db8::1" or "[2001:db8::1]:443"; None if none."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def client_key(address):
    """What a per-client limit counts: the address, or for IPv6 its /64 (one host may hold a whole /64)."""
    if address and ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return address or "unknown"


def allow(scope, key, limit, *, per_seconds=60):
    """Count one more request for `key` in this window; False once more than `limit` came. True if the cache is down."""
    if limit <= 0:
        return True
    window = int(time.time() // per_seconds)
    digest = hashlib.sha256(str(key).encode()).hexdigest()[:24]
    name = f"switchboard:throttle:{scope}:{digest}:{window}"
    try:
        count = 1 if cache.add(name, 1, per_seconds + 5) else cache.incr(name)
    except Exception as exc:  # noqa: BLE001 - any cache failure: let it through
        logger.warning("throttle %s: cache unavailable (%s), not throttling", scope, type(exc).__name__)
        return True
    return count <= limit
