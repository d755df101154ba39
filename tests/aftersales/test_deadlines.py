"""The deadline clock of `aftersales.deadlines`, driven for a complaint-like object with targets of
its own (first response in 4 working hours, resolution in 48), not a ticket's.

The clock works on plain objects (everything but the sweep), and the sweep on any model that
declares the clock's fields: a test-only `Complaint` model, created for the test in PostgreSQL.
The calendar: Mon–Fri 09:00–12:00 and 13:00–18:00; Monday 23 November 2026 is a working day.
"""

import ast
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.test.utils import isolate_apps

from aftersales import deadlines
from aftersales.deadlines import Clock, Light
from aftersales.lib.business_time import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
OFFICE = WorkCalendar.from_dict(
    {
        "tz": "Asia/Shanghai",
        "weekly": dict.fromkeys(
            ("mon", "tue", "wed", "thu", "fri"), [["09:00", "12:00"], ["13:00", "18:00"]]
        ),
    }
)
TARGETS = ("first_response", "resolution")
BUDGETS = {"first_response": 4 * H, "resolution": 48 * H}
CLOCK = Clock(
    targets=TARGETS,
    labels={"first_response": "First response", "resolution": "Resolution"},
    is_open=lambda complaint: complaint.state != "closed",
)


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def complaint(created_at="2026-11-23 10:00", **fields):
    """A plain object with the fields the clock reads and writes."""
    values = {
        "state": "open",
        "created_at": at(created_at),
        # Anything with a `.calendar` (a BusinessCalendar in a model).
        "calendar": SimpleNamespace(calendar=OFFICE),
        "sla_paused": timedelta(0),
        "suspended_at": None,
        "sla_due": None,
        "sla_warn_at": None,
        "sla_check_at": None,
    }
    for t in TARGETS:
        for part in ("due", "warn_at", "met_at", "margin", "warned_at", "breached_at"):
            values[f"{t}_{part}"] = None
    return SimpleNamespace(**(values | fields))


def test_plan_counts_each_target_in_business_time_and_warns_at_three_quarters():
    c = complaint()
    CLOCK.plan(c, BUDGETS, at("2026-11-23 10:00"))
    assert (c.first_response_warn_at, c.first_response_due) == (
        at("2026-11-23 14:00"),  # 3 working hours, over the lunch break
        at("2026-11-23 15:00"),
    )
    # 48 working hours = 6 days of 8: Monday's 7, Tuesday to Friday, Monday, 1 h on Tuesday.
    assert c.resolution_due == at("2026-12-01 10:00")
    assert (c.sla_due, c.sla_warn_at, c.sla_check_at) == (
        at("2026-11-23 15:00"),
        at("2026-11-23 14:00"),
        at("2026-11-23 14:00"),
    )
    assert CLOCK.light(c, at("2026-11-23 13:59")) == Light.ON_TIME
    assert CLOCK.light(c, at("2026-11-23 14:00")) == Light.AT_RISK
    assert CLOCK.light(c, at("2026-11-23 15:00")) == Light.BREACHED


def test_a_target_without_budget_has_no_clock():
    c = complaint()
    CLOCK.plan(c, {"resolution": 48 * H}, at("2026-11-23 10:00"))
    assert c.first_response_due is None
    assert c.sla_due == at("2026-12-01 10:00")
    assert [row["name"] for row in CLOCK.rows(c, at("2026-11-23 10:00"))] == ["resolution"]


