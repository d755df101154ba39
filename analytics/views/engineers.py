"""The engineer assessment (工程师考核): the ranking of engineers and of service points, the
weights of the score (managers), and each engineer's own figures on the phone.

Every figure comes from `analytics.figures.totals(scope, by=["engineer_id",
"service_point_id"])` (cube 9); the score is `analytics.models.assessment.score`.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from aftersales.access import PermissionMixin
from aftersales.models import ServicePoint, User

from .. import cubes, figures, metrics
from ..figures import next_generation
from ..models import AssessmentWeights
from ..models.assessment import PARTS, score
from ..reports import Column, Table, display, query_of
from .base import REPORTS, ReportView, names

ENGINEER_COLUMNS = [
    Column("rank", _("Rank")),
    Column("label", _("Engineer"), "text"),
    Column("point", _("Service point"), "text"),
    Column("closed", _("Jobs done"), event="closed"),
    Column("response", _("Response in time"), "percent"),
    Column("arrival", _("Arrival in time"), "percent"),
    Column("resolution", _("Resolved in time"), "percent"),
    Column("first_time_fix", _("First-time fix"), "percent"),
    Column("rounds", _("Rounds per request"), "ratio"),
    Column("satisfaction", _("Satisfaction (1–5)"), "score"),
    Column("hours", _("Labour hours"), "hours"),
    Column("breaches", _("SLA breaches")),
    Column("resolution_hours", _("Average resolution hours"), "hours"),
    Column("score", _("Score"), "hours"),
]
POINT_COLUMNS = [
    Column("label", _("Service point"), "text"),
    Column("engineers", _("Number of engineers")),
    *ENGINEER_COLUMNS[3:-1],
    Column("score", _("Average score"), "hours"),
]
# Columns whose best value is the smallest (the first click on them sorts upwards).
SMALL_IS_GOOD = {"rank", "rounds", "breaches", "resolution_hours"}
DEFAULT_SORT = "-score"


def _home_point(pairs):
    """Where an engineer worked in the period: the service point of most of their closed
    requests (then of their other figures) when they moved between points."""
    best = max(
        pairs,
        key=lambda r: (r["closed"], metrics.sla_decided(r) + r["opened"], -r["service_point_id"]),
    )
    return best["service_point_id"]


def _sum(rows):
    total = dict.fromkeys(cubes.COLUMNS, 0)
    for row in rows:
        for column in cubes.COLUMNS:
            total[column] += row[column]
    return total


def _figures(total):
    """The assessment's columns of one row of sums."""
    return {
        "closed": total["closed"],
        "response": metrics.sla_rate(total, "response"),
        "arrival": metrics.sla_rate(total, "arrival"),
        "resolution": metrics.sla_rate(total, "resolution"),
        "first_time_fix": metrics.first_time_fix(total),
        "rounds": metrics.rounds(total),
        "satisfaction": metrics.satisfaction(total),
        "hours": total["labour_hours"],
        "breaches": metrics.sla_breaches(total),
        "resolution_hours": metrics.average_resolution_hours(total),
    }


def _ranks(rows):
    """Each row's "rank" by score, best first (equal scores as shown share a rank; rows without
    a score come last, unranked)."""
    scored = sorted(
        (r for r in rows if r["score"] is not None), key=lambda r: -round(r["score"], 1)
    )
    previous, rank = None, 0
    for position, row in enumerate(scored, start=1):
        shown = round(row["score"], 1)
        if shown != previous:
            rank, previous = position, shown
        row["rank"] = rank
    for row in rows:
        row.setdefault("rank", None)


