"""Maintenance plans on their own pages: the list (what is due next, filters, quick filters,
search, pages, a fixed number of queries), a plan's page, create / edit / deactivate with
validation, the panels on the customer and unit pages, the menu entry, who may do what."""

from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from customers import timers
from customers.models import Equipment, MaintenancePlan
from tickets.models import Ticket

from ..factories import (
    CustomerFactory,
    EngineerProfileFactory,
    EquipmentFactory,
    MaintenancePlanFactory,
    ServiceAgreementFactory,
    ServicePointFactory,
)
from ..queries import count_queries

pytestmark = pytest.mark.django_db

LIST = reverse("customers:plan_list")


def today():
    return timezone.localdate()


def in_days(n):
    return today() + timedelta(days=n)


def names(response):
    return [p.name for p in response.context["object_list"]]


@pytest.fixture
def point():
    return ServicePointFactory(name="浦东服务中心")


@pytest.fixture
def unit():
    return EquipmentFactory(serial_no="KJ-2026-0001")


# --- The list ----------------------------------------------------------------------------------


def test_the_list_shows_active_plans_the_next_due_first(dispatcher_client):
    MaintenancePlanFactory(name="年度保养", next_date=in_days(200))
    MaintenancePlanFactory(name="滤芯更换", next_date=in_days(12))
    MaintenancePlanFactory(name="不再做的", next_date=in_days(1), active=False)
    response = dispatcher_client.get(LIST)
    assert response.status_code == 200
    assert names(response) == ["滤芯更换", "年度保养"]
    page = response.content.decode()
    assert page.index("滤芯更换") < page.index("年度保养") and "不再做的" not in page
    deactivated = dispatcher_client.get(LIST, {"state": "inactive"})
    assert names(deactivated) == ["不再做的"]


def test_quick_filters_due_in_30_days_and_overdue(dispatcher_client):
    MaintenancePlanFactory(name="下周", next_date=in_days(6))
    MaintenancePlanFactory(name="本月", next_date=in_days(30))
    MaintenancePlanFactory(name="下月", next_date=in_days(31))
    # A plan entered with a past date: the daily job has not created its work yet.
    MaintenancePlanFactory(name="逾期", next_date=in_days(-3))
    MaintenancePlanFactory(name="停用的逾期", next_date=in_days(-3), active=False)

    page = dispatcher_client.get(LIST).content.decode()
    assert "?due=30" in page and "?due=overdue" in page  # the quick filters' links
    assert names(dispatcher_client.get(LIST, {"due": "30"})) == ["下周", "本月"]
    assert names(dispatcher_client.get(LIST, {"due": "7"})) == ["下周"]
    assert names(dispatcher_client.get(LIST, {"due": "overdue"})) == ["逾期"]
    assert "3 天" in dispatcher_client.get(LIST, {"due": "overdue"}).content.decode()


def test_a_quick_filter_keeps_the_other_filters(dispatcher_client, point):
    response = dispatcher_client.get(LIST, {"service_point": point.pk, "kind": "inspection"})
    links = {label: query for label, query, _active in response.context["quick_filters"]}
    assert all(f"service_point={point.pk}" in query for query in links.values())


