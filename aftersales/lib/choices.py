"""`get_FOO_display()` without rebuilding the choices on every call.

Django's version turns all of a field's choices into a dict on each call, translating every
label to hash it: 25 rows of three labels each cost more than the page's queries. Here each
field's labels are translated once per language and process.
"""

from functools import lru_cache

from django.utils.translation import get_language


@lru_cache(maxsize=512)
def _labels(field, language):
    return {value: str(label) for value, label in field.flatchoices}


class ChoiceLabels:
    """A model mixin (before models.Model) for fields with choices of plain values."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            return _labels(field, get_language()).get(value, value)
        except TypeError:  # an unhashable value: Django's way
            return super()._get_FIELD_display(field)