def assessment(scope, weights):
    """(engineer rows, service point rows) of the assessment over `scope`, unsorted.

    An engineer row sums the engineer's figures over every service point; it sits at their
    home point (`_home_point`). A point's row sums its engineers' figures there; its score is
    the average of the scores of the engineers whose home point it is.
    """
    pairs = {}
    for row in figures.totals(scope, by=["engineer_id", "service_point_id"]):
        if row["engineer_id"] and any(row[column] for column in cubes.COLUMNS):
            pairs.setdefault(row["engineer_id"], []).append(row)
    totals = {engineer: _sum(rows) for engineer, rows in pairs.items()}
    most = {
        "closed": max((t["closed"] for t in totals.values()), default=0),
        "labour_hours": max((t["labour_hours"] for t in totals.values()), default=0),
    }
    engineers = []
    for engineer, rows in pairs.items():
        total = totals[engineer]
        engineers.append(
            {
                "engineer_id": engineer,
                "service_point_id": _home_point(rows),
                **_figures(total),
                "score": score(total, weights, most),
                "drill": {"engineer_id": engineer},
            }
        )
    _ranks(engineers)

    at_point = {}
    for rows in pairs.values():
        for row in rows:
            if row["service_point_id"]:
                at_point.setdefault(row["service_point_id"], []).append(row)
    points = []
    for point, rows in at_point.items():
        own = [e["score"] for e in engineers if e["service_point_id"] == point]
        known = [s for s in own if s is not None]
        points.append(
            {
                "service_point_id": point,
                "engineers": len(own),
                **_figures(_sum(rows)),
                "score": sum(known) / len(known) if known else None,
                "drill": {"service_point_id": point},
            }
        )
    return engineers, points


def sort_rows(rows, sort, columns):
    """`rows` ordered by `sort` ("key" upwards, "-key" downwards; a key that is not one of the
    columns: by score, best first). Rows without a value come last either way; equal values
    keep the order by name."""
    keys = {c.key for c in columns}
    if sort.removeprefix("-") not in keys:
        sort = DEFAULT_SORT
    key, downwards = sort.removeprefix("-"), sort.startswith("-")
    rows = sorted(rows, key=lambda r: str(r.get("label", "")))
    known = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    known.sort(key=lambda r: r[key], reverse=downwards)
    return known + missing, sort


def headers(columns, sort, query):
    """[(column, link that sorts by it, "ascending" / "descending" / "")] for the table head."""
    out = []
    for column in columns:
        if sort == column.key:
            state, target = "ascending", "-" + column.key
        elif sort == "-" + column.key:
            state, target = "descending", column.key
        else:
            upwards = column.kind == "text" or column.key in SMALL_IS_GOOD
            state, target = "", column.key if upwards else "-" + column.key
        out.append((column, f"?{query}&sort={target}", state))
    return out


class EngineersView(ReportView):
    template_name = "analytics/engineers.html"
    url_name = "engineers"
    title = _("Engineer assessment")
    subtitle = _(
        "Jobs, SLA compliance, first-time fix, rounds, satisfaction and hours per engineer and "
        "service point, with a score from the weights managers set."
    )
    filters = ("service_point",)

    def tables(self, scope):
        self.weights = AssessmentWeights.current()
        engineers, points = assessment(scope, self.weights.as_dict())
        users = names(User, [r["engineer_id"] for r in engineers])
        point_names = names(ServicePoint, [r["service_point_id"] for r in engineers + points])
        for row in engineers:
            row["label"] = users.get(row["engineer_id"], "—")
            row["point"] = point_names.get(row["service_point_id"], "—")
        for row in points:
            row["label"] = point_names.get(row["service_point_id"], "—")
        self.sort = self.request.GET.get("sort", DEFAULT_SORT)
        engineers, self.sort = sort_rows(engineers, self.sort, ENGINEER_COLUMNS)
        points, _sort = sort_rows(points, self.sort, POINT_COLUMNS)
        return [
            Table(
                "engineers",
                _("Engineers"),
                ENGINEER_COLUMNS,
                engineers,
                note=_(
                    "Jobs done and labour hours count in the score against the most of any "
                    "engineer in this table."
                ),
            ),
            Table(
                "points",
                _("Service points"),
                POINT_COLUMNS,
                points,
                note=_("The average score of the engineers who work from each point."),
            ),
        ]

    def report(self, scope):
        shown = super().report(scope)
        if "sorted_sections" not in shown:
            query = query_of(scope)
            shown["sorted_sections"] = [
                (table, headers(table.columns, self.sort, query), cells)
                for table, cells in shown["sections"]
            ]
            shown["weights"] = [
                (AssessmentWeights._meta.get_field(part).verbose_name, value)
                for part, value in self.weights.as_dict().items()
            ]
        return shown

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = query_of(context["scope"])
        # The files keep the page's order (a sort not known falls back in `sort_rows`).
        sort = self.request.GET.get("sort", DEFAULT_SORT)
        context["export_query"] = f"{query}&{urlencode({'sort': sort})}"
        context["can_set_weights"] = self.request.user.has_perm(
            "analytics.change_assessmentweights"
        )
        return context


