"""SMS to customers behind a pluggable backend (setting SMS_BACKEND, a dotted class path).

A backend is a class whose instances have `send(mobile, text) -> None` and raise on failure;
the outbox retries it with back-off. A gateway (Aliyun, Tencent Cloud, …) is a small class in
the deployment's own module, named in SMS_BACKEND.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("aftersales.sms")


class LogBackend:
    """The default: writes each message to the log instead of sending it."""

    def send(self, mobile, text):
        logger.info("SMS to %s: %s", mobile, text)


def get_backend():
    return import_string(settings.SMS_BACKEND)()
