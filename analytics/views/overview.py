"""The manager's morning page: what came in, what got done, how well, what is waiting."""

from datetime import timedelta

from django.db.models import Case, CharField, Count, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from customers.models import ProductModel
from tickets.models import OPEN_STATES, ProblemType, State

from .. import figures, metrics
from ..models import TicketFact
from ..reports import Column, Table, chart, display, drill_url
from .base import REPORTS, ReportView, names

TOP = 10
AGES = [
    ("age_1", _("Up to 1 day"), timedelta(days=1)),
    ("age_3", _("1–3 days"), timedelta(days=3)),
    ("age_7", _("3–7 days"), timedelta(days=7)),
    ("age_more", _("Over 7 days"), None),
]
SLA_TARGETS = [
    ("response", _("Response")),
    ("arrival", _("On-site arrival")),
    ("resolution", _("Resolution")),
]


def period_label(scope, period):
    return date_format(period, "SHORT_DATE_FORMAT" if scope.daily else "YEAR_MONTH_FORMAT")


def period_scope(scope, period):
    """The scope of one point of a series (its day, or its month within the range)."""
    if scope.daily:
        return figures.Scope(period, period, scope.filters)
    end = (period.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return figures.Scope(max(period, scope.start), min(end, scope.end), scope.filters)


def per_period(scope):
    """Requests opened / processed / closed per day or month, every period of the range."""
    counts = ["opened", "processed", "closed"]
    rows = {row["period"]: row for row in figures.series(scope, columns=counts)}
    periods = scope.days() if scope.daily else scope.months()
    columns = [
        Column("label", _("Day") if scope.daily else _("Month"), "text"),
        Column("opened", _("Opened"), event="created"),
        Column("processed", _("Processed"), event="processed"),
        Column("closed", _("Closed"), event="closed"),
    ]
    table = Table(
        "per_period", _("Requests per day") if scope.daily else _("Requests per month"), columns
    )
    for period in periods:
        row = rows.get(period, {})
        table.rows.append(
            {
                "label": period_label(scope, period),
                "opened": row.get("opened", 0),
                "processed": row.get("processed", 0),
                "closed": row.get("closed", 0),
                "drill": {},
                "scope": period_scope(scope, period),
            }
        )
    table.chart = chart(
        "line",
        [r["label"] for r in table.rows],
        [(c.label, [r[c.key] for r in table.rows]) for c in columns[1:]],
        links=[drill_url(r["scope"], "created") for r in table.rows],
    )
    return table


def sla_table(scope, total):
    columns = [
        Column("label", _("Target"), "text"),
        Column("decided", _("Decided"), event=None),
        Column("ok", _("Met in time"), event=None),
        Column("late", _("Late"), event=None),
        Column("rate", _("Compliance"), "percent"),
    ]
    table = Table("sla", _("SLA compliance"), columns)
    for target, label in SLA_TARGETS:
        ok, late = total[f"{target}_ok"], total[f"{target}_late"]
        table.rows.append(
            {
                "label": label,
                "decided": ok + late,
                "ok": ok,
                "late": late,
                "rate": metrics.sla_rate(total, target),
                "links": {
                    "decided": drill_url(scope, target),
                    "ok": drill_url(scope, target, outcome="ok"),
                    "late": drill_url(scope, target, outcome="late"),
                },
            }
        )
    table.chart = chart(
        "bar",
        [r["label"] for r in table.rows],
        [(_("Compliance"), [r["rate"] for r in table.rows])],
        links=[r["links"]["late"] for r in table.rows],
        percent=True,
    )
    return table


def backlog(scope):
    """Open requests now, by state and by how long they have been open (from the facts)."""
    now = timezone.now()
    whens = [When(created_at__gte=now - limit, then=Value(key)) for key, _l, limit in AGES if limit]
    age = Case(*whens, default=Value("age_more"), output_field=CharField())
    facts = TicketFact.objects.filter(state__in=OPEN_STATES)
    if scope.filters:
        facts = facts.filter(**scope.filters)
    counts = {}
    for state, bucket, count in (
        facts.annotate(age=age)
        .values_list("state", "age")
        .annotate(n=Count("pk"))
        .values_list("state", "age", "n")
    ):
        counts.setdefault(state, {})[bucket] = count
    columns = [Column("label", _("State"), "text")] + [Column(k, label) for k, label, _x in AGES]
    columns.append(Column("total", _("Total")))
    table = Table("backlog", _("Open requests now, by state and age"), columns)
    for state in OPEN_STATES:
        row = {
            "label": State(state).label,
            **{k: counts.get(state, {}).get(k, 0) for k, _l, _x in AGES},
        }
        row["total"] = sum(row[k] for k, _l, _x in AGES)
        row["links"] = {"total": reverse("tickets:list") + "?" + urlencode({"state": state})}
        table.rows.append(row)
    table.chart = chart(
        "bar",
        [r["label"] for r in table.rows],
        [(label, [r[k] for r in table.rows]) for k, label, _x in AGES],
        links=[r["links"]["total"] for r in table.rows],
        stack=True,
    )
    table.note = _("Now, whatever the period.")
    return table


def top(scope, dimension, model, title, key):
    rows = figures.totals(scope, by=[dimension], columns=["opened"])
    rows = [r for r in rows if r[dimension] and r["opened"]]
    rows.sort(key=lambda r: (-r["opened"], r[dimension]))
    rows = rows[:TOP]
    labels = names(model, [r[dimension] for r in rows])
    total = sum(r["opened"] for r in rows) or 1
    columns = [
        Column("label", title, "text"),
        Column("opened", _("Opened"), event="created"),
        Column("share", _("Share"), "percent"),
    ]
    table = Table(key, title, columns)
    for r in rows:
        table.rows.append(
            {
                "label": labels.get(r[dimension], "—"),
                "opened": r["opened"],
                "share": r["opened"] / total,
                "drill": {dimension: r[dimension]},
            }
        )
    table.chart = chart(
        "bar",
        [r["label"] for r in table.rows],
        [(_("Opened"), [r["opened"] for r in table.rows])],
        links=[drill_url(scope, "created", **r["drill"]) for r in table.rows],
        horizontal=True,
    )
    return table


class OverviewView(ReportView):
    url_name = "overview"
    title = _("Overview")
    subtitle = _("What came in, what got done, how well, and what is waiting.")

    def tables(self, scope):
        self.total = figures.totals(scope)[0]
        return [
            per_period(scope),
            sla_table(scope, self.total),
            backlog(scope),
            top(scope, "problem_type_id", ProblemType, _("Top problem types"), "problems"),
            top(scope, "product_model_id", ProductModel, _("Top models"), "models"),
        ]

    def cards(self, scope):
        t = self.total
        return [
            (_("Opened"), display(t["opened"], "int"), drill_url(scope, "created")),
            (_("Processed"), display(t["processed"], "int"), drill_url(scope, "processed")),
            (_("Closed"), display(t["closed"], "int"), drill_url(scope, "closed")),
            (_("Response in time"), display(metrics.sla_rate(t, "response"), "percent"), None),
            (_("Arrival in time"), display(metrics.sla_rate(t, "arrival"), "percent"), None),
            (_("Resolved in time"), display(metrics.sla_rate(t, "resolution"), "percent"), None),
            (_("First-time fix"), display(metrics.first_time_fix(t), "percent"), None),
            (_("Rounds per request"), display(metrics.rounds(t), "ratio"), None),
            (_("Satisfaction (1–5)"), display(metrics.satisfaction(t), "score"), None),
            (_("Revisits in time"), display(metrics.revisits_on_time(t), "percent"), None),
        ]


REPORTS.append(("analytics:overview", _("Overview")))
