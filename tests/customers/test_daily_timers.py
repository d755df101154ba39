"""The customers app's daily timers: maintenance plans fall due once per planned date (the
tickets app turns each into a service request), renewal and warranty reminders go out once,
and the warranty SMS (automated) wait out the quiet hours: written at night, sent once in the
morning (the clock is moved with time-machine)."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from aftersales import checks, notifications, sms
from aftersales.lib import quiet_hours
from aftersales.models import BusinessCalendar, Delivery
from aftersales.notifications import send_sms
from aftersales.roles import Role
from customers import timers
from customers.models import MaintenancePlan
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    ServiceAgreementFactory,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def statutory():
    return BusinessCalendar.objects.get(code="cn-statutory")


@pytest.fixture
def customer():
    return CustomerFactory()


def test_maintenance_plan_creates_each_ticket_once(customer):
    unit = EquipmentFactory(customer=customer)
    plan = MaintenancePlan.objects.create(
        name="季度保养",
        kind=MaintenancePlan.Kind.MAINTENANCE,
        equipment=unit,
        interval_months=3,
        next_date=date(2026, 11, 30),
        lead_days=7,
    )
    assert timers.daily(date(2026, 11, 22))["plan_work"] == 0  # not yet
    assert timers.daily(date(2026, 11, 23))["plan_work"] == 1
    assert timers.daily(date(2026, 11, 23))["plan_work"] == 0  # twice changes nothing
    ticket = Ticket.objects.get(plan=plan)
    assert (ticket.plan_date, ticket.requested_date, ticket.service_type) == (
        date(2026, 11, 30),
        date(2026, 11, 30),
        "maintenance",
    )
    assert ticket.log.get().actor is None
    plan.refresh_from_db()
    assert plan.next_date == date(2027, 2, 28)


def test_renewal_and_warranty_reminders_once(statutory, make_user, caplog):
    from tests.factories import ContactFactory

    dispatcher = make_user(Role.DISPATCHER)
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True, mobile="13900001111")
    agreement = ServiceAgreementFactory(
        customer=customer, start_date=date(2025, 12, 1), end_date=date(2026, 12, 10)
    )
    EquipmentFactory(customer=customer, warranty_end=date(2026, 12, 5))
    with caplog.at_level("INFO", logger="aftersales.sms"):
        first = timers.daily(date(2026, 11, 23))
        second = timers.daily(date(2026, 11, 24))
    assert first["renewals"] >= 1 and second["renewals"] >= 1
    assert dispatcher.notifications.filter(url=agreement.get_absolute_url()).count() == 1
    from aftersales.models import Delivery

    assert Delivery.objects.filter(channel="sms", target="13900001111").count() == 1


# --- Quiet hours: warranty SMS go out in the morning -------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    """A moment of local (Shanghai) time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


class RecordingSms:
    """An SMS gateway that keeps what it was asked to send."""

    sent = []

    def send(self, mobile, text):
        self.sent.append((mobile, text))


@pytest.fixture
def gateway(settings, monkeypatch):
    """Messages reach RecordingSms; queued deliveries run at once, in-process (the task)."""
    from aftersales import tasks

    settings.SMS_BACKEND = f"{__name__}.RecordingSms"
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    RecordingSms.sent = []
    monkeypatch.setattr(tasks.deliver, "delay", lambda pk: tasks.deliver.apply(args=[pk]))
    return RecordingSms.sent


@pytest.fixture
def expiring_unit():
    """A unit whose warranty ends within the reminder window of 2026-11-23 and 24."""
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True, mobile="13900002222")
    return EquipmentFactory(customer=customer, warranty_end=date(2026, 12, 5))


def run_job(moment, callbacks):
    """The daily job at `moment`, its transaction committed (on_commit callbacks run)."""
    with time_machine.travel(moment, tick=False), callbacks(execute=True):
        return timers.daily(timezone.localdate())


def sweep(moment, callbacks):
    """The outbox's every-minute sweep at `moment`; returns how many rows it queued."""
    with time_machine.travel(moment, tick=False), callbacks(execute=True):
        return notifications.requeue_due()


def test_a_reminder_found_at_night_is_sent_once_in_the_morning(
    gateway, expiring_unit, django_capture_on_commit_callbacks
):
    assert run_job(at(23, 22), django_capture_on_commit_callbacks)["warranty_sms"] == 1
    assert gateway == []  # 22:00: nothing sent
    delivery = Delivery.objects.get(channel="sms", target="13900002222")
    assert delivery.status == "pending"
    assert delivery.next_attempt_at == at(24, 8)  # due when the quiet hours end

    # The sweep's runs through the night, up to the last quiet minute, send nothing.
    for moment in (at(23, 23), at(24, 0, 30), at(24, 6, 5), at(24, 7, 59)):
        assert sweep(moment, django_capture_on_commit_callbacks) == 0
    assert gateway == []

    # The first run after 08:00 sends it; later runs and the next day's job do not again.
    assert sweep(at(24, 8, 1), django_capture_on_commit_callbacks) == 1
    assert sweep(at(24, 8, 2), django_capture_on_commit_callbacks) == 0
    assert run_job(at(24, 9), django_capture_on_commit_callbacks)["warranty_sms"] == 0
    assert [mobile for mobile, _text in gateway] == ["13900002222"]
    assert expiring_unit.serial_no in gateway[0][1]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_the_morning_job_at_six_writes_reminders_that_go_out_at_eight(
    gateway, expiring_unit, django_capture_on_commit_callbacks
):
    run_job(at(23, 6, 5), django_capture_on_commit_callbacks)  # beat's time for the job
    assert gateway == []
    assert Delivery.objects.get(channel="sms").next_attempt_at == at(23, 8)
    assert sweep(at(23, 8, 1), django_capture_on_commit_callbacks) == 1
    assert len(gateway) == 1