def test_filters_by_service_point_kind_and_customer(dispatcher_client, point):
    customer = CustomerFactory(code="C-PLAN-1")
    own_unit = EquipmentFactory(customer=customer)
    agreement = ServiceAgreementFactory(customer=customer, end_date=in_days(400))
    MaintenancePlanFactory(name="浦东的", service_point=point)
    MaintenancePlanFactory(name="巡检", kind=MaintenancePlan.Kind.INSPECTION)
    MaintenancePlanFactory(name="客户设备的", equipment=own_unit)
    MaintenancePlanFactory(name="客户协议的", equipment=None, agreement=agreement)

    assert names(dispatcher_client.get(LIST, {"service_point": point.pk})) == ["浦东的"]
    assert names(dispatcher_client.get(LIST, {"kind": "inspection"})) == ["巡检"]
    by_customer = dispatcher_client.get(LIST, {"customer": "c-plan-1"})
    assert sorted(names(by_customer)) == ["客户协议的", "客户设备的"]
    assert customer.name in by_customer.content.decode()
    assert names(dispatcher_client.get(LIST, {"customer": "NOBODY"})) == []
    assert names(dispatcher_client.get(LIST, {"equipment": own_unit.pk})) == ["客户设备的"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("滤芯", ["滤芯更换"]),
        ("kj-2026-0001", ["滤芯更换"]),  # the unit's serial number, any case
        ("旺隆昌", ["滤芯更换", "协议巡检"]),  # the customer's name
        ("SA-PLAN-9", ["协议巡检"]),  # the agreement's number
        ("无此计划", []),
    ],
)
def test_search(dispatcher_client, unit, text, found):
    unit.customer.name = "苏州旺隆昌机械"
    unit.customer.save()
    agreement = ServiceAgreementFactory(
        number="SA-PLAN-9", customer=unit.customer, end_date=in_days(400)
    )
    MaintenancePlanFactory(name="滤芯更换", equipment=unit)
    MaintenancePlanFactory(name="协议巡检", equipment=None, agreement=agreement)
    MaintenancePlanFactory(name="别家的")
    assert sorted(names(dispatcher_client.get(LIST, {"q": text}))) == sorted(found)


def test_the_list_pages_with_the_capped_paginator(dispatcher_client, settings):
    settings.PAGE_SIZE = 2
    for n in range(5):
        MaintenancePlanFactory(name=f"计划{n}", next_date=in_days(n + 1))
    response = dispatcher_client.get(LIST, {"page": 3})
    assert names(response) == ["计划4"]
    assert response.context["paginator"].__class__.__name__ == "CappedPaginator"
    assert dispatcher_client.get(LIST, {"page": 9}).status_code == 404


def plans(n, point):
    customer = CustomerFactory(code=f"C-BUDGET-{MaintenancePlan.objects.count()}")
    agreement = ServiceAgreementFactory(customer=customer, end_date=in_days(400))
    for i in range(n):
        unit = EquipmentFactory(customer=customer)
        MaintenancePlanFactory(equipment=unit, service_point=point, next_date=in_days(i + 1))
    MaintenancePlanFactory(equipment=None, agreement=agreement, service_point=point)
    return customer


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"due": "30"},
        {"due": "overdue", "kind": "maintenance"},
        {"q": "保养"},
        {"customer": "C-BUDGET-0"},
        {"state": "inactive"},
    ],
)
def test_the_list_makes_the_same_queries_with_few_plans_as_with_many(
    dispatcher_client, point, params
):
    params = {**params, "service_point": point.pk}
    plans(2, point)
    few = count_queries(dispatcher_client, LIST, params)
    plans(30, point)
    assert count_queries(dispatcher_client, LIST, params) == few


def test_engineers_read_the_plans_of_their_own_service_point(client_for, point):
    profile = EngineerProfileFactory(service_point=point)
    own = MaintenancePlanFactory(name="本站的", service_point=point)
    other = MaintenancePlanFactory(name="别站的")
    client = client_for(profile.user)
    response = client.get(LIST)
    assert names(response) == ["本站的"]
    page = response.content.decode()
    assert own.equipment.customer.name in page
    # They may not open customers or units: no links to them, no way to change plans.
    assert own.equipment.customer.get_absolute_url() not in page
    assert client.get(own.get_absolute_url()).status_code == 200
    assert reverse("customers:plan_edit", args=[own.pk]) not in page
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(reverse("customers:plan_edit", args=[own.pk])).status_code == 403
    assert client.post(reverse("customers:plan_deactivate", args=[own.pk])).status_code == 403


def test_an_engineer_without_a_service_point_sees_no_plans(engineer_client):
    MaintenancePlanFactory()
    assert names(engineer_client.get(LIST)) == []


