"""Business calendars: their pages (a list, a year of month grids, hours, days by range, copying
a year), who may change them, the 2027 data, the warning before a calendar in use runs out of
complete years (status page and a daily notice), and SLA clocks following an edit.

Dates are frozen with time-machine in Asia/Shanghai. The ready-made China calendar
("cn-statutory", the default) has complete years 2025 and 2026 and 2027's statutory days.
"""

import importlib
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.urls import reverse

from aftersales import calendars, tasks
from aftersales.deadlines import statutory_calendar
from aftersales.lib import cn_holidays
from aftersales.models import BusinessCalendar, Delivery, Notification
from aftersales.roles import Role

from ..factories import CustomerFactory, ServiceAgreementFactory, UserFactory, enter_ticket
from ..queries import count_queries

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def statutory():
    return BusinessCalendar.objects.get(code="cn-statutory")


@pytest.fixture
def office():
    """A calendar of one's own: Mon–Fri 09:00–18:00, two holidays of 2026, 2026 complete."""
    return BusinessCalendar.objects.create(
        code="office",
        name="办公室日历",
        weekly_hours=dict.fromkeys(["mon", "tue", "wed", "thu", "fri"], [["09:00", "18:00"]]),
        holidays=["2026-10-01", "2026-10-02"],
        workdays=["2026-10-10"],
        day_names={"2026-10-01": "国庆节", "2026-10-02": "国庆节", "2026-10-10": "国庆节调休"},
        years=[2026],
    )


def year_page(client, calendar, year):
    return client.get(reverse("org:calendar_year", args=[calendar.code]), {"year": year})


def kinds(page):
    """{"2027-01-01": "holiday", ...} as the year page's grid shows them."""
    html = page.content.decode()
    return dict(re.findall(r'data-date="([0-9-]+)" data-kind="(\w+)"', html))


def post_days(client, calendar, **data):
    data.setdefault("year", data["first"][:4])
    return client.post(reverse("org:calendar_days", args=[calendar.code]), data)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- 2027 -------------------------------------------------------------------------------------


def test_2027_new_year_is_not_a_working_day_in_the_ready_made_calendar(statutory):
    work = statutory.calendar
    assert not work.is_working(at("2027-01-01 10:00"))
    assert work.total_on(date(2027, 1, 1)) == 0
    # 除夕 to 初三 (2027-02-05 to 02-08), 清明, 劳动节 (1–2 May), 端午, 中秋, 国庆 (1–3 Oct).
    for day in ["2027-02-05", "2027-02-08", "2027-04-05", "2027-06-09", "2027-09-15"]:
        assert work.total_on(date.fromisoformat(day)) == 0, day
    assert work.is_working(at("2027-01-04 10:00"))  # the Monday after
    # The arithmetic for requests without a calendar reads the same data.
    assert not statutory_calendar().is_working(at("2027-01-01 10:00"))


def test_2027_is_entered_but_not_complete_until_its_notice_is(statutory):
    assert statutory.years == [2025, 2026]
    assert statutory.day_names["2027-02-06"] == "春节"
    assert statutory.day_names["2026-02-14"] == "春节调休"
    assert not [d for d in statutory.workdays if d.startswith("2027")]  # no invented make-up days
    assert cn_holidays.CONFIRMED_YEARS == (2025, 2026)


def test_the_migration_brings_only_an_unchanged_ready_made_calendar_up_to_date(statutory, office):
    migration = importlib.import_module("aftersales.migrations.0008_calendar_years")
    before_2027 = cn_holidays.china_statutory((2025, 2026))
    statutory.holidays, statutory.workdays = before_2027["holidays"], before_2027["workdays"]
    statutory.day_names, statutory.years = {}, []
    statutory.save()
    changed = BusinessCalendar.objects.create(
        code="cn-changed", name="改过的", weekly_hours=statutory.weekly_hours
    )
    changed.holidays = [*before_2027["holidays"], "2026-12-31"]
    changed.save()
    office.years = []
    office.save()

    migration.forwards(django_apps, None)

    statutory.refresh_from_db()
    assert "2027-01-01" in statutory.holidays and statutory.years == [2025, 2026]
    assert statutory.day_names["2027-10-01"] == "国庆节"
    changed.refresh_from_db()
    assert "2027-01-01" not in changed.holidays and changed.years == [2025, 2026]
    office.refresh_from_db()
    assert office.years == [2026]
    seven = BusinessCalendar.objects.get(code="7x24")
    assert seven.years == [] and seven.is_perpetual


