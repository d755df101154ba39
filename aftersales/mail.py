"""The e-mail backend for development and the demo (no EMAIL_URL set): one log line per
message, like the SMS LogBackend, instead of Django's console backend printing each message
whole (headers, encoded subject, body) into the worker's output."""

import logging
from email.header import decode_header, make_header

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("aftersales.mail")


class LogBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            subject = str(make_header(decode_header(str(message.subject))))
            logger.info("E-mail to %s: %s", ", ".join(message.recipients()), subject)
        return len(email_messages)