def test_pause_stops_the_clock_and_resume_pushes_out_by_business_time():
    c = complaint()
    CLOCK.plan(c, BUDGETS, at("2026-11-23 10:00"))
    CLOCK.pause(c, at("2026-11-23 11:00"))
    assert (c.sla_due, c.sla_warn_at, c.sla_check_at) == (None, None, None)
    assert CLOCK.light(c) is None
    CLOCK.resume(c, at("2026-11-24 10:00"))
    # Monday 11–12 and 13–18, Tuesday 9–10: 7 working hours; the night does not count.
    assert (c.sla_paused, c.suspended_at) == (7 * H, None)
    assert c.first_response_due == at("2026-11-24 14:00")  # 15:00 + 7 working hours
    assert c.first_response_warn_at == at("2026-11-24 12:00")  # 14:00 + 7: closing time
    assert c.sla_check_at == at("2026-11-24 12:00")
    # Planned again later (a new budget), the pause still counts.
    CLOCK.plan(c, BUDGETS, at("2026-11-24 10:00"))
    assert c.first_response_due == at("2026-11-24 14:00")


def test_meeting_a_target_records_its_margin_once_and_the_next_target_leads():
    c = complaint()
    CLOCK.plan(c, BUDGETS, at("2026-11-23 10:00"))
    assert CLOCK.meet(c, "first_response", at("2026-11-23 12:30"))  # in the lunch break
    assert (c.first_response_met_at, c.first_response_margin) == (at("2026-11-23 12:30"), 2 * H)
    assert not CLOCK.meet(c, "first_response", at("2026-11-23 16:00"))  # the first time counts
    assert c.first_response_met_at == at("2026-11-23 12:30")
    assert c.sla_due == at("2026-12-01 10:00")
    CLOCK.meet(c, "resolution", at("2026-12-01 13:30"))
    assert c.resolution_margin == -5 * H / 2  # late by 10:00–12:00 and 13:00–13:30
    assert (c.sla_due, c.sla_check_at) == (None, None)
    assert [(row["name"], row["tone"]) for row in CLOCK.rows(c)] == [
        ("first_response", "success"),
        ("resolution", "danger"),
    ]


def test_planning_later_due_times_takes_back_warnings_and_breaches_that_no_longer_hold():
    c = complaint(first_response_warned_at=at("2026-11-23 14:00"))
    c.first_response_breached_at = at("2026-11-23 15:00")
    CLOCK.plan(c, {**BUDGETS, "first_response": 6 * H}, at("2026-11-23 15:30"))
    assert c.first_response_due == at("2026-11-23 17:00")
    assert c.first_response_breached_at is None
    assert c.first_response_warned_at == at("2026-11-23 14:00")  # 75 % is 15:30: not ahead


def test_a_closed_object_has_no_running_clock():
    c = complaint()
    CLOCK.plan(c, BUDGETS, at("2026-11-23 10:00"))
    c.state = "closed"
    CLOCK.refresh(c)
    assert (c.sla_due, c.sla_warn_at, c.sla_check_at) == (None, None, None)


def test_light_and_its_filter_read_the_clocks_own_summary_fields():
    clock = Clock(
        targets=TARGETS,
        labels={},
        is_open=bool,
        due_field="next_due",
        warn_field="next_warn_at",
    )
    now = at("2026-11-23 10:00")
    row = SimpleNamespace(next_due=now + H, next_warn_at=now - H)
    assert clock.light(row, now) == Light.AT_RISK
    assert clock.light_filter(Light.BREACHED, now) == Q(next_due__lte=now)
    assert clock.light_filter(Light.AT_RISK, now) == Q(next_due__gt=now, next_warn_at__lte=now)
    assert clock.light_filter("", now) == Q()