# --- Pages and permissions --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["administrator", "service_manager", "dispatcher", "manager"])
def test_staff_who_answer_for_sla_open_the_calendar_pages(request, client_for, role, statutory):
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("org:calendar_list")).status_code == 200
    assert year_page(client, statutory, 2027).status_code == 200


@pytest.mark.parametrize("role", ["engineer", "revisit_agent", "parts_clerk", "finance"])
def test_other_roles_cannot_open_calendar_pages(request, client_for, role, statutory):
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("org:calendar_list")).status_code == 403
    assert year_page(client, statutory, 2027).status_code == 403


def test_calendar_pages_need_signing_in(client, statutory):
    response = client.get(reverse("org:calendar_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_menu_offers_calendars_to_those_who_may_see_them(client_for, dispatcher, engineer):
    url = reverse("org:calendar_list")
    assert url in client_for(dispatcher).get(reverse("notifications:list")).content.decode()
    assert url not in client_for(engineer).get(reverse("notifications:list")).content.decode()


def test_list_shows_years_and_who_uses_each_calendar(client_for, service_manager, office):
    agreement = ServiceAgreementFactory(calendar=office, name="华东维保合同")
    ended = ServiceAgreementFactory(
        calendar=office,
        name="已到期合同",
        start_date=date(2024, 1, 1),
        end_date=date(2024, 12, 31),
    )
    with time_machine.travel(at("2026-07-01 10:00"), tick=False):
        page = client_for(service_manager).get(reverse("org:calendar_list"))
    html = page.content.decode()
    assert "办公室日历" in html and "中国法定工作日" in html
    assert agreement.get_absolute_url() in html and str(agreement) in html
    assert str(ended) not in html  # an ended agreement no longer counts in it
    assert "默认日历" in html  # the default calendar says so
    assert "2025–2026" in html


def test_agreement_names_stay_hidden_from_those_who_may_not_see_agreements(
    client_for, office, make_user
):
    ServiceAgreementFactory(calendar=office, name="保密合同")
    reader = make_user(Role.MANAGER, username="reader")
    reader.groups.get(name=Role.MANAGER).permissions.remove(
        *reader.groups.get(name=Role.MANAGER).permissions.filter(codename="view_serviceagreement")
    )
    html = client_for(reader).get(reverse("org:calendar_list")).content.decode()
    assert "办公室日历" in html and "保密合同" not in html


def test_list_makes_the_same_queries_for_more_calendars(client_for, service_manager, office):
    client = client_for(service_manager)
    ServiceAgreementFactory(calendar=office)
    few = count_queries(client, reverse("org:calendar_list"))
    for n in range(6):
        more = BusinessCalendar.objects.create(
            code=f"more-{n}", name=f"日历{n}", weekly_hours=office.weekly_hours
        )
        ServiceAgreementFactory.create_batch(2, calendar=more)
    assert count_queries(client, reverse("org:calendar_list")) == few


def test_year_view_tells_working_days_holidays_and_make_up_days_apart(
    client_for, dispatcher, statutory
):
    page = year_page(client_for(dispatcher), statutory, 2026)
    days = kinds(page)
    assert len(days) == 365
    assert days["2026-01-01"] == "holiday"
    assert days["2026-01-04"] == "workday"  # a Sunday worked (元旦调休)
    assert days["2026-01-05"] == "open"
    assert days["2026-01-10"] == "closed"  # a Saturday
    html = page.content.decode()
    assert "春节调休" in html and "休" in html and "班" in html
    # A dispatcher reads; only those who may change the calendar get the forms.
    assert reverse("org:calendar_days", args=[statutory.code]) not in html


def test_year_view_of_2027_says_the_year_is_not_complete(client_for, service_manager, statutory):
    page = year_page(client_for(service_manager), statutory, 2027)
    html = page.content.decode()
    assert kinds(page)["2027-01-01"] == "holiday"
    assert "2027 年尚未完整" in html
    assert reverse("org:calendar_complete", args=[statutory.code]) in html


@pytest.mark.parametrize("year", ["abc", "\x00", "99999", "-1", "2027.5"])
def test_a_year_that_is_not_one_shows_this_year(client_for, dispatcher, statutory, year):
    with time_machine.travel(at("2026-07-01 10:00"), tick=False):
        page = year_page(client_for(dispatcher), statutory, year)
    assert page.status_code == 200 and page.context["year"] == 2026


def test_an_unknown_calendar_is_not_found(client_for, dispatcher):
    response = client_for(dispatcher).get(reverse("org:calendar_year", args=["nope"]))
    assert response.status_code == 404


# --- Marking and removing days ----------------------------------------------------------------


def test_a_service_manager_marks_a_holiday_range_with_a_name(client_for, service_manager, office):
    client = client_for(service_manager)
    response = post_days(
        client,
        office,
        action="add",
        kind="holiday",
        first="2027-02-05",
        last="2027-02-08",
        name=" 春节 ",
    )
    assert response.status_code == 302
    assert response["Location"] == calendars.year_url(office, 2027)
    office.refresh_from_db()
    assert {"2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"} <= set(office.holidays)
    assert office.day_names["2027-02-06"] == "春节"
    assert not office.calendar.is_working(at("2027-02-08 10:00"))
    page = client.get(response["Location"])
    assert "已标记 4 个节假日：春节。" in messages_of(page)


def test_a_holiday_range_is_removed(client_for, administrator, office):
    response = post_days(
        client_for(administrator),
        office,
        action="remove",
        kind="holiday",
        first="2026-09-30",
        last="2026-10-02",
    )
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.holidays == [] and "2026-10-01" not in office.day_names
    assert office.workdays == ["2026-10-10"]  # the other kind stays


def test_make_up_days_are_marked_on_days_the_week_closes(client_for, service_manager, office):
    client = client_for(service_manager)
    response = post_days(
        client, office, action="add", kind="workday", first="2027-01-30", name="春节调休"
    )
    assert response.status_code == 302
    office.refresh_from_db()
    assert "2027-01-30" in office.workdays  # a Saturday worked
    assert office.calendar.is_working(at("2027-01-30 10:00"))

    refused = post_days(
        client, office, action="add", kind="workday", first="2027-02-01", name="调休"
    )
    assert refused.status_code == 400
    assert "2027-02-01：按每周工作时间本来就是工作日" in messages_of(refused)[-1]


def test_nobody_without_the_right_changes_days(client_for, dispatcher, office):
    response = post_days(
        client_for(dispatcher),
        office,
        action="add",
        kind="holiday",
        first="2027-01-01",
        name="元旦",
    )
    assert response.status_code == 403
    office.refresh_from_db()
    assert "2027-01-01" not in office.holidays


def test_changing_days_needs_a_post(client_for, service_manager, office):
    url = reverse("org:calendar_days", args=[office.code])
    assert client_for(service_manager).get(url).status_code == 405


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first": "2027-02-08", "last": "2027-02-05"}, "last", "最后一天不能早于第一天。"),
        ({"first": "2027-01-01", "last": "2028-01-05"}, "last", "一次最多 366 天。"),
        ({"first": "2027-01-01", "name": ""}, "name", "请为这些日子起个名字，例如“春节”。"),
        ({"first": "2027-02-31"}, "first", "输入一个有效的日期。"),
        ({"first": "1899-01-01"}, "first", "请选择 2000 年到 2100 年之间的日期。"),
        ({"first": "2027-01-01", "name": "节" * 31}, "name", None),
        ({"first": "2027-01-01", "kind": "other"}, "kind", None),
    ],
)
def test_bad_ranges_are_refused_with_a_message_and_nothing_changes(
    client_for, service_manager, office, data, field, message
):
    before = (office.holidays, office.workdays, office.day_names)
    data = {"action": "add", "kind": "holiday", "name": "元旦", "year": "2027", **data}
    response = post_days(client_for(service_manager), office, **data)
    assert response.status_code == 400
    form = response.context["days_form"]
    assert field in form.errors
    if message:
        assert message in form.errors[field]
    assert "请更正下面的错误；没有做任何更改。" in messages_of(response)
    office.refresh_from_db()
    assert (office.holidays, office.workdays, office.day_names) == before


