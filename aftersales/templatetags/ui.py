"""Small pieces of markup many pages repeat, as tags with their own template."""

from django import template

register = template.Library()


@register.inclusion_tag("includes/field_value.html")
def field_value(label, value):
    """One label/value pair inside <dl class="field-list">, "—" when there is no value:
    {% field_value _("Phone") sp.phone %}"""
    return {"label": label, "value": value, "shown": bool(value or value == 0)}
