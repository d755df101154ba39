"""Proving a person holds a mobile number: a six-digit code sent by SMS, valid for a few minutes,
a few tries, once.

`send_code` always behaves the same whatever the number (it is never looked up), so the pages
that use it reveal nothing about who is a customer. Only a keyed hash of the code is stored.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import PhoneCode
from .notifications import send_sms

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5


def _digest(mobile, purpose, code):
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{purpose}\0{mobile}\0{code}".encode(), hashlib.sha256).hexdigest()


def send_code(mobile, purpose):
    """Text a new code to `mobile` (sent after the commit); earlier codes stop working."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        PhoneCode.objects.filter(mobile=mobile, purpose=purpose, used_at__isnull=True).update(
            used_at=now
        )
        row = PhoneCode.objects.create(
            mobile=mobile,
            purpose=purpose,
            digest=_digest(mobile, purpose, code),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        with translation.override(settings.LANGUAGE_CODE):
            text = _(
                "[After-sales service] Your verification code is %(code)s, valid for %(minutes)s "
                "minutes. If you did not ask for it, ignore this message."
            ) % {"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)}
        send_sms(mobile, text, key=f"code:{row.pk}")
    return row


def check_code(mobile, purpose, code):
    """True once for the right code of the latest unexpired one; each check uses up a try."""
    code = "".join(str(code or "").split())
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(
                mobile=mobile,
                purpose=purpose,
                used_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .order_by("-created_at")
            .first()
        )
        if row is None or row.tries >= MAX_TRIES:
            return False
        row.tries += 1
        right = hmac.compare_digest(row.digest, _digest(mobile, purpose, code))
        if right:
            row.used_at = timezone.now()
        row.save(update_fields=["tries", "used_at"])
    return right


def sweep(now=None):
    """Delete codes that expired more than a day ago (beat, hourly)."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = PhoneCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
