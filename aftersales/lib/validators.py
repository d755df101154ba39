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
