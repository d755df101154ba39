"""System checks of the core (registered by AftersalesConfig)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import connections

# Tables that only a database migrated before 2026-12-02 has: that day the migration history
# was laid out anew (product lines moved to the core, maintenance plans to customers,
# notifications lost their foreign key to tickets) before any release.
_OLD_TABLES = {"customers_productline", "tickets_maintenanceplan"}


@register(Tags.database)
def database_predates_new_history(app_configs, databases=None, **kwargs):
    errors = []
    for alias in databases or ():
        tables = set(connections[alias].introspection.table_names())
        if tables & _OLD_TABLES:
            errors.append(
                Error(
                    "This database was made by a development version from before 2026-12-02, "
                    "whose migration history was laid out anew.",
                    hint="Make it again: for the demo, delete var/db.sqlite3 and run make demo.",
                    id="aftersales.E001",
                )
            )
    return errors


@register(Tags.mail, deploy=True)
def mail_is_only_logged(app_configs, **kwargs):
    """Django's mail.E001 for the development backend of our own (aftersales.mail)."""
    if settings.MAILERS.get("default", {}).get("BACKEND") != "aftersales.mail.LogBackend":
        return []
    return [
        Error(
            "E-mail is only written to the log (no EMAIL_URL is set): nothing is sent.",
            hint="Set EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587.",
            id="aftersales.E002",
        )
    ]


@register()
def site_url_is_set(app_configs, **kwargs):
    """Links in e-mails and robot messages start with SITE_URL (aftersales.notifications). With
    DEBUG off no default could be right, so `migrate`, `check` and `runserver` stop until it is
    set (DEBUG on: the demo's own address)."""
    url = urlsplit(settings.SITE_URL)
    if url.scheme in ("http", "https") and url.hostname:
        return []
    hint = "Set SITE_URL to the address people open the site at, e.g. https://service.example.com."
    if not settings.SITE_URL:
        return [
            Error(
                "SITE_URL is not set: links in e-mails and robot messages would lead nowhere.",
                hint=hint,
                id="aftersales.E003",
            )
        ]
    return [
        Error(
            f"SITE_URL ({settings.SITE_URL}) is not an http:// or https:// address.",
            hint=hint,
            id="aftersales.E003",
        )
    ]


@register()
def sms_quiet_hours_readable(app_configs, **kwargs):
    """A misspelt SMS_QUIET_HOURS must stop the site, not send reminders at night."""
    from .lib.quiet_hours import parse

    try:
        parse(settings.SMS_QUIET_HOURS)
    except ValueError as error:
        return [
            Error(
                f"SMS_QUIET_HOURS cannot be read: {error}.",
                hint="Give the local time period in which automated SMS wait, e.g. "
                "SMS_QUIET_HOURS=21:00-08:00 (across midnight), or SMS_QUIET_HOURS=off.",
                id="aftersales.E010",
            )
        ]
    return []
