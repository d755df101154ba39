"""API keys of outside systems: issued, rotated and revoked by administrators (org/api-keys/),
checked on every call of the JSON API (`aftersales.api`).

A key reads `ask_<prefix>_<secret>`: the prefix (8 hex digits, not secret) finds the key's row
through a unique index, the secret (256 random bits) is never stored — only the SHA-256 digest
of the whole key, compared in constant time. A digest without salt or stretching is enough for a
random 256-bit secret (nobody can guess one to match); passwords need PBKDF2, keys do not, and a
call costs one indexed read instead of a hash that takes tens of milliseconds.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import registry
from .lib.actions import Refused
from .models import ApiKey

KEY = re.compile(r"ask_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
# last_used_at is written at most this often per key (a busy key would write on every call).
TOUCH_EVERY = timedelta(minutes=1)


class KeyRefused(Refused):
    """A change to a key that cannot be made now; the message is for the administrator."""


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def _new_secret():
    """(prefix, the whole key) of a new random key."""
    prefix = secrets.token_hex(4)
    return prefix, f"ask_{prefix}_{secrets.token_urlsafe(32)}"


def _save_with_new_secret(key, **fields):
    """Give `key` a new secret and save it with `fields`; the whole key, to be shown once. A new
    prefix that another key has already (one in four billion) is drawn again."""
    for _attempt in range(5):
        prefix, whole = _new_secret()
        key.prefix, key.secret_hash = prefix, _digest(whole)
        for name, value in fields.items():
            setattr(key, name, value)
        try:
            with transaction.atomic():
                key.save()
        except IntegrityError:
            if ApiKey.objects.filter(prefix=prefix).exclude(pk=key.pk).exists():
                continue
            raise
        return whole
    raise RuntimeError("No free key prefix after five draws")


def scope_labels():
    """{scope code: label} of every scope the apps offer (their plugin.py: API_SCOPES)."""
    return registry.api_scopes()


def issue_key(*, name, note, scopes, actor):
    """A new key; returns (ApiKey, the whole key). The whole key is shown once and never again."""
    unknown = set(scopes) - set(scope_labels())
    if unknown:
        raise KeyRefused(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(sorted(unknown))})
    key = ApiKey(name=name, note=note, scopes=sorted(scopes), created_by=actor)
    try:
        whole = _save_with_new_secret(key)
    except IntegrityError:
        # Another administrator gave a key this name a moment ago.
        raise KeyRefused(_("A key with this name exists already.")) from None
    return key, whole


def _locked(key):
    return ApiKey.objects.select_for_update().get(pk=key.pk)


@transaction.atomic
def rotate_key(key, actor, *, prefix):
    """A new secret for the key (same name, scopes and history); the old one stops working at
    once. `prefix` is the one the page showed: a second click (or a page older than another
    administrator's rotation) is refused instead of rotating again."""
    key = _locked(key)
    if not key.is_active:
        raise KeyRefused(_("This key is revoked; issue a new one instead."))
    if key.prefix != prefix:
        raise KeyRefused(_("This key was rotated in the meantime; nothing was changed."))
    whole = _save_with_new_secret(key, rotated_at=timezone.now())
    return key, whole


@transaction.atomic
def revoke_key(key, actor):
    """The key stops working at once, for good."""
    key = _locked(key)
    if not key.is_active:
        raise KeyRefused(_("This key is revoked already."))
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    return key


def find_key(given):
    """The active key that `given` (the whole key a caller sent) is, or None. One query (none
    for a string that cannot be a key)."""
    match = KEY.fullmatch(given or "")
    if match is None:
        return None
    try:
        key = ApiKey.objects.get(prefix=match[1])
    except ApiKey.DoesNotExist:
        return None
    if not hmac.compare_digest(key.secret_hash, _digest(given)):
        return None
    if not key.is_active:
        return None
    return key


def touch(key, now=None):
    """Record that the key was used: at most one write per TOUCH_EVERY (a compare-and-set, so two
    processes that both see an old time write once)."""
    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_EVERY:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)
    key.last_used_at = now