def test_roles_without_plans_are_refused_and_strangers_sent_to_sign_in(
    revisit_agent_client, client
):
    plan = MaintenancePlanFactory()
    assert revisit_agent_client.get(LIST).status_code == 403
    assert revisit_agent_client.get(plan.get_absolute_url()).status_code == 403
    assert client.get(LIST).status_code == 302


def test_who_manages_plans(dispatcher, service_manager, engineer, finance):
    for user in (dispatcher, service_manager):
        assert user.has_perm("customers.add_maintenanceplan")
        assert user.has_perm("customers.change_maintenanceplan")
    assert engineer.has_perm("customers.view_maintenanceplan")
    assert not engineer.has_perm("customers.change_maintenanceplan")
    assert not finance.has_perm("customers.view_maintenanceplan")
    # Nobody deletes a plan from the pages: its service requests keep pointing at it.
    assert not Permission.objects.filter(
        codename="delete_maintenanceplan", group__name__in=["dispatcher", "service_manager"]
    ).exists()


def test_the_menu_has_an_entry_for_those_who_read_plans(dispatcher_client, revisit_agent_client):
    assert f'href="{LIST}"' in dispatcher_client.get(reverse("customers:list")).content.decode()
    page = revisit_agent_client.get(reverse("customers:list")).content.decode()
    assert f'href="{LIST}"' not in page


def test_the_list_reads_in_english_too(dispatcher_client, dispatcher):
    MaintenancePlanFactory(next_date=in_days(5))
    dispatcher_client.cookies["django_language"] = "en"
    dispatcher.language = "en"
    dispatcher.save()
    page = dispatcher_client.get(LIST, headers={"accept-language": "en"}).content.decode()
    assert "Maintenance plans" in page and "in 5 days" in page


# --- A plan's page; create, edit, deactivate ------------------------------------------------------


def test_a_plans_page_shows_what_is_due_next(dispatcher_client, unit, point):
    plan = MaintenancePlanFactory(
        name="季度保养", equipment=unit, next_date=in_days(10), service_point=point
    )
    page = dispatcher_client.get(plan.get_absolute_url()).content.decode()
    assert "季度保养" in page and unit.serial_no in page and point.name in page
    upcoming = dispatcher_client.get(plan.get_absolute_url()).context["upcoming"]
    assert upcoming[0] == in_days(10) and len(upcoming) == 4
    assert upcoming[1] == plan.following_date()


def form_data(**overrides):
    data = {
        "name": "季度保养",
        "kind": "maintenance",
        "equipment": "",
        "agreement": "",
        "every": "3",
        "period": "months",
        "next_date": in_days(20).isoformat(),
        "lead_days": "7",
        "priority": "normal",
        "service_point": "",
    }
    return {**data, **overrides}


def test_a_dispatcher_adds_a_plan_from_the_units_page(dispatcher_client, unit, point):
    unit_page = dispatcher_client.get(unit.get_absolute_url()).content.decode()
    add = f"{reverse('customers:plan_create', args=[unit.customer_id])}?equipment={unit.pk}"
    assert add.replace("?", "?") in unit_page.replace("&amp;", "&")

    form_page = dispatcher_client.get(add)
    assert form_page.context["form"]["equipment"].value() == unit.pk
    response = dispatcher_client.post(
        add, form_data(equipment=unit.pk, service_point=point.pk), follow=True
    )
    plan = MaintenancePlan.objects.get()
    assert response.redirect_chain[-1][0] == plan.get_absolute_url()
    assert (plan.equipment, plan.interval_months, plan.interval_days) == (unit, 3, None)
    assert plan.create_on == in_days(13)
    assert plan.service_point == point and plan.active
    assert "已保存" in response.content.decode()


