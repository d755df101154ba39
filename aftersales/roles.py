"""The roles of a service department, kept as auth groups.

Groups and their permissions are created by data migrations (`sync_role_permissions`) from what
the core and each app's plugin.py declare (ROLE_PERMISSIONS); code refers to roles through
`Role`, never through a group's display name.
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


# What each role may do in the core (organisation master data). Each app adds its own in its
# plugin.py (ROLE_PERMISSIONS); administrators get every permission of the project's apps.
ORGANISATION_READ = [
    "aftersales.view_servicepoint",
    "aftersales.view_engineerprofile",
    "aftersales.view_region",
]
PRODUCT_LINES_READ = ["aftersales.view_productline"]
# Business calendars (SLA working time): seen by those who answer for SLA clocks, kept by service
# managers and administrators.
CALENDARS_READ = ["aftersales.view_businesscalendar"]
CALENDARS_WRITE = ["aftersales.change_businesscalendar"]


def role_permissions():
    """{role: [permission, ...] or "__all__"} over the core and every app."""
    from .registry import role_permissions as collected

    merged = collected()
    table = {role: sorted(set(merged.get(role.value, []))) for role in Role}
    table[Role.ADMINISTRATOR] = "__all__"
    return table


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
    from .registry import project_app_labels

    own_apps = set(project_app_labels())
    for role, wanted in role_permissions().items():
        group, _created = Group.objects.get_or_create(name=role.value)
        if wanted == "__all__":
            ids = [pk for key, pk in all_perms.items() if key.split(".")[0] in own_apps]
        else:
            ids = [all_perms[key] for key in wanted if key in all_perms]
        group.permissions.set(ids)
