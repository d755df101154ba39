"""What the customers app brings to the whole (read by `aftersales.registry`)."""

from celery.schedules import crontab
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from aftersales.registry import CalendarUse, HomePage, MenuItem
from aftersales.roles import Role

URLS = [
    path("customers/", include("customers.urls")),
]

MENU = [
    MenuItem(_("Customers"), "customers:list", "customers.view_customer", "people", rank=500),
    MenuItem(_("Equipment"), "customers:equipment_list", "customers.view_equipment", "cpu", 510),
    MenuItem(
        _("Agreements"),
        "customers:agreement_list",
        "customers.view_serviceagreement",
        "file-earmark-text",
        rank=520,
    ),
    MenuItem(
        _("Maintenance plans"),
        "customers:plan_list",
        "customers.view_maintenanceplan",
        "calendar-check",
        rank=525,
    ),
    MenuItem(
        _("Products"), "customers:product_list", "customers.view_productmodel", "box-seam", 530
    ),
    MenuItem(
        _("Import / export"),
        "customers:transfer",
        "customers.import_masterdata",
        "arrow-left-right",
        rank=540,
    ),
    # Finance and managers export without importing; the others find exports on the page above.
    MenuItem(
        _("Exports"),
        "customers:exports",
        "customers.export_masterdata",
        "download",
        rank=540,
        unless="customers.import_masterdata",
    ),
]

HOME = [
    HomePage("customers:list", rank=500, who=lambda user: user.has_perm("customers.view_customer"))
]

MASTER_DATA_READ = [
    "customers.view_customer",
    "customers.view_contact",
    "customers.view_equipment",
    "customers.view_productmodel",
    "customers.view_serviceagreement",
]
MASTER_DATA_WRITE = [
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.add_equipment",
    "customers.change_equipment",
    "customers.add_serviceagreement",
    "customers.change_serviceagreement",
    "customers.import_masterdata",
    "customers.export_masterdata",
]
EXPORT = ["customers.export_masterdata"]
# Maintenance plans: dispatchers and service managers plan the work (create, edit, deactivate:
# a plan is never deleted, its requests keep pointing at it); engineers read their service
# point's plans (MaintenancePlan.objects.visible_to).
PLANS_READ = ["customers.view_maintenanceplan"]
PLANS_WRITE = PLANS_READ + ["customers.add_maintenanceplan", "customers.change_maintenanceplan"]

ROLE_PERMISSIONS = {
    Role.DISPATCHER: MASTER_DATA_READ + MASTER_DATA_WRITE + PLANS_WRITE,
    Role.SERVICE_MANAGER: MASTER_DATA_READ + MASTER_DATA_WRITE + PLANS_WRITE,
    Role.ENGINEER: ["customers.view_productmodel"] + PLANS_READ,
    Role.REVISIT_AGENT: MASTER_DATA_READ,
    Role.PARTS_CLERK: ["customers.view_productmodel"],
    Role.FINANCE: MASTER_DATA_READ + EXPORT,
    Role.COMPLAINT_HANDLER: MASTER_DATA_READ,
    Role.MANAGER: MASTER_DATA_READ + EXPORT,
}

BEAT_SCHEDULE = {
    # Maintenance-plan work, renewal and warranty reminders (early morning, local time). The
    # warranty SMS are written then and go out when the quiet hours end (SMS_QUIET_HOURS).
    "customers-daily": {"task": "customers.daily", "schedule": crontab(hour=6, minute=5)},
    # Hourly: import jobs whose worker died fail; checked files never confirmed are deleted.
    "customers-import-cleanup": {"task": "customers.expire_import_jobs", "schedule": 3600.0},
    # Hourly: exported files past EXPORT_KEEP_HOURS are deleted; exports whose worker died fail.
    "customers-export-cleanup": {"task": "customers.expire_export_jobs", "schedule": 3600.0},
}


def seed_demo(out):
    from .demo import seed

    return seed(out)


def _agreements_in_force(today):
    from .models import ServiceAgreement

    return ServiceAgreement.objects.filter(end_date__gte=today)


# An agreement that has not ended counts in its calendar (none: the default one).
CALENDAR_USES = [
    CalendarUse(_("Agreements"), _agreements_in_force, "customers.view_serviceagreement")
]
