from functools import cache, partial

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .access import is_administrator
from .notifications import unread_count

# (label, url name, permission or None for administrators, icon)
_NAV = [
    (_("Service requests"), "tickets:list", "tickets.view_ticket", "headset"),
    (_("Revisits"), "tickets:revisit_queue", "tickets.revisit_ticket", "telephone-outbound"),
    (
        _("Locked & verification"),
        "tickets:manager_queues",
        "tickets.supervise_ticket",
        "shield-check",
    ),
    (_("My jobs"), "mobile:jobs", "tickets.work_ticket", "phone"),
    (_("Customers"), "customers:list", "customers.view_customer", "people"),
    (_("Equipment"), "customers:equipment_list", "customers.view_equipment", "cpu"),
    (
        _("Agreements"),
        "customers:agreement_list",
        "customers.view_serviceagreement",
        "file-earmark-text",
    ),
    (_("Products"), "customers:product_list", "customers.view_productmodel", "box-seam"),
    (_("Import / export"), "customers:transfer", "customers.import_masterdata", "arrow-left-right"),
    (_("Users"), "org:user_list", None, "person-gear"),
    (_("Roles"), "org:role_list", None, "shield-lock"),
    (_("Service points"), "org:servicepoint_list", None, "geo-alt"),
    (_("Engineers"), "org:engineer_list", None, "tools"),
    (_("System status"), "org:status", None, "activity"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    admin = is_administrator(user)
    items = []
    current = request.resolver_match.view_name if request.resolver_match else ""
    for label, name, perm, icon in _NAV:
        allowed = admin if perm is None else user.has_perm(perm)
        if allowed:
            prefix = name.split(":")[0] + ":" + name.split(":")[1].split("_")[0]
            items.append(
                {
                    "label": label,
                    "url": reverse(name),
                    "icon": icon,
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
