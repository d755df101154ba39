"""The roles of a service department, kept as auth groups.

Groups and their permissions are created by a data migration (0002_roles) from ROLE_PERMISSIONS;
code refers to roles through `Role`, never through a group's display name.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("Dispatcher")
    ENGINEER = "engineer", _("Service engineer")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    REVISIT_AGENT = "revisit_agent", _("Revisit agent")
    PARTS_CLERK = "parts_clerk", _("Parts clerk")
    FINANCE = "finance", _("Finance")
    COMPLAINT_HANDLER = "complaint_handler", _("Complaint handler")
    MANAGER = "manager", _("Management")
    ADMINISTRATOR = "administrator", _("Administrator")


_MASTER_DATA_READ = [
    "customers.view_customer",
    "customers.view_contact",
    "customers.view_equipment",
    "customers.view_productline",
    "customers.view_productmodel",
    "customers.view_serviceagreement",
]
_MASTER_DATA_WRITE = [
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
_ORGANISATION_READ = [
    "aftersales.view_servicepoint",
    "aftersales.view_engineerprofile",
    "aftersales.view_region",
]

_TICKETS_READ = ["tickets.view_ticket", "tickets.view_problemtype"]
_DISPATCH = _TICKETS_READ + ["tickets.add_ticket", "tickets.dispatch_ticket"]

# Codenames as "app_label.codename". Administrators get every permission of the project's apps.
ROLE_PERMISSIONS = {
    Role.DISPATCHER: _MASTER_DATA_READ + _MASTER_DATA_WRITE + _ORGANISATION_READ + _DISPATCH,
    Role.ENGINEER: ["customers.view_productline", "customers.view_productmodel"]
    + ["tickets.work_ticket"],
    Role.SERVICE_MANAGER: _MASTER_DATA_READ
    + _MASTER_DATA_WRITE
    + _ORGANISATION_READ
    + _DISPATCH
    + ["aftersales.change_engineerprofile", "tickets.supervise_ticket"],
    Role.REVISIT_AGENT: _MASTER_DATA_READ + _TICKETS_READ + ["tickets.revisit_ticket"],
    Role.PARTS_CLERK: ["customers.view_productline", "customers.view_productmodel"],
    Role.FINANCE: _MASTER_DATA_READ + _TICKETS_READ + ["customers.export_masterdata"],
    Role.COMPLAINT_HANDLER: _MASTER_DATA_READ + _TICKETS_READ,
    Role.MANAGER: _MASTER_DATA_READ
    + _ORGANISATION_READ
    + _TICKETS_READ
    + ["customers.export_masterdata"],
    Role.ADMINISTRATOR: "__all__",
}
ADMIN_APPS = ["aftersales", "customers", "tickets", "knowledge", "parts", "complaints", "analytics"]


def sync_role_permissions(apps, schema_editor=None):
    """Create the role groups and give each exactly its permissions.

    Called from data migrations (with historical `apps`) each time a migration adds permissions
    that roles need. Permissions of models that do not exist yet are skipped: the migration that
    creates them calls this again.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    all_perms = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        if wanted == "__all__":
            ids = [pk for key, pk in all_perms.items() if key.split(".")[0] in ADMIN_APPS]
        else:
            ids = [all_perms[key] for key in wanted if key in all_perms]
        group.permissions.set(ids)
