"""Redis down or hanging: the cache is an optimisation, so the pages still answer from the
database, an action still goes through (its notifications wait for the outbox's sweep), the
customer's pages still open and take fault reports (their costly actions are limited in the
database) and /readyz says what is down.

Each test runs its own redis-server on a spare port and stops or pauses it mid-test.
"""

import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.urls import reverse

from aftersales import caching
from tests.factories import enter_ticket, ticket_in_state
from tickets.models import State

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (apt-get install redis-server)"
)


def spare_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_redis(settings):
    port = spare_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    settings.CACHES = {
        "default": {
            "BACKEND": "aftersales.caching.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "outage",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    caching._down["until"] = 0.0
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.kill()
    process.wait()
    caching._down["until"] = 0.0


def timed_get(client, url):
    started = time.monotonic()
    response = client.get(url)
    return response.status_code, time.monotonic() - started


def test_pages_and_actions_work_with_redis_stopped(own_redis, dispatcher, engineer, client_for):
    ticket = enter_ticket(dispatcher)
    client = client_for(dispatcher)
    pages = [
        reverse("tickets:list"),
        reverse("tickets:detail", args=[ticket.pk]),
        reverse("customers:list"),
        reverse("notifications:list"),
    ]
    assert [timed_get(client, url)[0] for url in pages] == [200] * len(pages)  # cache warm

    own_redis.kill()
    own_redis.wait()
    answers = [timed_get(client, url) for url in pages]
    assert [status for status, _ in answers] == [200] * len(pages)
    assert sum(seconds for _, seconds in answers) < 3

    ticket.refresh_from_db()
    response = client.post(
        reverse("tickets:act", args=[ticket.pk, "assign"]),
        {"version": ticket.version, "engineer": engineer.pk},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == State.ASSIGNED
    jobs = client_for(engineer).get(reverse("mobile:jobs"))
    assert jobs.status_code == 200 and ticket.number in jobs.content.decode()


def test_a_hanging_redis_costs_a_page_half_a_second_once(own_redis, dispatcher, client_for):
    client = client_for(dispatcher)
    desk = reverse("tickets:list")
    assert timed_get(client, desk)[0] == 200
    own_redis.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
    first = timed_get(client, desk)
    then = timed_get(client, desk)
    assert (first[0], then[0]) == (200, 200)
    assert first[1] < 2.5 and then[1] < 1


def test_customers_still_report_and_follow_with_redis_down(
    own_redis, dispatcher, engineer, client, settings
):
    from tests.factories import EquipmentFactory
    from tickets.models import Ticket

    settings.PORTAL_MOBILE_LIMIT = "1/h"
    ticket = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    url = reverse("ticket_public", args=[ticket.public_token])
    assert client.get(url).status_code == 200
    own_redis.kill()
    own_redis.wait()
    assert client.get(url).status_code == 200
    unit = EquipmentFactory()
    report = reverse("qr_landing", args=[unit.qr_token])
    assert client.get(report).status_code == 200
    data = {"description": "不制冷", "contact_name": "王女士", "mobile": "13912345678"}
    assert client.post(report, data).status_code == 302
    # The limit per mobile number still counts, in the database.
    data["new"] = "1"
    assert client.post(report, data).status_code == 429
    assert Ticket.objects.filter(equipment=unit).count() == 1


def test_readyz_says_what_is_down(own_redis, client, db):
    up = client.get(reverse("readyz"))
    assert up.status_code == 200, up.json()
    assert up.status_code == 200 and up.json()["redis"] == "ok" and up.json()["database"] == "ok"
    own_redis.kill()
    own_redis.wait()
    down = client.get(reverse("readyz"))
    assert down.status_code == 503
    assert down.json() == {**down.json(), "ready": False, "redis": "down", "database": "ok"}
    assert client.get(reverse("healthz")).status_code == 200  # liveness: the process answers


def test_the_cache_is_used_again_once_redis_is_back(own_redis, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(caching, "DOWN_FOR", 0.2)
    own_redis.send_signal(signal.SIGSTOP)
    cache.set("k", 1)  # times out: the cache rests
    assert caching.redis_resting()
    own_redis.send_signal(signal.SIGCONT)
    time.sleep(0.3)
    cache.set("k", 2)
    assert cache.get("k") == 2 and not caching.redis_resting()