def test_the_clock_imports_no_app():
    """The core is the ground floor (STYLE 27): apps pass their model and rules in."""
    tree = ast.parse(Path(deadlines.__file__).read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {
        a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
    }
    ours = {app for app in settings.INSTALLED_APPS if (Path(settings.BASE_DIR) / app).is_dir()}
    apps = ours - {"aftersales"}
    assert {"tickets", "customers"} <= apps
    assert {m.split(".")[0] for m in modules if m} & apps == set()


# The sweep, on a model of its own ------------------------------------------------------------


@pytest.fixture
def complaint_model(db):
    """A complaint model declaring the clock's fields, its table made for this test only.

    PostgreSQL runs the CREATE TABLE inside the test's transaction, so it rolls back with it
    (SQLite refuses schema changes there: hence the `postgres` mark of the tests using it).
    """
    with isolate_apps("tests"):

        class Complaint(models.Model):
            number = models.CharField(max_length=20)
            state = models.CharField(max_length=10, default="open")
            handler_id = models.IntegerField(null=True)
            created_at = models.DateTimeField()
            sla_paused = models.DurationField(default=timedelta(0))
            suspended_at = models.DateTimeField(null=True)
            first_response_due = models.DateTimeField(null=True)
            first_response_warn_at = models.DateTimeField(null=True)
            first_response_met_at = models.DateTimeField(null=True)
            first_response_margin = models.DurationField(null=True)
            first_response_warned_at = models.DateTimeField(null=True)
            first_response_breached_at = models.DateTimeField(null=True)
            resolution_due = models.DateTimeField(null=True)
            resolution_warn_at = models.DateTimeField(null=True)
            resolution_met_at = models.DateTimeField(null=True)
            resolution_margin = models.DurationField(null=True)
            resolution_warned_at = models.DateTimeField(null=True)
            resolution_breached_at = models.DateTimeField(null=True)
            sla_due = models.DateTimeField(null=True)
            sla_warn_at = models.DateTimeField(null=True)
            sla_check_at = models.DateTimeField(null=True)

            class Meta:
                app_label = "tests"
                indexes = [
                    models.Index(
                        fields=["sla_check_at"],
                        name="complaint_sla_check",
                        condition=Q(sla_check_at__isnull=False),
                    )
                ]

            def __str__(self):
                return self.number

        with connection.schema_editor() as editor:
            editor.create_model(Complaint)
        yield Complaint


def new_complaint(model, number, created_at="2026-11-23 10:00", **fields):
    c = model(number=number, created_at=at(created_at), **fields)
    CLOCK.plan(c, BUDGETS, c.created_at)
    c.save()
    return c


@pytest.mark.postgres
def test_sweep_warns_then_breaches_each_target_once_and_returns_what_it_marked(
    complaint_model,
):
    late = new_complaint(complaint_model, "C-1", handler_id=7)
    answered = new_complaint(complaint_model, "C-2")
    CLOCK.meet(answered, "first_response", at("2026-11-23 11:00"))
    answered.save()
    paused = new_complaint(complaint_model, "C-3")
    CLOCK.pause(paused, at("2026-11-23 11:00"))
    paused.save()
    returning = ("id", "number", "handler_id")

    assert CLOCK.sweep(complaint_model, at("2026-11-23 13:59"), returning) == []
    marks = CLOCK.sweep(complaint_model, at("2026-11-23 14:00"), returning)
    assert [(m.row.number, m.row.handler_id, m.warned, m.breached) for m in marks] == [
        ("C-1", 7, ["first_response"], [])
    ]
    assert CLOCK.sweep(complaint_model, at("2026-11-23 14:00"), returning) == []  # once
    marks = CLOCK.sweep(complaint_model, at("2026-11-23 15:01"), returning)
    assert [(m.row.id, m.warned, m.breached) for m in marks] == [(late.pk, [], ["first_response"])]

    late.refresh_from_db()
    assert late.first_response_warned_at == at("2026-11-23 14:00")
    assert late.first_response_breached_at == at("2026-11-23 15:01")
    # The next look is the resolution warning: 36 working hours after Monday 10:00.
    assert late.sla_check_at == at("2026-11-27 15:00")
    assert CLOCK.light(late, at("2026-11-23 15:01")) == Light.BREACHED
    breached = complaint_model.objects.filter(
        CLOCK.light_filter(Light.BREACHED, at("2026-11-23 15:01"))
    )
    assert list(breached.values_list("number", flat=True)) == ["C-1"]
    paused.refresh_from_db()
    assert (paused.first_response_warned_at, paused.sla_check_at) == (None, None)