def test_a_service_manager_adds_an_agreements_plan_every_15_days(
    service_manager_client, unit, point
):
    agreement = ServiceAgreementFactory(customer=unit.customer, end_date=in_days(300))
    url = reverse("customers:plan_create", args=[unit.customer_id])
    response = service_manager_client.post(
        url,
        form_data(
            agreement=agreement.pk,
            every="15",
            period="days",
            kind="inspection",
            service_point=point.pk,
        ),
    )
    assert response.status_code == 302
    plan = MaintenancePlan.objects.get()
    assert (plan.agreement, plan.equipment, plan.interval_days) == (agreement, None, 15)


def test_the_form_suggests_the_service_point_of_the_customers_region(dispatcher_client, unit):
    local = ServicePointFactory(region=unit.customer.region)
    ServicePointFactory()
    form = dispatcher_client.get(reverse("customers:plan_create", args=[unit.customer_id]))
    assert form.context["form"]["service_point"].value() == local.pk


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"equipment": ""}, "equipment", "选择计划所针对的设备或协议"),
        ({"agreement": "AGREEMENT"}, "agreement", "不能同时选择"),
        ({"next_date": "PAST"}, "next_date", "不能早于今天"),
        ({"next_date": "2099-01-01"}, "next_date", "5 年内"),
        ({"every": "121"}, "every", "最多 120"),
        ({"every": "10", "period": "days", "lead_days": "10"}, "lead_days", "提前天数"),
        ({"lead_days": "91"}, "lead_days", "90"),
        ({"every": "0"}, "every", None),
        ({"kind": ""}, "kind", None),
        ({"service_point": ""}, "service_point", None),
        ({"name": "x" * 101}, "name", None),
    ],
)
def test_a_bad_plan_is_explained_and_nothing_is_saved(
    dispatcher_client, unit, point, overrides, field, message
):
    agreement = ServiceAgreementFactory(customer=unit.customer, end_date=in_days(400))
    values = {"AGREEMENT": agreement.pk, "PAST": in_days(-1).isoformat()}
    overrides = {k: values.get(v, v) for k, v in overrides.items()}
    data = form_data(**{"equipment": unit.pk, "service_point": point.pk, **overrides})
    response = dispatcher_client.post(
        reverse("customers:plan_create", args=[unit.customer_id]), data
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    if message:
        assert any(message in e for e in errors[field]), errors[field]
    assert "未保存" in response.content.decode()
    assert not MaintenancePlan.objects.exists()


def test_no_plan_for_a_scrapped_unit_or_past_the_agreements_end(dispatcher_client, point):
    customer = CustomerFactory()
    scrapped = EquipmentFactory(customer=customer, status=Equipment.Status.SCRAPPED)
    ending = ServiceAgreementFactory(customer=customer, end_date=in_days(10))
    url = reverse("customers:plan_create", args=[customer.pk])
    response = dispatcher_client.post(url, form_data(equipment=scrapped.pk, service_point=point.pk))
    assert "已报废" in str(response.context["form"].errors["equipment"])
    response = dispatcher_client.post(url, form_data(agreement=ending.pk, service_point=point.pk))
    assert ending.end_date.isoformat() in str(response.context["form"].errors["next_date"])
    assert not MaintenancePlan.objects.exists()


def test_another_customers_unit_cannot_be_chosen(dispatcher_client, unit, point):
    stranger = EquipmentFactory()
    response = dispatcher_client.post(
        reverse("customers:plan_create", args=[unit.customer_id]),
        form_data(equipment=stranger.pk, service_point=point.pk),
    )
    assert "equipment" in response.context["form"].errors
    assert not MaintenancePlan.objects.exists()


def test_engineers_cannot_add_plans(client_for, unit, point):
    client = client_for(EngineerProfileFactory(service_point=point).user)
    url = reverse("customers:plan_create", args=[unit.customer_id])
    assert client.get(url).status_code == 403
    assert client.post(url, form_data(equipment=unit.pk)).status_code == 403


def test_editing_a_plan_changes_its_interval(dispatcher_client, unit, point):
    plan = MaintenancePlanFactory(equipment=unit, service_point=point, next_date=in_days(20))
    url = reverse("customers:plan_edit", args=[plan.pk])
    form = dispatcher_client.get(url).context["form"]
    assert (form["every"].value(), form["period"].value()) == (3, "months")
    data = form_data(
        equipment=unit.pk,
        service_point=point.pk,
        every="30",
        period="days",
        next_date=in_days(25).isoformat(),
        drawn_next_date=in_days(20).isoformat(),
    )
    assert dispatcher_client.post(url, data).status_code == 302
    plan.refresh_from_db()
    assert (plan.interval_days, plan.interval_months) == (30, None)
    assert (plan.next_date, plan.create_on) == (in_days(25), in_days(18))


def test_an_edit_keeps_the_date_the_daily_job_moved_on_meanwhile(dispatcher_client, unit, point):
    plan = MaintenancePlanFactory(equipment=unit, service_point=point, next_date=in_days(5))
    url = reverse("customers:plan_edit", args=[plan.pk])
    drawn = dispatcher_client.get(url).context["form"]["next_date"].value()
    timers.run_due_plans(today())  # its request is created; the plan moves on three months
    plan.refresh_from_db()
    moved = plan.next_date
    assert moved > in_days(5)
    data = form_data(
        name="改名",
        equipment=unit.pk,
        service_point=point.pk,
        next_date=drawn.isoformat(),
        drawn_next_date=drawn.isoformat(),
    )
    assert dispatcher_client.post(url, data).status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.next_date, plan.last_date) == ("改名", moved, in_days(5))
    timers.run_due_plans(today())
    assert Ticket.objects.filter(plan=plan).count() == 1