def test_a_holiday_cannot_be_a_make_up_day_too(client_for, service_manager, office):
    response = post_days(
        client_for(service_manager),
        office,
        action="add",
        kind="holiday",
        first="2026-10-09",
        last="2026-10-11",
        name="国庆节",
    )
    assert response.status_code == 400
    assert messages_of(response) == ["2026-10-10：已经是调休上班日。请先移除；没有做任何更改。"]
    office.refresh_from_db()
    assert "2026-10-09" not in office.holidays


def test_removing_days_that_are_not_there_says_so(client_for, service_manager, office):
    response = post_days(
        client_for(service_manager),
        office,
        action="remove",
        kind="workday",
        first="2026-05-01",
        last="2026-05-05",
    )
    assert response.status_code == 400
    assert messages_of(response) == ["2026-05-01 至 2026-05-05 没有调休上班日；没有做任何更改。"]


# --- Copying a year and completing it ---------------------------------------------------------


def copy(client, calendar, source, target, replace=False):
    data = {"source": source, "target": target}
    if replace:
        data["replace"] = "on"
    return client.post(reverse("org:calendar_copy", args=[calendar.code]), data)


def test_a_year_is_copied_to_another_as_a_start(client_for, service_manager, statutory):
    client = client_for(service_manager)
    response = copy(client, statutory, 2026, 2028)
    assert response.status_code == 302
    assert response["Location"] == calendars.year_url(statutory, 2028)
    statutory.refresh_from_db()
    holidays_2026 = [d for d in statutory.holidays if d.startswith("2026")]
    holidays_2028 = [d for d in statutory.holidays if d.startswith("2028")]
    assert [d[5:] for d in holidays_2028] == [d[5:] for d in holidays_2026]
    assert statutory.day_names["2028-10-01"] == "国庆节"
    # Make-up days only where 2028's week is closed (2026-02-14 was a Saturday; 2028-02-14 is a
    # Monday): what is left out is said.
    assert "2028-01-04" not in statutory.workdays  # a Tuesday in 2028
    assert 2028 not in statutory.years  # to check against 2028's notice first
    page = client.get(response["Location"])
    shown = messages_of(page)
    assert any("从 2026 年复制到 2028 年" in m for m in shown)
    assert any("2026-01-04" in m for m in shown)


