from django import template

register = template.Library()


@register.filter
def duration_minutes(value):
    """A timedelta as whole minutes, without its sign (the words say early or late)."""
    if value is None:
        return ""
    return round(abs(value.total_seconds()) / 60)
