"""Small pieces of markup many pages repeat, as tags with their own template."""

from django import template

register = template.Library()


@register.inclusion_tag("includes/field_value.html")
def field_value(label, value):
    """One label/value pair inside <dl class="field-list">, "—" when there is no value:
    {% field_value _("Phone") sp.phone %}"""
    return {"label": label, "value": value, "shown": bool(value or value == 0)}


@register.filter
def page_numbers(page_obj):
    """The page numbers a pager shows: the first, the last, two either side of this one, and
    None for each gap. Computed here, not by looping over every page in the template: a list
    of 200,000 customers has 8,000 pages."""
    paginator = page_obj.paginator
    return [
        None if n == paginator.ELLIPSIS else n
        for n in paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
    ]
