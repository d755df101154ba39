"""The database-backed limits of the customer's pages (aftersales.throttle) and the SMS codes
(aftersales.verification)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from aftersales import throttle, verification
from aftersales.models import PhoneCode, Throttle

pytestmark = pytest.mark.django_db


def test_a_limit_counts_per_window_and_per_key():
    now = timezone.now().replace(minute=10, second=0)
    assert [throttle.hit("x", "a", "2/h", now=now) for _ in range(3)] == [True, True, False]
    assert throttle.hit("x", "b", "2/h", now=now)  # another key
    assert throttle.hit("y", "a", "2/h", now=now)  # another purpose
    assert throttle.hit("x", "a", "2/h", now=now + timedelta(hours=1))  # the next window
    # Stored hashed: the table holds no number.
    throttle.hit("report-mobile", "13912345678", "2/h", now=now)
    assert not any("13912345678" in k for k in Throttle.objects.values_list("key", flat=True))


def test_old_windows_and_codes_are_swept():
    old = timezone.now() - timedelta(days=2)
    throttle.hit("x", "a", "5/h", now=old)
    throttle.hit("x", "a", "5/h")
    verification.send_code("13912345678", "report")
    PhoneCode.objects.update(expires_at=old)
    verification.send_code("13912345678", "report")
    assert throttle.sweep() == 1 and Throttle.objects.count() == 1
    assert verification.sweep() == 1 and PhoneCode.objects.count() == 1


def test_a_code_expires():
    from aftersales.models import Delivery

    verification.send_code("13912345678", "report")
    code = Delivery.objects.get().payload["text"].split("验证码是 ")[1][:6]
    PhoneCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not verification.check_code("13912345678", "report", code)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_pass_the_limit():
    """Twelve requests at once against a limit of five: exactly five pass (one upsert each)."""
    barrier = threading.Barrier(12)
    results = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            results.append(throttle.hit("race", "13912345678", "5/h"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 12
    assert results.count(True) == 5
    assert Throttle.objects.get().hits == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(PORTAL_MOBILE_LIMIT="3/h", PORTAL_IP_LIMIT="100/h")
def test_concurrent_code_requests_send_at_most_the_limit():
    """Eight browsers ask for a code for one number at once: three SMS go out."""
    from aftersales.models import Delivery

    barrier = threading.Barrier(8)
    statuses = []

    def ask():
        try:
            client = Client()
            barrier.wait(timeout=10)
            statuses.append(client.post(reverse("portal"), {"mobile": "13912345678"}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [302, 302, 302, 400, 400, 400, 400, 400]
    assert Delivery.objects.filter(target="13912345678").count() == 3
