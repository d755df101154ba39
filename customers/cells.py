"""How master-data files' cells are read and written (the widgets of customers.resources).

Cell values that a spreadsheet would run as a formula are neutralised on export (a leading
quote) and read back as they were on import; a formula cell whose result was not saved is an
`UncomputedFormula`. Foreign keys are looked up by code or name (`LookupWidget`), choices by
value or label in either language (`ChoiceWidget`), phone numbers and dates as people type them.
"""

import re

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Lookup, Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from import_export import widgets
from phonenumber_field.phonenumber import to_python as phone_to_python
from phonenumber_field.validators import validate_international_phonenumber

from aftersales.lib.validators import normalize_cn_mobile

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
_FORMULA_CHAR = "[" + re.escape("".join(FORMULA_PREFIXES)) + "]"
# The export prefixes a quote to text that starts with a formula character, after any quotes;
# the import takes one quote off text that starts with quotes and then such a character. So
# every text makes the round trip unchanged, a quote someone typed included ("'abc" is left
# alone both ways; "'=x" is exported as "''=x" and read back as "'=x").
_NEEDS_ESCAPE = re.compile("'*" + _FORMULA_CHAR)
_ESCAPED = re.compile("'+" + _FORMULA_CHAR)


class AnyOf(Lookup):
    """`column = ANY(%s)`: a chunk's keys as one array parameter (PostgreSQL).

    As `IN (%s, %s, …)`, binding a thousand parameters (psycopg parses each placeholder) costs
    several times what running the query does.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, self.rhs]


def among(name, values):
    """A filter for rows whose `name` is one of `values` (a chunk's worth)."""
    values = list(values)
    if values and connection.vendor == "postgresql":
        return AnyOf(F(name), values)
    return Q(**{f"{name}__in": values})


def escape_formula(value):
    """Prefix text that a spreadsheet would evaluate with a quote; numbers stay numbers."""
    if isinstance(value, str) and _NEEDS_ESCAPE.match(value):
        return "'" + value
    return value


def unescape_formula(value):
    """The cell's text as it was before escape_formula (an exported file read back)."""
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


class UncomputedFormula(str):
    """An Excel cell's formula whose result the file does not hold (a program, not Excel, wrote
    it). Refused by the import, with the formula in the message, rather than read as empty."""


def listing(items):
    return pgettext("list separator", ", ").join(str(item) for item in items)


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key by a natural key, with a message the user can act on."""

    def __init__(self, model, field, label, only=None):
        super().__init__(model, field)
        self.label = label
        # Columns a chunk's lookup loads, when the import needs no others of the row.
        self.only = only
        # {natural key: instance} of the chunk being imported (import_chunk fills it);
        # None: look each value up in the database, as import-export's row-by-row import does.
        self.cache = None

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        value = str(value).strip()
        if self.cache is not None:
            found = self.cache.get(value)
        else:
            found = self.get_queryset(value, row, **kwargs).filter(**{self.field: value}).first()
        if found is None:
            raise ValueError(
                _("%(what)s “%(value)s” does not exist.") % {"what": self.label, "value": value}
            )
        return found

    def fetch(self, values):
        """{natural key: instance} for the given keys, in one query."""
        found = self.model.objects.filter(among(self.field, values))
        if self.only:
            found = found.only(*self.only)
        return {str(getattr(obj, self.field)): obj for obj in found}


class ChoiceWidget(widgets.Widget):
    """Accepts a choice's stored value or its label in either language; exports the label."""

    def __init__(self, choices):
        super().__init__()
        self.choices = choices
        self._accepted = None

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        text = str(value).strip()
        if self._accepted is None:
            # Worked out once: switching the language for every cell of a large file is slow.
            self._accepted = {}
            for choice_value, label in self.choices.choices:
                for accepted in [str(choice_value), *_labels(label)]:
                    self._accepted.setdefault(accepted, choice_value)
        if text in self._accepted:
            return self._accepted[text]
        allowed = "、".join(str(label) for _value, label in self.choices.choices)
        raise ValueError(
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": allowed}
        )

    def render(self, value, obj=None, **kwargs):
        if value in (None, ""):
            return ""
        return str(self.choices(value).label)


def _labels(label):
    out = set()
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            out.add(str(label))
    return out


class MobileWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return normalize_cn_mobile(super().clean(value, row, **kwargs))


class PhoneWidget(widgets.CharWidget):
    """A phone number, parsed and validated once (the field's own validation formats it twice)."""

    # Off while a checked file is imported (MasterDataResource.import_chunk).
    validating = True

    def render(self, value, obj=None, **kwargs):
        return "" if not value else value.as_national

    def clean(self, value, row=None, **kwargs):
        text = str(super().clean(value, row, **kwargs) or "").strip()
        if not text:
            return ""
        number = phone_to_python(text)
        if self.validating:
            try:
                validate_international_phonenumber(number)
            except ValidationError as e:
                raise ValueError(e.messages[0]) from None
        return number


class BoolWidget(widgets.BooleanWidget):
    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "是", "yes", "Yes", "Y", "y", "√"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "否", "no", "No", "N", "n", ""]

    def render(self, value, obj=None, **kwargs):
        return _("Yes") if value else _("No")


class DateWidget(widgets.DateWidget):
    def __init__(self):
        super().__init__(format="%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date; write it as 2026-01-31.") % {"value": value}
            ) from None
