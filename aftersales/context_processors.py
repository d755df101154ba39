from functools import cache, partial

from django.urls import reverse

from . import registry
from .access import is_administrator
from .notifications import unread_count


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    admin = is_administrator(user)
    items = []
    current = request.resolver_match.view_name if request.resolver_match else ""
    for entry in registry.menu():
        name, perm = entry.url_name, entry.permission
        allowed = admin if perm is None else user.has_perm(perm)
        if entry.unless and user.has_perm(entry.unless):
            allowed = False
        if allowed:
            prefix = name.split(":")[0] + ":" + name.split(":")[1].split("_")[0]
            items.append(
                {
                    "label": entry.label,
                    "url": reverse(name),
                    "icon": entry.icon,
                    "active": current == name or current.startswith(prefix + "_"),
                }
            )
    return {"nav_items": items}


def notifications(request):
    """The bell's unread count, for signed-in users only.

    A cached callable: the query runs only when a template shows the bell, and once however
    often base.html shows it (phone and desk layouts); htmx fragments cost nothing.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": cache(partial(unread_count, user))}
