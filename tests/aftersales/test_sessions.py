"""Sessions end after SESSION_IDLE_HOURS away and SESSION_ABSOLUTE_HOURS after signing in;
expired ones are deleted every night."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse

from aftersales import tasks
from tests.conftest import PASSWORD

START = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def signed_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def is_in(client):
    return client.get(reverse("whoami")).status_code == 200


def test_an_idle_session_ends_and_an_active_one_goes_on(client, dispatcher, settings):
    settings.SESSION_ABSOLUTE_HOURS = 48  # only the idle timeout here
    with time_machine.travel(START, tick=False):
        signed_in(client, dispatcher)
    with time_machine.travel(START + timedelta(hours=7), tick=False):
        assert is_in(client)  # 7 h away: still in, and the clock starts again
    with time_machine.travel(START + timedelta(hours=14), tick=False):
        assert is_in(client)  # 7 h after the last page
    with time_machine.travel(START + timedelta(hours=14 + 8, minutes=10), tick=False):
        assert not is_in(client)  # 8 h away


def test_a_session_ends_a_working_day_after_signing_in(client, dispatcher):
    with time_machine.travel(START, tick=False):
        signed_in(client, dispatcher)
    for hours in range(1, 12):
        with time_machine.travel(START + timedelta(hours=hours), tick=False):
            assert is_in(client)
    with time_machine.travel(START + timedelta(hours=12, minutes=1), tick=False):
        response = client.get(reverse("tickets:list"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert not is_in(client)


def test_expired_sessions_are_deleted_at_night(client, dispatcher):
    with time_machine.travel(START, tick=False):
        signed_in(client, dispatcher)
    assert Session.objects.count() == 1
    with time_machine.travel(START + timedelta(hours=9), tick=False):
        assert tasks.clear_sessions() == 1
    assert Session.objects.count() == 0


def test_no_self_service_password_reset_sends_mail_to_whoever_asks(client, dispatcher, mailoutbox):
    """Passwords are set by administrators; the reset pages Django offers are not served."""
    for path in ("/accounts/password_reset/", "/accounts/password_change/"):
        assert client.get(path).status_code == 404
    for _ in range(3):
        client.post("/accounts/password_reset/", {"email": dispatcher.email or "a@example.com"})
    assert mailoutbox == []
    assert client.get(reverse("login")).status_code == 200
