"""Who the client is behind proxies, login lock-outs by account and by address, HTTPS and HSTS
settings, and the address that links in messages point at."""

import re
import socket

import pytest
from axes.models import AccessAttempt
from django.core.checks import Error
from django.test import RequestFactory
from django.urls import reverse

from aftersales import caching, checks
from aftersales.lib.client_ip import client_ip
from tests.conftest import PASSWORD
from tests.test_infra import BASE_DIR, run_settings

PROXY = "10.0.0.2"


# --- The client's address ---------------------------------------------------------------------


def address(forwarded_for=None, remote=PROXY):
    meta = {"REMOTE_ADDR": remote}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client_ip(RequestFactory().get("/", **meta))


def test_without_proxies_a_forwarded_for_header_is_the_clients_word_and_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert address("198.51.100.7", remote="203.0.113.5") == "203.0.113.5"


def test_with_one_proxy_the_client_is_the_right_most_entry(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sent "1.2.3.4"; our proxy appended the address it saw.
    assert address("1.2.3.4, 198.51.100.7") == "198.51.100.7"
    assert address("198.51.100.7") == "198.51.100.7"


def test_with_two_proxies_the_client_is_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert address("1.2.3.4, 198.51.100.7, 10.0.0.1") == "198.51.100.7"


def test_a_request_that_bypassed_the_proxies_counts_by_its_own_address(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert address("198.51.100.7", remote="203.0.113.5") == "203.0.113.5"
    assert address(None, remote="203.0.113.5") == "203.0.113.5"
    settings.TRUSTED_PROXY_COUNT = 1
    assert address("", remote="203.0.113.5") == "203.0.113.5"
    assert address("not-an-address", remote="203.0.113.5") == "203.0.113.5"
    assert address(" 2001:DB8::1 ") == "2001:db8::1"  # one spelling per address


def limited_codes(client, forwarded_for, remote=PROXY, times=4):
    url = reverse("ticket_public", args=["no-such-token"])  # 404 until the limit answers 429
    return [
        client.get(url, REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=ip).status_code
        for ip in forwarded_for(times)
    ]


def test_a_spoofed_forwarded_for_does_not_escape_the_rate_limit(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.PUBLIC_RATE_LIMIT = "3/m"
    codes = limited_codes(client, lambda n: [f"198.51.100.{i}" for i in range(n)])
    assert codes == [404, 404, 404, 429]


def test_behind_a_proxy_each_client_has_its_own_rate_limit(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PUBLIC_RATE_LIMIT = "3/m"
    # Four clients through the same proxy: not one shared bucket for the proxy's address.
    assert limited_codes(client, lambda n: [f"198.51.100.{i}" for i in range(n)]) == [404] * 4
    # One client, whatever it puts in front of the header itself.
    codes = limited_codes(client, lambda n: [f"{i}.{i}.{i}.{i}, 198.51.100.99" for i in range(n)])
    assert codes == [404, 404, 404, 429]


# --- Login lock-out ---------------------------------------------------------------------------


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 30
    return settings


def log_in(client, username, password, ip="203.0.113.9", **extra):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **extra,
    )


def test_one_password_sprayed_over_many_accounts_locks_the_address(
    lockout, client, dispatcher, make_user
):
    lockout.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for i in range(5):
        assert log_in(client, f"user{i}", "Spring2026!").status_code == 200  # form error
    refused = log_in(client, "user5", "Spring2026!")
    assert refused.status_code == 429
    assert "您所在的网络登录失败次数过多" in refused.content.decode()
    # From that address even a right password waits for the cool-off; elsewhere it works.
    assert log_in(client, dispatcher.username, PASSWORD).status_code == 429
    assert log_in(client, dispatcher.username, PASSWORD, ip="198.51.100.1").status_code == 302


def test_a_few_typos_in_one_office_lock_nobody_else_out(lockout, client, make_user):
    """An office behind one NAT address: typos by several people, and one person locked."""
    staff = [make_user("dispatcher", username=f"desk{i}") for i in range(6)]
    for person in staff:
        for _ in range(2):
            assert log_in(client, person.username, "typo").status_code == 200
    unlucky = make_user("engineer", username="unlucky")
    for _ in range(4):
        log_in(client, unlucky.username, "typo")
    locked = log_in(client, unlucky.username, "typo")
    assert locked.status_code == 429
    assert "该账号已被禁止从您的设备登录" in locked.content.decode()  # the account, not the office
    for person in staff:
        assert log_in(client, person.username, PASSWORD).status_code == 302
        client.post(reverse("logout"))


def test_behind_a_proxy_the_lockout_counts_each_client_not_the_proxy(lockout, client, dispatcher):
    lockout.TRUSTED_PROXY_COUNT = 1
    lockout.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for i in range(5):
        log_in(client, f"user{i}", "x", ip=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        f"198.51.100.{i}" for i in range(5)
    }
    ok = log_in(client, dispatcher.username, PASSWORD, ip=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert ok.status_code == 302


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_staff_log_in_with_redis_down_and_the_address_limit_still_counts(
    lockout, client, dispatcher
):
    """The lock-out counts in the database: a stopped Redis neither blocks logins nor lifts
    the limit."""
    lockout.CACHES = {
        "default": {
            "BACKEND": "aftersales.caching.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    caching._down["until"] = 0.0
    try:
        assert log_in(client, dispatcher.username, PASSWORD).status_code == 302
        assert client.get(reverse("tickets:list")).status_code == 200
        client.post(reverse("logout"))
        lockout.LOGIN_ADDRESS_FAILURE_LIMIT = 3
        codes = [log_in(client, f"user{i}", "x", ip="192.0.2.50").status_code for i in range(3)]
        assert codes == [200, 200, 429]
    finally:
        caching._down["until"] = 0.0


def test_the_address_limit_comes_from_the_environment():
    code = "from django.conf import settings as s; print(s.LOGIN_ADDRESS_FAILURE_LIMIT)"
    assert run_settings(code, DEBUG="1").stdout.split() == ["30"]
    configured = run_settings(code, DEBUG="1", LOGIN_ADDRESS_FAILURE_LIMIT="50")
    assert configured.stdout.split() == ["50"]


# --- HTTPS and HSTS ---------------------------------------------------------------------------


def test_the_https_header_is_trusted_only_behind_a_configured_proxy():
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    assert run_settings(code, DEBUG="1").stdout.split() == ["None"]
    behind = run_settings(code, DEBUG="1", TRUSTED_PROXY_COUNT="1").stdout.strip()
    assert behind == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_client_claiming_https_without_a_proxy_is_still_redirected(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert settings.SECURE_PROXY_SSL_HEADER is None  # the test settings have no proxy
    response = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")


def test_behind_a_proxy_its_https_header_is_believed(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https").status_code == 200


def test_probes_are_answered_over_plain_http(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("readyz")).status_code in (200, 503)  # answered, not redirected
    assert client.get(reverse("login")).status_code == 301


def test_hsts_subdomains_and_preload_are_separate_opt_ins():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
    )
    year = "31536000"
    assert run_settings(code, DEBUG="1", SECURE_HSTS_SECONDS=year).stdout.split() == [
        year,
        "False",
        "False",
    ]
    subdomains = run_settings(
        code, DEBUG="1", SECURE_HSTS_SECONDS=year, SECURE_HSTS_INCLUDE_SUBDOMAINS="1"
    )
    assert subdomains.stdout.split() == [year, "True", "False"]
    both = run_settings(
        code,
        DEBUG="1",
        SECURE_HSTS_SECONDS=year,
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
    )
    assert both.stdout.split() == [year, "True", "True"]


def test_the_hsts_header_names_only_what_was_opted_into(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    settings.SECURE_HSTS_PRELOAD = False
    assert client.get(reverse("healthz"), secure=True)["Strict-Transport-Security"] == (
        "max-age=3600"
    )


# --- SITE_URL ---------------------------------------------------------------------------------


def test_without_debug_a_missing_site_url_is_a_check_error(settings):
    settings.DEBUG = False
    settings.SITE_URL = ""
    errors = checks.site_url_is_set(None)
    assert [(type(e), e.id) for e in errors] == [(Error, "aftersales.E003")]
    settings.SITE_URL = "service.example.com"  # links would be relative to the mail reader
    assert [e.id for e in checks.site_url_is_set(None)] == ["aftersales.E003"]
    settings.SITE_URL = "https://service.example.com"
    assert checks.site_url_is_set(None) == []


def test_manage_py_check_stops_without_site_url_when_debug_is_off():
    code = "from django.core.management import execute_from_command_line as m; m(['', 'check'])"
    missing = run_settings(code, DEBUG="0", SECRET_KEY="x" * 50)
    assert missing.returncode != 0 and "aftersales.E003" in missing.stderr
    given = run_settings(
        code, DEBUG="0", SECRET_KEY="x" * 50, SITE_URL="https://service.example.com"
    )
    assert given.returncode == 0, given.stderr


def test_in_debug_links_point_at_the_demos_own_address():
    result = run_settings("from django.conf import settings as s; print(s.SITE_URL)", DEBUG="1")
    demo = re.search(r"Web: (http://\S+?)/? ", (BASE_DIR / "Makefile").read_text()).group(1)
    assert result.stdout.split() == [demo]