def test_copying_onto_a_year_with_days_needs_replace(client_for, service_manager, statutory):
    client = client_for(service_manager)
    refused = copy(client, statutory, 2026, 2027)
    assert refused.status_code == 400
    assert messages_of(refused)[0].startswith("2027 年已有 13 个节假日或调休上班日")
    statutory.refresh_from_db()
    assert "2027-02-05" in statutory.holidays

    assert copy(client, statutory, 2026, 2027, replace=True).status_code == 302
    statutory.refresh_from_db()
    assert "2027-02-05" not in statutory.holidays and "2027-02-15" in statutory.holidays


def test_copying_a_year_onto_itself_or_from_an_empty_year_is_refused(
    client_for, service_manager, statutory
):
    client = client_for(service_manager)
    same = copy(client, statutory, 2026, 2026)
    assert same.status_code == 400 and "target" in same.context["copy_form"].errors
    empty = copy(client, statutory, 2030, 2031)
    assert empty.status_code == 400
    assert messages_of(empty) == ["2030 年没有可复制的节假日或调休上班日。"]


def test_29_february_is_not_copied_to_a_common_year(service_manager, office):
    calendars.mark_days(
        office,
        service_manager,
        kind=calendars.HOLIDAY,
        first=date(2028, 2, 28),
        last=date(2028, 2, 29),
        name="公司假",
    )
    _calendar, copied = calendars.copy_year(office, service_manager, source=2028, target=2029)
    assert (copied.holidays, copied.skipped) == (1, ["2028-02-29"])


