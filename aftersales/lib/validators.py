import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


def normalize_cn_mobile(value):
    """'+86 138-1234-5678' -> '13812345678'; anything else is returned unchanged."""
    if not value:
        return value
    value = _SEPARATORS.sub("", str(value))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def validate_cn_mobile(value):
    if not _CN_MOBILE.match(normalize_cn_mobile(value) or ""):
        raise ValidationError(
            _("Enter an 11-digit mainland China mobile number, e.g. 13812345678."),
            code="invalid_mobile",
        )


# A phone a person can dial: digits with the usual separators, an optional + and extension
# ("0571-8888 8888 转 123").
_PHONE = re.compile(r"^\+?[\d\s\-()]{5,20}(?:[#转]\s*\d{1,6})?$")
# Bidirectional overrides and isolates: they make text display in another order than it reads
# (a "spoofed" phone number or name); nothing in this product's texts needs them.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def validate_phone(value):
    if value and not _PHONE.match(value):
        raise ValidationError(
            _("Enter a phone number: digits, with spaces, dashes or a leading + if needed."),
            code="invalid_phone",
        )


def plain_text(value):
    """`value` without bidirectional control characters."""
    return _BIDI.sub("", value) if value else value


def refuse_oversized(upload, message):
    """Refuse an uploaded file above settings.UPLOAD_MAX_BYTES before anything reads it;
    `message` says so with %(size)s and %(limit)s."""
    from django.conf import settings
    from django.template.defaultfilters import filesizeformat

    limit = settings.UPLOAD_MAX_BYTES
    if getattr(upload, "size", 0) > limit:
        raise ValidationError(
            message,
            code="too_big",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
        )
