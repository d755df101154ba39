"""SMS to customers behind a pluggable backend (setting SMS_BACKEND, a dotted class path).

A backend is a class whose instances have `send(mobile, text) -> None` and raise on failure;
the outbox retries it with back-off. A gateway (Aliyun, Tencent Cloud, …) is a small class in
the deployment's own module, named in SMS_BACKEND.

Automated messages (a timer's reminders, not a person's request) respect quiet hours
(SMS_QUIET_HOURS, default 21:00-08:00 local time): `aftersales.notifications.send_sms(...,
automated=True)` writes them at once and the outbox sends them when the quiet period ends.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .lib import quiet_hours as quiet

logger = logging.getLogger("aftersales.sms")


class LogBackend:
    """The default: writes each message to the log instead of sending it."""

    def send(self, mobile, text):
        logger.info("SMS to %s: %s", mobile, text)


def get_backend():
    return import_string(settings.SMS_BACKEND)()


def quiet_hours():
    """The configured QuietHours, or None when they are off. A value that cannot be read is
    refused at start-up by the system check (aftersales.checks); a worker started anyway stops
    here with the same reason rather than guess."""
    try:
        return quiet.parse(settings.SMS_QUIET_HOURS)
    except ValueError as error:
        raise ImproperlyConfigured(f"SMS_QUIET_HOURS: {error}") from None


def quiet_until(moment):
    """When an automated SMS due at `moment` may go out: `moment` itself, or the end of the
    quiet period it falls in."""
    hours = quiet_hours()
    return moment if hours is None else hours.end_after(moment)
