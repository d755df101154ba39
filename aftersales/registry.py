"""What each app brings to the whole, collected from its `plugin.py` (like the admin's admin.py).

The core (`aftersales`) is the ground floor: it imports no app. An app plugs in by having a
module `<app>/plugin.py` with any of these names; the core reads them through this module, so
a new app adds itself without editing a core file:

    URLS              URL patterns mounted at the site's root (its pages, its public pages)
    MENU              [MenuItem]: entries of the side navigation
    HOME              [HomePage]: where a person lands after signing in (lowest rank that fits)
    ROLE_PERMISSIONS  {Role: ["app_label.codename", ...]}: what each role may do in the app
    BEAT_SCHEDULE     {name: Celery beat entry}: the app's timers
    PEOPLE_CACHES     cache names (`aftersales.caching`) built from users, engineers or service
                      points: forgotten whenever one of those changes
    CALENDAR_USES     [CalendarUse]: the app's objects whose clocks count in a business calendar
                      (the calendars' pages list them; a calendar they use is warned about
                      before its years run out)
    API_ROUTERS       [(prefix, router)]: the app's endpoints of the JSON API (/api/v1/), each
                      router a django-ninja Router or its dotted path ("tickets.api.router");
                      the core's `aftersales.api` mounts them and authenticates every call
    API_SCOPES        {scope code: label}: what an API key may be allowed ("requests:create");
                      administrators choose among them when they issue a key
    seed_demo(out)    writes the app's demo data (idempotent); returns its summary rows
                      (`aftersales.demo.SummaryRow`) for the `seed_demo` command

Plugins are read in INSTALLED_APPS order (the demo data of `customers` before `tickets`').

A page of one app that shows parts of apps above it (the customer 360° page shows the
customer's service requests) offers a `Slot`; those apps register a `Panel` or a `Link` in it
from their AppConfig.ready(), and the page's app never imports them.
"""

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

from django.apps import apps
from django.conf import settings

MODULE = "plugin"


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    # The permission that shows the entry ("app_label.codename"); None: administrators only.
    permission: str | None
    icon: str
    rank: int = 100
    # A permission that hides the entry: people who have it reach the page another way.
    unless: str | None = None


@dataclass(frozen=True)
class HomePage:
    url_name: str
    rank: int
    # who(user) -> bool: this page is the person's home page when true.
    who: object


@dataclass(frozen=True)
class CalendarUse:
    """Objects of an app whose clocks count in a business calendar: `in_force(today)` is a
    queryset of those still counting (an agreement not yet ended), `field` their ForeignKey to
    `BusinessCalendar` (empty: the default calendar). People with `permission` see their names
    (`str(obj)`, linked to `obj.get_absolute_url()`)."""

    label: str
    in_force: object
    permission: str
    field: str = "calendar"


@dataclass(frozen=True)
class Panel:
    """A section of another app's page: `template` is included with `panel` = what
    `context(request, obj)` returns; None hides it from this person."""

    template: str
    context: object
    rank: int = 100


@dataclass(frozen=True)
class Link:
    """A button on another app's page: `url(obj)`, shown to people with `permission`."""

    label: str
    url: object
    icon: str
    permission: str
    rank: int = 100


class Slot:
    """A place on a page where apps above the page's app add panels or links."""

    def __init__(self, name):
        self.name = name
        self._parts = []

    def register(self, part):
        if part not in self._parts:
            self._parts.append(part)
        return part

    def panels(self, request, obj):
        """[(template, panel context)] of the panels this person sees, in rank order."""
        shown = []
        for panel in sorted(self._parts, key=lambda p: p.rank):
            context = panel.context(request, obj)
            if context is not None:
                shown.append((panel.template, context))
        return shown

    def links(self, request, obj):
        """[(label, url, icon)] of the links this person may follow, in rank order."""
        return [
            (link.label, link.url(obj), link.icon)
            for link in sorted(self._parts, key=lambda p: p.rank)
            if request.user.has_perm(link.permission)
        ]


@cache
def plugins():
    """The `plugin` modules of the installed apps that have one, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{MODULE}"
        if find_spec(name) is not None:
            found.append(import_module(name))
    return tuple(found)


def collect(attribute):
    """Every plugin's value of `attribute` (plugins without it skipped), in app order."""
    return [getattr(p, attribute) for p in plugins() if hasattr(p, attribute)]


def url_patterns():
    return [pattern for patterns in collect("URLS") for pattern in patterns]


def menu():
    items = [item for items in collect("MENU") for item in items]
    return sorted(items, key=lambda item: item.rank)


def home_pages():
    return sorted((page for pages in collect("HOME") for page in pages), key=lambda p: p.rank)


def role_permissions():
    """{role value: [permission, ...]} over every app."""
    merged = {}
    for table in collect("ROLE_PERMISSIONS"):
        for role, permissions in table.items():
            merged.setdefault(str(role), []).extend(permissions)
    return merged


def beat_schedule():
    schedule = {}
    for entries in collect("BEAT_SCHEDULE"):
        clash = schedule.keys() & entries.keys()
        if clash:
            raise ValueError(f"Two apps schedule timers named {sorted(clash)}")
        schedule.update(entries)
    return schedule


def people_caches():
    return tuple(name for names in collect("PEOPLE_CACHES") for name in names)


def calendar_uses():
    return [use for uses in collect("CALENDAR_USES") for use in uses]


def api_routers():
    return [entry for entries in collect("API_ROUTERS") for entry in entries]


def api_scopes():
    """{scope code: label} over every app; a code two apps claim is a mistake."""
    scopes = {}
    for table in collect("API_SCOPES"):
        clash = scopes.keys() & table.keys()
        if clash:
            raise ValueError(f"Two apps offer API scopes named {sorted(clash)}")
        scopes.update(table)
    return scopes


def demo_seeders():
    """[(app label, seed_demo)] of the apps that bring demo data, in app order."""
    return [(p.__name__.split(".")[-2], p.seed_demo) for p in plugins() if hasattr(p, "seed_demo")]


def project_app_labels():
    """The labels of this project's own apps (not Django's or a library's): those that live in
    the project folder. Administrators get every permission of these."""
    base = Path(settings.BASE_DIR).resolve()
    return [c.label for c in apps.get_app_configs() if Path(c.path).resolve().parent == base]
