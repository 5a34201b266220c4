"""A Redis cache that keeps working, in this process's memory, while Redis does not answer.

What allauth keeps in the cache (login rate limits, used TOTP codes) and the throttles must not
turn a Redis outage into "nobody can log in": the default cache is this one. While Redis fails,
each call goes to a local memory cache instead, and Redis is left alone for RETRY_SECONDS (a dead
Redis would otherwise cost every call its socket timeout). Rate limits and used TOTP codes are then
per process and forget what Redis held: for the length of the outage a code already used (observed
together with the password) could be used once more on each web process within its 90 s window, and
a code used during the outage once more after Redis is back. That is the price of not locking every
volunteer out; the password is still needed, and every operator action is on the timeline.

Stored pages (core.page_cache) use the plain "pages" alias instead: a per-process generation
would let one process serve pages another process knows are stale.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 10
COUNTER_PREFIX = "switchboard:throttle:"  # core.throttle's keys
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError)
# When each Redis (by location) may be tried again, for the whole process.
_down_until = {}


class FallbackRedisCache(RedisCache):
    """Django's Redis cache; while Redis does not answer, a memory cache of this process's own."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._where = str(server)
        self._memory = LocMemCache(f"fallback:{self._where}", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
        # Throttle counters apart: a flood from many addresses must not evict used codes and rate limits.
        self._counters = LocMemCache(f"fallback-counters:{self._where}", {"OPTIONS": {"MAX_ENTRIES": 10_000}})

    def _call(self, name, *args, **kwargs):
        if time.monotonic() >= _down_until.get(self._where, 0.0):
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                _down_until[self._where] = time.monotonic() + RETRY_SECONDS
                logger.warning(
                    "Redis cache unavailable (%s): using this process's memory for %d s",
                    type(exc).__name__,
                    RETRY_SECONDS,
                )
        counter = bool(args) and isinstance(args[0], str) and args[0].startswith(COUNTER_PREFIX)
        return getattr(self._counters if counter else self._memory, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def clear(self):
        self._memory.clear()
        self._counters.clear()
        return self._call("clear")
