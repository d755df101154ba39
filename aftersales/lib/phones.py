"""Phone numbers as the searches compare them: the digits a person dials within China.

People write one number many ways ("138 0013 8000", "138-0013-8000", "+86 13800138000",
"0571-8888 8888 转 123"). Each table keeps what was typed (or its own normal form) and, beside
it, the digits (`PhoneDigitsField`); a search's text goes through the same function, so every
spelling meets every other. The extension is not part of the number: it stays in the typed
value, for the engineer to read.
"""

import re
import unicodedata

import phonenumbers
from django.db import models
from django.db.models import Q

# Fewer digits than this are no phone search: three digits are in about one number in a
# hundred (a thousand three-digit strings, nine places in a mobile number), so they would list
# a good part of the archive. Four are a number's last four, the usual way to ask.
MIN_PHONE_DIGITS = 4
# A complete number (a mobile, or a landline with its area code) has at least 11 digits;
# shorter valid numbers (400 numbers, say) are searched as parts, which finds them too.
COMPLETE_DIGITS = 11
# No number is longer (E.164 allows 15 digits, an extension is not part of it).
MAX_PHONE_DIGITS = 20

# An extension after the number: "转 123", "#123", "ext. 123", "x123", "分机 123".
_EXTENSION = re.compile(r"\s*(?:转|#|分机|ext\.?|x)\s*\d*\s*$", re.IGNORECASE)
# What a search's text may hold to be read as a phone number: digits and the usual separators.
_PHONE_TEXT = re.compile(r"^\+?[0-9\s\-().]+$")
_NOT_DIGIT = re.compile(r"[^0-9]")


def _read(value):
    """(digits, complete): the number's digits as dialled within China, and whether it is a
    whole valid number (else `digits` are the typed ones, a part of some number perhaps)."""
    if isinstance(value, phonenumbers.PhoneNumber):
        if phonenumbers.is_valid_number(value):
            return _dialled(value), True
        value = getattr(value, "raw_input", "") or ""
    # Full-width digits ("１３８…", from a Chinese input method) are digits too.
    text = _EXTENSION.sub("", unicodedata.normalize("NFKC", str(value or ""))[:100])
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) < 7:
        return digits, False
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return digits, False
    if not phonenumbers.is_valid_number(number):
        return digits, False
    return _dialled(number), True


def _dialled(number):
    if number.country_code != 86:
        # Abroad: country code and number, as after "00".
        return _NOT_DIGIT.sub(
            "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        )
    # With the trunk prefix where China's numbering has one (0571…), none for mobiles and 400s.
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return _NOT_DIGIT.sub("", national)


def phone_digits(value):
    """'+86 138-0013-8000' → '13800138000'; '0571-8888 8888 转 123' → '057188888888'; a
    number that is not a valid one keeps its digits as typed ('8888 8888' → '88888888')."""
    return _read(value)[0][:MAX_PHONE_DIGITS]


def phone_search(field, text):
    """The condition on a digits column (`field`) that finds the numbers `text` spells, or None
    when `text` is no phone search (letters in it, fewer than MIN_PHONE_DIGITS digits or more
    than any number has).

    A complete number is looked up whole (an index in the list's order serves it); a part
    ("8000", the middle eight) is looked up as a substring (PostgreSQL: a trigram index).
    """
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not _PHONE_TEXT.match(_EXTENSION.sub("", text)):
        return None
    digits, complete = _read(text)
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return None
    if complete and len(digits) >= COMPLETE_DIGITS:
        return Q(**{field: digits})
    return Q(**{f"{field}__contains": digits})


class PhoneDigitsField(models.CharField):
    """The `phone_digits` of the model's field `source`, kept by the field itself: Django
    calls pre_save() for save() and bulk_create() alike. update() and bulk_update() do not:
    whoever writes the source that way writes this column too."""

    def __init__(self, *args, source, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", 20), ("blank", True), ("editable", False)):
            if kwargs.get(key) == default:
                del kwargs[key]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = phone_digits(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def fill_phone_digits(schema_editor, table, source, target, chunk=1000):
    """For data migrations: set `target` to the `phone_digits` of `source` in every row of
    `table`. Each distinct number is read once (a caller's number is on many tickets), and on
    PostgreSQL a thousand of them are written per UPDATE, joined to a VALUES list."""
    connection, qn = schema_editor.connection, schema_editor.quote_name
    table, source, target = qn(table), qn(source), qn(target)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {source} FROM {table} WHERE {source} <> ''")
        pairs = [
            (value, digits) for (value,) in cursor.fetchall() if (digits := phone_digits(value))
        ]
        if connection.vendor != "postgresql":
            cursor.executemany(
                f"UPDATE {table} SET {target} = %s WHERE {source} = %s", [(d, v) for v, d in pairs]
            )
            return
        for start in range(0, len(pairs), chunk):
            part = pairs[start : start + chunk]
            rows = ", ".join(["(%s, %s)"] * len(part))
            cursor.execute(
                f"UPDATE {table} SET {target} = v.digits FROM (VALUES {rows}) AS v(value, digits)"
                f" WHERE {table}.{source} = v.value",
                [x for pair in part for x in pair],
            )
