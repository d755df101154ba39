"""The core collects what each app brings (their plugin.py) without naming any app: menus,
home pages, role permissions, timers, URLs, demo data. A new app plugs in by itself."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from aftersales import registry
from aftersales.celery import app
from aftersales.checks import database_predates_new_history
from aftersales.registry import HomePage, MenuItem
from aftersales.roles import Role

pytestmark = pytest.mark.django_db


def permissions_of(role):
    group = Group.objects.get(name=role)
    return set(group.permissions.values_list("content_type__app_label", "codename").order_by())


def labels(*names):
    return {tuple(name.split(".")) for name in names}


def test_roles_get_exactly_the_permissions_the_apps_declare():
    assert permissions_of(Role.ENGINEER) == labels(
        "aftersales.view_productline",
        "customers.view_productmodel",
        "customers.view_maintenanceplan",
        "tickets.work_ticket",
        "analytics.view_own_figures",
        "knowledge.view_article",
        "knowledge.view_faultcode",
        "knowledge.view_repairtemplate",
        "knowledge.propose_article",
    )
    assert permissions_of(Role.REVISIT_AGENT) == labels(
        "aftersales.view_productline",
        "customers.view_customer",
        "customers.view_contact",
        "customers.view_equipment",
        "customers.view_productmodel",
        "customers.view_serviceagreement",
        "tickets.view_ticket",
        "tickets.view_problemtype",
        "tickets.revisit_ticket",
        "knowledge.view_article",
        "knowledge.view_faultcode",
        "knowledge.view_repairtemplate",
    )
    dispatcher = permissions_of(Role.DISPATCHER)
    assert labels("tickets.dispatch_ticket", "customers.import_masterdata") <= dispatcher
    assert labels("aftersales.view_servicepoint", "tickets.add_ticket") <= dispatcher
    assert not labels("tickets.supervise_ticket", "tickets.work_ticket") & dispatcher
    assert labels("knowledge.propose_article") <= dispatcher
    assert not labels("knowledge.review_article") & dispatcher
    assert labels("knowledge.review_article") <= permissions_of(Role.SERVICE_MANAGER)
    # Administrators get every permission of the project's own apps, none of Django's.
    admin = permissions_of(Role.ADMINISTRATOR)
    assert {app for app, _codename in admin} == {
        "aftersales",
        "customers",
        "tickets",
        "analytics",
        "knowledge",
    }
    assert dispatcher | permissions_of(Role.SERVICE_MANAGER) <= admin


def test_every_apps_timers_are_scheduled_and_registered():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert {"heartbeat", "deliveries", "tickets-every-minute", "customers-daily"} <= set(schedule)
    for entry in schedule.values():
        assert entry["task"] in app.tasks


def test_each_role_lands_on_its_apps_home_page(client, make_user):
    expected = {
        Role.DISPATCHER: "tickets:list",
        Role.REVISIT_AGENT: "tickets:revisit_queue",
        Role.ENGINEER: "mobile:jobs",
        Role.FINANCE: "tickets:list",
        Role.PARTS_CLERK: None,  # no page of theirs yet: the welcome page
        Role.ADMINISTRATOR: "tickets:list",
        Role.SERVICE_MANAGER: "tickets:list",
        Role.MANAGER: "analytics:overview",  # the statistics are the management's morning page
    }
    for role, url_name in expected.items():
        client.force_login(make_user(role))
        response = client.get(reverse("home"))
        if url_name is None:
            assert response.status_code == 200
        else:
            assert response.url == reverse(url_name), role


def test_a_new_apps_plugin_adds_its_menu_and_home_page_without_core_changes(
    client, make_user, monkeypatch
):
    plugin = SimpleNamespace(
        MENU=[MenuItem("Spare parts", "org:status", "customers.view_productmodel", "box", 50)],
        HOME=[HomePage("org:status", rank=1, who=lambda user: user.has_role(Role.PARTS_CLERK))],
    )
    installed = registry.plugins()
    monkeypatch.setattr(registry, "plugins", lambda: (*installed, plugin))
    client.force_login(make_user(Role.PARTS_CLERK))

    assert client.get(reverse("home")).url == reverse("org:status")
    page = client.get(reverse("customers:product_list"))
    assert [item["label"] for item in page.context["nav_items"]][0] == "Spare parts"


def test_a_database_from_before_the_new_migration_history_is_named_as_such():
    assert database_predates_new_history(None, databases=["default"]) == []
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE customers_productline (id integer)")
    (error,) = database_predates_new_history(None, databases=["default"])
    assert error.id == "aftersales.E001"
    assert "var/db.sqlite3" in error.hint