def test_a_year_is_marked_complete_and_not_complete(client_for, service_manager, statutory):
    client = client_for(service_manager)
    url = reverse("org:calendar_complete", args=[statutory.code])
    assert client.post(url, {"year": 2027, "complete": "1"}).status_code == 302
    statutory.refresh_from_db()
    assert statutory.years == [2025, 2026, 2027]
    assert client.post(url, {"year": 2027}).status_code == 302
    statutory.refresh_from_db()
    assert statutory.years == [2025, 2026]

    empty = client.post(url, {"year": 2031, "complete": "1"}, follow=True)
    assert "2031 年还没有节假日或调休上班日" in messages_of(empty)[-1]
    statutory.refresh_from_db()
    assert statutory.years == [2025, 2026]


def test_a_dispatcher_cannot_complete_or_copy_a_year(client_for, dispatcher, statutory):
    client = client_for(dispatcher)
    url = reverse("org:calendar_complete", args=[statutory.code])
    assert client.post(url, {"year": 2027, "complete": "1"}).status_code == 403
    assert copy(client, statutory, 2026, 2028).status_code == 403
    statutory.refresh_from_db()
    assert statutory.years == [2025, 2026]
    assert not [d for d in statutory.holidays if d.startswith("2028")]


# --- Weekly hours -----------------------------------------------------------------------------


def hours_post(**changes):
    data = dict.fromkeys(["mon", "tue", "wed", "thu", "fri"], "09:00-12:00, 13:00-18:00")
    data.update(sat="", sun="", workday_hours="")
    data.update(changes)
    return data


def test_weekly_hours_are_edited_as_people_type_them(client_for, service_manager, office):
    client = client_for(service_manager)
    url = reverse("org:calendar_hours", args=[office.code])
    assert client.get(url).status_code == 200
    response = client.post(url, hours_post(sat="9：00－12：00", workday_hours="08:30~17:30"))
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.weekly_hours["sat"] == [["09:00", "12:00"]]
    assert office.weekly_hours["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert "sun" not in office.weekly_hours
    assert office.workday_hours == [["08:30", "17:30"]]
    assert office.calendar.is_working(at("2026-12-05 10:00"))  # a Saturday morning now


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"mon": "09:00-25:00"}, "mon", "“25:00”不是一天中的时刻：请写成 09:00、13:30 或 24:00。"),
        ({"tue": "18:00-09:00"}, "tue", "“18:00-09:00”的结束早于开始。"),
        ({"wed": "09:00-12:00, 11:00-13:00"}, "wed", "09:00-12:00 与 11:00-13:00 重叠。"),
        ({"thu": "上午"}, "thu", "“上午”不是时间段：请写成 09:00-12:00。"),
    ],
)
def test_bad_hours_are_refused_with_a_message(
    client_for, service_manager, office, changes, field, message
):
    before = office.weekly_hours
    url = reverse("org:calendar_hours", args=[office.code])
    response = client_for(service_manager).post(url, hours_post(**changes))
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    office.refresh_from_db()
    assert office.weekly_hours == before


def test_a_week_without_working_time_is_refused(client_for, service_manager, office):
    url = reverse("org:calendar_hours", args=[office.code])
    data = hours_post(mon="", tue="", wed="", thu="", fri="")
    response = client_for(service_manager).post(url, data)
    assert response.status_code == 400
    assert "请至少给一周中的一天设定工作时间；没有做任何更改。" in response.content.decode()


def test_a_dispatcher_cannot_edit_hours(client_for, dispatcher, office):
    url = reverse("org:calendar_hours", args=[office.code])
    assert client_for(dispatcher).get(url).status_code == 403
    assert client_for(dispatcher).post(url, hours_post(sat="09:00-12:00")).status_code == 403


# --- Running out of years ---------------------------------------------------------------------


def test_status_page_warns_60_days_before_the_default_calendar_runs_out(
    client_for, administrator, statutory
):
    client = client_for(administrator)
    with time_machine.travel(at("2026-10-31 10:00"), tick=False):  # 61 days before
        assert "calendar-warnings" not in client.get(reverse("org:status")).content.decode()
    with time_machine.travel(at("2026-11-01 10:00"), tick=False):  # 60 days before
        html = client.get(reverse("org:status")).content.decode()
    assert "calendar-warnings" in html
    assert "工作日历“中国法定工作日（含节假日与调休）”：请录入 2027 年的节假日" in html
    assert "还剩 60 天" in html
    assert calendars.year_url(statutory, 2027).replace("?", "?") in html


