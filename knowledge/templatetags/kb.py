from django import template

register = template.Library()


@register.filter
def percent(share):
    """0.875 → "88%"; "" for None (no feedback yet)."""
    if share is None:
        return ""
    return f"{round(share * 100)}%"
