"""What many pages show and what changes seldom, kept in the cache between requests.

- `remembered(name, build)`: a short list or count (the desk's select boxes, the queue counts)
  kept until `forget(name)` runs after a change is committed. Names that depend on the language
  are per language: `per_language(name)`.
- `AuthFactsBackend`: each user's permissions and roles, read once and then from the cache,
  instead of three queries on every page. Any change to users, groups or permissions makes every
  cached entry stale at once (one generation number, read in the same round trip).

The timeout is a backstop for changes that send no signal (a raw UPDATE, or the in-process
cache of another process in the embedded setup).
"""

import functools
import logging
import time

import redis
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.cache.backends import redis as django_redis
from django.db import transaction
from django.utils.translation import get_language

TIMEOUT = 300


def per_language(name):
    return f"{name}:{get_language() or settings.LANGUAGE_CODE}"


def remembered(name, build, timeout=TIMEOUT):
    value = cache.get(name)
    if value is None:
        value = build()
        cache.set(name, value, timeout)
    return value


def forget(*names):
    """Drop these entries now and again once the current transaction commits (a request that
    rebuilt one in between read the data before the change).

    A name ending in ":*" means every language's entry of that name.
    """
    keys = []
    for name in names:
        if name.endswith(":*"):
            keys += [f"{name[:-2]}:{code}" for code, _label in settings.LANGUAGES]
        else:
            keys.append(name)
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


# --- Users' permissions and roles -----------------------------------------------------------

AUTH_GENERATION = "auth:generation"


def forget_auth_facts():
    """Every user's cached permissions and roles are stale (now and again after commit)."""
    _next_generation()
    transaction.on_commit(_next_generation)


def _next_generation():
    try:
        cache.incr(AUTH_GENERATION)
    except ValueError:  # not there yet (or evicted): any new value makes old entries stale
        cache.set(AUTH_GENERATION, 1, None)


def auth_facts(user):
    """{"user": perms, "group": perms, "roles": names} of an active user, one cache round trip."""
    facts = getattr(user, "_auth_facts", None)
    if facts is not None:
        return facts
    key = f"auth:{user.pk}"
    found = cache.get_many([AUTH_GENERATION, key])
    generation = found.get(AUTH_GENERATION, 0)
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        facts = entry[1]
    else:
        backend = ModelBackend()
        facts = {
            "user": frozenset(backend._get_permissions(user, None, "user")),
            "group": frozenset(backend._get_permissions(user, None, "group")),
            "roles": frozenset(user.groups.values_list("name", flat=True)),
        }
        cache.set(key, (generation, facts), TIMEOUT)
    user._auth_facts = facts
    return facts


class AuthFactsBackend(ModelBackend):
    """Django's ModelBackend with each user's permissions from `auth_facts`."""

    def _get_permissions(self, user_obj, obj, from_name):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super()._get_permissions(user_obj, obj, from_name)
        return auth_facts(user_obj)[from_name]


# --- The Redis cache backend -----------------------------------------------------------------


class _ReusedRedisClient(django_redis.RedisCacheClient):
    """Django's client, keeping one redis.Redis per connection pool: Django makes a new one for
    every cache call, and building its table of ~170 reply parsers cost ~0.3 ms each time."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


# When Redis does not answer, each process stops asking it for this many seconds.
DOWN_FOR = 5.0

log = logging.getLogger("aftersales.caching")
_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _fail_soft(answer):
    """Wrap a cache method: when Redis is unreachable (refused, timed out), log it once, answer
    as an empty cache would (`answer(*args, **kwargs)`) and stop asking for DOWN_FOR seconds."""

    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            if redis_resting():
                return answer(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except _UNREACHABLE as error:
                _down["until"] = time.monotonic() + DOWN_FOR
                log.warning(
                    "Redis unreachable, pages read the database for %ss: %s", DOWN_FOR, error
                )
                return answer(*args, **kwargs)

        return call

    return wrap


_down = {"until": 0.0}  # per process: every thread of a worker rests together


def redis_resting():
    """True while this process does not ask Redis (it failed to answer in the last DOWN_FOR
    seconds): callers that would only wait for it (publishing a task) skip it too."""
    return time.monotonic() < _down["until"]


def _get_default(key, default=None, version=None):
    return default


class RedisCache(django_redis.RedisCache):
    """django.core.cache.backends.redis.RedisCache with `_ReusedRedisClient` (settings.CACHES),
    and fail-soft: the cache is an optimisation, so when Redis is down every call answers as a
    miss (pages rebuild from the database), writes are dropped, and `incr` answers None (a page
    view's rate limit then lets it through: RATELIMIT_FAIL_OPEN; the customer's actions are
    counted in the database, aftersales.throttle). Short
    socket timeouts (OPTIONS in settings.CACHES) bound the wait for a Redis that hangs.

    Entries that a change should have dropped while Redis was down stay until their timeout
    (TIMEOUT, five minutes) once it is back.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedRedisClient

    get = _fail_soft(_get_default)(django_redis.RedisCache.get)
    get_many = _fail_soft(lambda *a, **k: {})(django_redis.RedisCache.get_many)
    has_key = _fail_soft(lambda *a, **k: False)(django_redis.RedisCache.has_key)
    add = _fail_soft(lambda *a, **k: False)(django_redis.RedisCache.add)
    set = _fail_soft(lambda *a, **k: None)(django_redis.RedisCache.set)
    set_many = _fail_soft(lambda *a, **k: [])(django_redis.RedisCache.set_many)
    touch = _fail_soft(lambda *a, **k: False)(django_redis.RedisCache.touch)
    delete = _fail_soft(lambda *a, **k: False)(django_redis.RedisCache.delete)
    delete_many = _fail_soft(lambda *a, **k: None)(django_redis.RedisCache.delete_many)
    incr = _fail_soft(lambda *a, **k: None)(django_redis.RedisCache.incr)
    clear = _fail_soft(lambda *a, **k: None)(django_redis.RedisCache.clear)

    def ping(self):
        """True when Redis answers now (for the readiness check; ignores the pause)."""
        try:
            return bool(self._cache.get_client().ping())
        except _UNREACHABLE:
            return False