def test_status_page_warns_about_calendars_in_use_only(client_for, administrator, office):
    client = client_for(administrator)
    with time_machine.travel(at("2026-12-01 10:00"), tick=False):
        assert "办公室日历" not in client.get(reverse("org:status")).content.decode()
        ServiceAgreementFactory(calendar=office)
        html = client.get(reverse("org:status")).content.decode()
    assert "工作日历“办公室日历”：请录入 2027 年的节假日" in html


def test_a_calendar_that_ran_out_is_warned_about_as_out(office):
    ServiceAgreementFactory(calendar=office, end_date=date(2027, 12, 31))
    found = dict(calendars.running_out(date(2027, 3, 1)))
    assert found[office].state == "out" and found[office].next_year == 2027


def test_the_7x24_calendar_never_runs_out():
    seven = BusinessCalendar.objects.get(code="7x24")
    ServiceAgreementFactory(calendar=seven)
    assert seven not in dict(calendars.running_out(date(2040, 12, 1)))


def test_the_daily_check_tells_the_administrators_once(
    administrator, service_manager, statutory, django_capture_on_commit_callbacks
):
    second = UserFactory(username="admin2", email="admin2@example.com")
    second.groups.add(*administrator.groups.all())
    with time_machine.travel(at("2026-11-15 08:00"), tick=False):
        for _day in range(3):  # the timer fires each morning
            tasks.check_calendars()
    notes = Notification.objects.filter(event="calendar_years")
    assert sorted(n.user.username for n in notes) == ["admin2", administrator.username]
    note = notes.get(user=second)
    assert note.title == "工作日历“中国法定工作日（含节假日与调休）”：请录入 2027 年的节假日"
    assert note.url == calendars.year_url(statutory, 2027)
    assert "2026-12-31" in note.body and "还剩 46 天" in note.body
    assert Delivery.objects.filter(key=note.key, target="admin2@example.com").count() == 1

    # 2027 entered and marked complete: no more warnings until 2027's end comes near, and then
    # one for 2028.
    calendars.set_year_complete(statutory, administrator, year=2027, complete=True)
    with time_machine.travel(at("2026-12-20 08:00"), tick=False):
        assert tasks.check_calendars() == {"warned": 0}
    with time_machine.travel(at("2027-11-02 08:00"), tick=False):
        tasks.check_calendars()
    assert notes.all().count() == 4
    assert notes.filter(key__endswith=":2028").count() == 2


# --- SLA clocks follow an edit ----------------------------------------------------------------


@pytest.fixture
def eager_tasks():
    from aftersales.celery import app

    before = {"task_always_eager": app.conf.task_always_eager}
    before["task_eager_propagates"] = app.conf.task_eager_propagates
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(before)