def test_deactivating_stops_the_work_and_reactivating_skips_the_dates_gone_by(
    dispatcher_client, client_for, dispatcher, unit, point
):
    plan = MaintenancePlanFactory(
        equipment=unit, service_point=point, next_date=in_days(3), interval_months=None
    )
    MaintenancePlan.objects.filter(pk=plan.pk).update(interval_days=10)
    deactivate = reverse("customers:plan_deactivate", args=[plan.pk])
    assert dispatcher_client.get(deactivate).status_code == 405
    response = dispatcher_client.post(deactivate, follow=True)
    assert "已停用" in response.content.decode()
    plan.refresh_from_db()
    assert not plan.active
    assert timers.run_due_plans(today()) == []  # no request for a deactivated plan

    with time_machine.travel(today() + timedelta(days=25)):
        # Signed in anew: the morning's session has long timed out.
        client_for(dispatcher).post(reverse("customers:plan_activate", args=[plan.pk]))
    plan.refresh_from_db()
    # 3, 13, 23 went by while it was off: the next is day 33 (25 days on, the clock's today).
    assert plan.active and plan.next_date == in_days(33)


def test_deactivating_twice_changes_nothing(dispatcher_client):
    plan = MaintenancePlanFactory(active=False)
    response = dispatcher_client.post(
        reverse("customers:plan_deactivate", args=[plan.pk]), follow=True
    )
    assert response.status_code == 200
    plan.refresh_from_db()
    assert not plan.active


# --- Panels on the customer's and the unit's pages ------------------------------------------------


def test_the_customer_page_lists_its_plans_with_what_is_due_next(dispatcher_client, unit):
    agreement = ServiceAgreementFactory(customer=unit.customer, end_date=in_days(400))
    MaintenancePlanFactory(name="设备计划", equipment=unit, next_date=in_days(9))
    MaintenancePlanFactory(
        name="协议计划", equipment=None, agreement=agreement, next_date=in_days(40)
    )
    MaintenancePlanFactory(name="别家的计划")
    page = dispatcher_client.get(unit.customer.get_absolute_url()).content.decode()
    assert 'id="maintenance-plans"' in page
    assert page.index("设备计划") < page.index("协议计划")
    assert "别家的计划" not in page
    assert "9 天后" in page
    assert reverse("customers:plan_create", args=[unit.customer_id]) in page
    assert f"{LIST}?customer={unit.customer.code}" in page


