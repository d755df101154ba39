"""What the tickets app brings to the whole (read by `aftersales.registry`)."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from aftersales.registry import HomePage, MenuItem
from aftersales.roles import Role

URLS = [
    path("tickets/", include("tickets.urls")),
    path("m/", include("tickets.mobile_urls")),
    # Visit photos and signatures, only for people who may see their request.
    path("", include("tickets.media_urls")),
    # The customer's view of a request (/t/<token>/), opened from the work order's QR code.
    path("", include("tickets.public_urls")),
]

MENU = [
    MenuItem(_("Service requests"), "tickets:list", "tickets.view_ticket", "headset", rank=100),
    MenuItem(
        _("Revisits"),
        "tickets:revisit_queue",
        "tickets.revisit_ticket",
        "telephone-outbound",
        rank=110,
    ),
    MenuItem(
        _("Locked & verification"),
        "tickets:manager_queues",
        "tickets.supervise_ticket",
        "shield-check",
        rank=120,
    ),
    MenuItem(_("My jobs"), "mobile:jobs", "tickets.work_ticket", "phone", rank=130),
]


def _revisits_only(user):
    return user.has_perm("tickets.revisit_ticket") and not user.has_perm("tickets.dispatch_ticket")


HOME = [
    HomePage("tickets:revisit_queue", rank=100, who=_revisits_only),
    HomePage("tickets:list", rank=110, who=lambda user: user.has_perm("tickets.view_ticket")),
    HomePage("mobile:jobs", rank=120, who=lambda user: user.has_perm("tickets.work_ticket")),
]

READ = ["tickets.view_ticket", "tickets.view_problemtype"]
DISPATCH = READ + ["tickets.add_ticket", "tickets.dispatch_ticket"]

ROLE_PERMISSIONS = {
    Role.DISPATCHER: DISPATCH,
    Role.ENGINEER: ["tickets.work_ticket"],
    Role.SERVICE_MANAGER: DISPATCH + ["tickets.supervise_ticket"],
    Role.REVISIT_AGENT: READ + ["tickets.revisit_ticket"],
    Role.FINANCE: READ,
    Role.COMPLAINT_HANDLER: READ,
    Role.MANAGER: READ,
}

BEAT_SCHEDULE = {
    # SLA warnings and breaches, requested-date locks, overdue revisits.
    "tickets-every-minute": {"task": "tickets.every_minute", "schedule": 60.0},
}

# Cache entries built from engineers, service points or users (the desk's and the ticket
# page's select boxes): forgotten when any of those changes.
PEOPLE_CACHES = ("desk-choices:*", "desk-boxes:*", "engineer-options:*")


def seed_demo(out):
    from .demo import seed

    return seed(out)


# The JSON API (aftersales.api): other systems report faults and follow their requests.
API_ROUTERS = [("", "tickets.api.router")]
API_SCOPES = {
    "requests:create": _("Report faults (create service requests)"),
    "requests:read": _("Read service requests and customers' open requests"),
}
