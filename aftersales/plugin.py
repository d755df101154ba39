"""What the core brings to the whole, read by `aftersales.registry` like any app's plugin."""

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from .access import is_administrator
from .registry import HomePage, MenuItem
from .roles import CALENDARS_READ, CALENDARS_WRITE, ORGANISATION_READ, PRODUCT_LINES_READ, Role

MENU = [
    MenuItem(_("Users"), "org:user_list", None, "person-gear", rank=900),
    MenuItem(_("Roles"), "org:role_list", None, "shield-lock", rank=910),
    MenuItem(_("Service points"), "org:servicepoint_list", None, "geo-alt", rank=920),
    MenuItem(_("Engineers"), "org:engineer_list", None, "tools", rank=930),
    MenuItem(
        _("Business calendars"),
        "org:calendar_list",
        "aftersales.view_businesscalendar",
        "calendar3",
        rank=935,
    ),
    MenuItem(_("System status"), "org:status", None, "activity", rank=940),
    # Keys of the JSON API for other systems (IoT platforms, the ERP, WeChat).
    MenuItem(_("API keys"), "org:apikey_list", None, "key", rank=945),
]

HOME = [HomePage("org:user_list", rank=900, who=is_administrator)]

ROLE_PERMISSIONS = {
    Role.DISPATCHER: ORGANISATION_READ + PRODUCT_LINES_READ + CALENDARS_READ,
    # Service managers answer for the SLA clocks: they keep the calendars (administrators too).
    Role.SERVICE_MANAGER: ORGANISATION_READ
    + PRODUCT_LINES_READ
    + CALENDARS_READ
    + CALENDARS_WRITE
    + ["aftersales.change_engineerprofile"],
    Role.MANAGER: ORGANISATION_READ + PRODUCT_LINES_READ + CALENDARS_READ,
    # Everybody reads the product lines (skills, models, filters).
    Role.ENGINEER: PRODUCT_LINES_READ,
    Role.REVISIT_AGENT: PRODUCT_LINES_READ,
    Role.PARTS_CLERK: PRODUCT_LINES_READ,
    Role.FINANCE: PRODUCT_LINES_READ,
    Role.COMPLAINT_HANDLER: PRODUCT_LINES_READ,
}

BEAT_SCHEDULE = {
    "heartbeat": {"task": "aftersales.tasks.heartbeat", "schedule": 60.0},
    # Notification outbox rows whose worker message was lost (a crash, a broker outage).
    "deliveries": {"task": "aftersales.tasks.requeue_deliveries", "schedule": 60.0},
    # Expired sessions deleted (a signed-out or idle person's row stays until then).
    "sessions": {"task": "aftersales.tasks.clear_sessions", "schedule": crontab(hour=3, minute=30)},
    # Rate-limit windows and verification codes of the customer's pages, kept for a day.
    "public-counters": {
        "task": "aftersales.tasks.sweep_public_counters",
        "schedule": crontab(minute=17),
    },
    # Calendars in use whose complete years end within CALENDAR_WARN_DAYS: administrators are
    # told once per calendar and missing year.
    "calendar-years": {
        "task": "aftersales.tasks.check_calendars",
        "schedule": crontab(hour=8, minute=0),
    },
}


def seed_demo(out):
    from .demo import seed

    return seed(out)