def test_the_unit_page_lists_its_own_and_its_agreements_plans(dispatcher_client, unit):
    other = EquipmentFactory(customer=unit.customer)
    agreement = ServiceAgreementFactory(
        customer=unit.customer, end_date=in_days(400), equipment=[unit]
    )
    MaintenancePlanFactory(name="本机计划", equipment=unit)
    MaintenancePlanFactory(name="协议计划", equipment=None, agreement=agreement)
    MaintenancePlanFactory(name="另一台的计划", equipment=other)
    page = dispatcher_client.get(unit.get_absolute_url()).content.decode()
    assert "本机计划" in page and "协议计划" in page
    assert "另一台的计划" not in page


def test_who_cannot_see_plans_gets_no_panel(revisit_agent_client, unit):
    MaintenancePlanFactory(name="本机计划", equipment=unit)
    page = revisit_agent_client.get(unit.customer.get_absolute_url()).content.decode()
    assert 'id="maintenance-plans"' not in page and "本机计划" not in page


def test_a_readers_panel_has_no_add_link(client_for, make_user, unit):
    from aftersales.roles import Role

    manager = make_user(Role.MANAGER)  # reads customers, not plans
    page = client_for(manager).get(unit.customer.get_absolute_url()).content.decode()
    assert reverse("customers:plan_create", args=[unit.customer_id]) not in page


def test_the_customer_page_costs_the_same_with_many_plans(dispatcher_client, point):
    customer = plans(2, point)
    url = customer.get_absolute_url()
    few = count_queries(dispatcher_client, url)
    for _i in range(15):
        MaintenancePlanFactory(equipment=EquipmentFactory(customer=customer))
    assert count_queries(dispatcher_client, url) == few


# --- The daily job ------------------------------------------------------------------------------


def test_the_daily_job_records_the_date_and_gives_the_request_the_plans_service_point(unit, point):
    plan = MaintenancePlanFactory(
        equipment=unit, service_point=point, next_date=date(2026, 11, 30), lead_days=7
    )
    timers.run_due_plans(date(2026, 11, 23))
    ticket = Ticket.objects.get(plan=plan)
    assert ticket.service_point == point
    plan.refresh_from_db()
    assert (plan.last_date, plan.next_date) == (date(2026, 11, 30), date(2027, 2, 28))


# --- Phones ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_plan_pages_fit_a_phone(mobile_page, live_server, login, dispatcher, unit, point):
    agreement = ServiceAgreementFactory(customer=unit.customer, end_date=in_days(400))
    plan = MaintenancePlanFactory(
        name="季度保养及滤芯更换（含全部配件）", equipment=unit, service_point=point
    )
    MaintenancePlanFactory(equipment=None, agreement=agreement, next_date=in_days(-2))
    login(mobile_page, live_server, dispatcher)
    for path in (
        LIST,
        f"{LIST}?due=overdue",
        plan.get_absolute_url(),
        reverse("customers:plan_edit", args=[plan.pk]),
        unit.customer.get_absolute_url(),
        unit.get_absolute_url(),
    ):
        mobile_page.goto(f"{live_server.url}{path}")
        assert mobile_page.evaluate("document.documentElement.scrollWidth <= 375"), path


@pytest.mark.parametrize(
    "params",
    [
        {"service_point": "99999999999999999999"},
        {"service_point": "1e309"},
        {"customer": "a\x00b"},
        {"q": "\x00"},
        {"equipment": "99999999999999999999"},
        {"due": "2026-02-31", "kind": "🙂", "state": "x" * 5000},
    ],
)
def test_garbage_in_the_list_parameters_is_ignored(dispatcher_client, params):
    MaintenancePlanFactory(name="照常显示")
    assert names(dispatcher_client.get(LIST, params)) == ["照常显示"]
