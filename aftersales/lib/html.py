"""HTML that pages repeat hundreds of times, written in Python rather than by a template loop."""

from django.utils.html import escape
from django.utils.safestring import mark_safe


def options_html(options, blank=None):
    """The <option>s of a select box, none selected: `options` are (value, text) strings,
    `blank` the text of an empty first option (none if None). See `mark_selected`."""
    parts = [] if blank is None else [f'<option value="">{escape(blank)}</option>']
    parts += [f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in options]
    return "".join(parts)


def mark_selected(options, current):
    """`options_html`'s options with the one of value `current` selected (none if no such)."""
    current = "" if current is None else str(current)
    marker = f'<option value="{escape(current)}">'
    if marker in options:
        # The first match only: values are unique, and an escaped text holds no "<option".
        options = options.replace(marker, marker[:-1] + " selected>", 1)
    return mark_safe(options)  # noqa: S308 (options_html escaped every value and text)