class WeightsForm(forms.ModelForm):
    class Meta:
        model = AssessmentWeights
        fields = list(PARTS)

    def clean(self):
        data = super().clean()
        if not self.errors:
            total = sum(data[part] for part in PARTS)
            if total != 100:
                raise forms.ValidationError(
                    _("The weights add up to %(total)s; they must add up to 100."),
                    params={"total": total},
                    code="sum",
                )
        return data


class WeightsView(PermissionMixin, TemplateView):
    permission_required = ("analytics.view_reports", "analytics.change_assessmentweights")
    template_name = "analytics/engineers_weights.html"

    def get(self, request, *args, **kwargs):
        form = WeightsForm(instance=AssessmentWeights.current())
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        form = WeightsForm(request.POST, instance=AssessmentWeights.current())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        AssessmentWeights.set(form.cleaned_data, request.user)
        # Every cached ranking scored with the old weights is stale.
        transaction.on_commit(next_generation)
        messages.success(request, _("The weights of the score are saved."))
        return redirect("analytics:engineers")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            back=reverse("analytics:engineers"), title=_("Weights of the score"), **kwargs
        )


def _periods(today):
    """{key: (label, start, end)} of the own page's periods."""
    month = today.replace(day=1)
    last = (month - timedelta(days=1)).replace(day=1)
    three = (last - timedelta(days=1)).replace(day=1)
    return {
        "this_month": (_("This month"), month, today),
        "last_month": (_("Last month"), last, month - timedelta(days=1)),
        "last_3_months": (_("Last 3 months"), three, today),
    }


class MineView(PermissionMixin, TemplateView):
    """The engineer's own figures. Whose they are comes from the signed-in person only: no
    parameter names an engineer, so nobody sees another's figures here."""

    permission_required = "analytics.view_own_figures"
    template_name = "analytics/mine.html"

    def get_context_data(self, **kwargs):
        periods = _periods(timezone.localdate())
        period = self.request.GET.get("period")
        if period not in periods:
            period = "this_month"
        label, start, end = periods[period]
        weights = AssessmentWeights.current()
        engineers, _points = assessment(figures.Scope(start, end), weights.as_dict())
        me = next((r for r in engineers if r["engineer_id"] == self.request.user.pk), None)
        context = {
            "periods": [(key, text, key == period) for key, (text, _s, _e) in periods.items()],
            "period_label": label,
            "start": start,
            "end": end,
            "me": me,
            "weights": [
                (AssessmentWeights._meta.get_field(part).verbose_name, value)
                for part, value in weights.as_dict().items()
            ],
        }
        if me is not None:
            context["score"] = display(me["score"], "hours")
            context["cards"] = [
                (column.key, column.label, display(me[column.key], column.kind))
                for column in ENGINEER_COLUMNS[3:-1]
            ]
            # Ranked again among the engineers of their point only; the others' rows stay here.
            peers = [
                {"score": r["score"], "me": r is me}
                for r in engineers
                if r["service_point_id"] == me["service_point_id"]
            ]
            _ranks(peers)
            context["rank"] = next(r["rank"] for r in peers if r["me"])
            context["peers"] = len(peers)
            context["point"] = names(ServicePoint, [me["service_point_id"]]).get(
                me["service_point_id"]
            )
        return super().get_context_data(**context, **kwargs)


REPORTS.append(("analytics:engineers", _("Engineer assessment")))