def test_in_the_daytime_a_reminder_goes_out_at_once(
    gateway, expiring_unit, django_capture_on_commit_callbacks
):
    run_job(at(23, 20, 59), django_capture_on_commit_callbacks)
    assert len(gateway) == 1
    assert Delivery.objects.get(channel="sms").status == "sent"


def test_the_sender_holds_an_automated_sms_it_is_handed_in_quiet_hours(
    gateway, expiring_unit, django_capture_on_commit_callbacks
):
    run_job(at(23, 23), django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(channel="sms")
    # A duplicate message or a retry reaching a worker at 07:59: held, no attempt counted.
    with time_machine.travel(at(24, 7, 59), tick=False):
        assert notifications.send_delivery(delivery.pk) is None
    delivery.refresh_from_db()
    assert (gateway, delivery.status, delivery.attempts) == ([], "pending", 0)
    assert delivery.next_attempt_at == at(24, 8)
    with time_machine.travel(at(24, 8), tick=False):
        notifications.send_delivery(delivery.pk)
        notifications.send_delivery(delivery.pk)
    assert len(gateway) == 1  # at 08:00: sent, once


def test_a_message_a_person_sends_at_night_is_not_held(gateway, django_capture_on_commit_callbacks):
    """Only automated messages wait: a tracking link a dispatcher sends at 22:00 goes now."""
    with (
        time_machine.travel(at(23, 22), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_sms("13900003333", "您的服务单进度", key="tracking:1:1")
    assert gateway == [("13900003333", "您的服务单进度")]


def test_quiet_hours_can_be_switched_off(
    gateway, settings, expiring_unit, django_capture_on_commit_callbacks
):
    settings.SMS_QUIET_HOURS = "off"
    run_job(at(23, 23), django_capture_on_commit_callbacks)
    assert len(gateway) == 1


@pytest.mark.parametrize(
    ("moment", "quiet", "ends"),
    [
        (at(23, 20, 59), False, at(23, 20, 59)),
        (at(23, 21), True, at(24, 8)),
        (at(23, 23), True, at(24, 8)),
        (at(23, 23, 59), True, at(24, 8)),
        (at(24, 0), True, at(24, 8)),
        (at(24, 7, 59), True, at(24, 8)),
        (at(24, 8), False, at(24, 8)),
        (at(24, 12), False, at(24, 12)),
        # 14:30 UTC is 22:30 in Shanghai: the site's local time counts.
        (datetime(2026, 11, 23, 14, 30, tzinfo=UTC), True, at(24, 8)),
    ],
)
def test_quiet_hours_across_midnight(moment, quiet, ends):
    hours = quiet_hours.parse("21:00-08:00")
    assert hours.contains(moment) is quiet
    assert hours.end_after(moment) == ends


def test_quiet_hours_within_one_day():
    hours = quiet_hours.parse("12:00-13:30")
    assert not hours.contains(at(23, 11, 59))
    assert hours.end_after(at(23, 12)) == at(23, 13, 30)
    assert not hours.contains(at(23, 13, 30))


@pytest.mark.parametrize(
    "value", ["21:00", "21-08", "25:00-08:00", "21:00-08:60", "8:00-8:00", "夜间"]
)
def test_a_misread_quiet_hours_setting_is_a_system_check_error(settings, value):
    settings.SMS_QUIET_HOURS = value
    [error] = checks.sms_quiet_hours_readable(None)
    assert error.id == "aftersales.E010"
    assert value in error.msg
    with pytest.raises(ImproperlyConfigured, match="SMS_QUIET_HOURS"):
        sms.quiet_hours()


@pytest.mark.parametrize("value", ["21:00-08:00", " 22:30 - 7:00 ", "off", ""])
def test_readable_quiet_hours_pass_the_check(settings, value):
    settings.SMS_QUIET_HOURS = value
    assert checks.sms_quiet_hours_readable(None) == []


def test_the_site_refuses_to_start_with_misread_quiet_hours():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "SMS_QUIET_HOURS": "21:00-8"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "aftersales.E010" in result.stderr
    assert "SMS_QUIET_HOURS" in result.stderr