def test_sla_clocks_count_in_the_edited_calendar(
    client_for,
    dispatcher,
    service_manager,
    statutory,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    customer = CustomerFactory()
    ServiceAgreementFactory(
        customer=customer,
        calendar=statutory,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31),
        targets={"high": (60, 240, 480)},
    )
    with time_machine.travel(at("2026-12-07 17:00"), tick=False):  # a Monday, one hour left
        waiting = enter_ticket(dispatcher, customer=customer, priority="high")
    assert waiting.resolution_due == at("2026-12-08 17:00")  # 1 h Monday + 7 h Tuesday

    # The company closes on Tuesday 8 December.
    with (
        time_machine.travel(at("2026-12-07 17:10"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_days(
            client_for(service_manager),
            statutory,
            action="add",
            kind="holiday",
            first="2026-12-08",
            name="公司年会",
        )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.resolution_due == at("2026-12-09 17:00")  # Tuesday skipped
    entry = waiting.log.latest("id")
    assert (entry.action, entry.actor) == ("replan_calendar", service_manager)
    assert entry.label == "工作日历变更后重新计算了 SLA 到期时间"

    with time_machine.travel(at("2026-12-07 17:20"), tick=False):
        later = enter_ticket(dispatcher, customer=customer, priority="high")
    assert later.resolution_due == at("2026-12-09 17:20")


def test_marking_a_year_complete_replans_nothing(
    service_manager, statutory, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        calendars.set_year_complete(statutory, service_manager, year=2027, complete=True)
    assert callbacks == []


def test_coverage_is_counted_from_the_day(office):
    office.years = [2026, 2027, 2029]
    assert office.coverage(date(2026, 3, 1)).until == date(2027, 12, 31)
    soon = office.coverage(date(2027, 11, 2))
    assert (soon.state, soon.days_left, soon.next_year) == ("soon", 59, 2028)
    assert office.coverage(date(2028, 1, 1)).state == "out"
    assert office.coverage(date(2026, 3, 1)).state == "ok"


def test_the_admin_names_calendars_and_leaves_their_days_to_the_page(client, statutory):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    html = client.get(reverse("admin:aftersales_businesscalendar_change", args=[statutory.pk]))
    html = html.content.decode()
    assert 'name="holidays"' not in html and 'name="weekly_hours"' not in html
    assert statutory.get_absolute_url() in html
    assert (
        'name="weekly_hours"'
        in client.get(reverse("admin:aftersales_businesscalendar_add")).content.decode()
    )


def test_a_service_manager_creates_a_calendar_from_a_copy(client_for, service_manager, office):
    client = client_for(service_manager)
    assert reverse("org:calendar_create") in client.get(reverse("org:calendar_list")).text
    response = client.post(
        reverse("org:calendar_create"),
        {
            "name": "华南办公室",
            "code": "South-Office",
            "time_zone": "Asia/Shanghai",
            "start_from": office.pk,
        },
    )
    created = BusinessCalendar.objects.get(code="south-office")
    assert response["Location"] == created.get_absolute_url()
    assert created.holidays == office.holidays and created.years == [2026]
    assert created.day_names["2026-10-01"] == "国庆节"
    assert created.calendar.is_working(at("2026-10-12 10:00"))
    assert not created.calendar.is_working(at("2026-10-01 10:00"))


def test_a_new_calendar_without_a_copy_keeps_office_hours(client_for, administrator):
    client_for(administrator).post(
        reverse("org:calendar_create"),
        {"name": "工厂日历", "code": "factory", "time_zone": "Asia/Shanghai"},
    )
    created = BusinessCalendar.objects.get(code="factory")
    assert (
        created.weekly_hours["mon"] == cn_holidays.OFFICE_HOURS
        and "sat" not in created.weekly_hours
    )
    assert created.is_perpetual


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x", "code": "new", "time_zone": "Asia/Shanghai"},  # the page's own address
        {"name": "x", "code": "有 空格", "time_zone": "Asia/Shanghai"},
        {"name": "x", "code": "x", "time_zone": "Mars/Olympus"},
        {"name": "办公室日历", "code": "x2", "time_zone": "Asia/Shanghai"},  # name taken
    ],
)
def test_a_bad_new_calendar_is_refused_and_nothing_is_created(
    client_for, service_manager, office, data
):
    before = BusinessCalendar.objects.count()
    response = client_for(service_manager).post(reverse("org:calendar_create"), data)
    assert response.status_code == 200 and "is-invalid" in response.text
    assert BusinessCalendar.objects.count() == before


def test_only_those_who_keep_calendars_create_them(client_for, dispatcher):
    client = client_for(dispatcher)
    assert client.get(reverse("org:calendar_create")).status_code == 403
    assert reverse("org:calendar_create") not in client.get(reverse("org:calendar_list")).text


def test_the_year_grids_are_remembered_but_never_stale(client_for, service_manager, office):
    """The month grids are cached by the calendar's fingerprint: an edit shows at once, and
    the English page is not served the Chinese grids."""
    client = client_for(service_manager)
    assert kinds(year_page(client, office, 2027))["2027-03-01"] == "open"
    assert kinds(year_page(client, office, 2027))["2027-03-01"] == "open"  # from the cache
    post_days(client, office, action="add", kind="holiday", first="2027-03-01", name="厂休")
    assert kinds(year_page(client, office, 2027))["2027-03-01"] == "holiday"
    client.post(reverse("set_language"), {"language": "en"})
    cell = re.search(
        r'data-date="2027-03-01"[^>]*>(.*?)</td>', year_page(client, office, 2027).text, re.S
    )
    assert "Off" in cell.group(1) and "休" not in cell.group(1)
