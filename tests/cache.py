"""The product's cache entries (aftersales.caching), emptied between tests and before a query
count: a count measures the pages' work with nothing remembered, its most expensive case."""

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache


def empty():
    """Drop the product's keys; in Redis only those (the database may carry a worker's queues)."""
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
