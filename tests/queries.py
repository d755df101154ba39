"""Counting the SQL queries a page makes, for the query budgets (STYLE 24): a page's count must
not grow with its rows, so tests compare the count at two data sizes."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import cache


def capture_queries():
    """`with capture_queries() as queries:` then len(queries), or q["sql"] for q in queries."""
    return CaptureQueriesContext(connection)


def count_queries(client, url, data=None):
    """The number of queries a GET of `url` makes, with nothing remembered in the cache (the
    page's most expensive case); the answer must be 200."""
    cache.empty()
    with capture_queries() as queries:
        response = client.get(url, data)
    assert response.status_code == 200, url
    return len(queries)
