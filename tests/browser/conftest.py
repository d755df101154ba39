"""What every browser journey shares."""

import pytest


@pytest.fixture(autouse=True)
def _public_pages_unlimited(settings):
    """A journey's own page views (and earlier tests' in the same minute) all come from
    127.0.0.1: the public pages' per-address limit is not what a journey tests (tests of the
    limits set their own)."""
    settings.PUBLIC_RATE_LIMIT = "100000/m"
