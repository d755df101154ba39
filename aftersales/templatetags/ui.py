"""Small pieces of markup many pages repeat, as tags: cheaper than an {% include %} each."""

from django import template
from django.utils.formats import localize
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def field_value(label, value):
    """One label/value pair inside <dl class="field-list">, "—" when there is no value:
    {% field_value _("Phone") sp.phone %}"""
    if value or value == 0:
        return format_html("<div><dt>{}</dt><dd>{}</dd></div>", label, localize(value))
    return format_html(
        '<div><dt>{}</dt><dd><span class="text-body-secondary">—</span></dd></div>', label
    )
