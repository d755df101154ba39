"""SLA compliance (时效达成): each target (response, on-site arrival, resolution) met in time or
late, by agreement, customer, engineer, priority and month; every late count opens the list of
those requests (the breach list)."""

import calendar

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from aftersales.models import User
from customers.models import Customer, Priority, ServiceAgreement

from .. import figures, metrics
from ..reports import Column, Table, chart, display, drill_url
from .agreements import in_time_label
from .base import REPORTS, ReportView, names
from .overview import SLA_TARGETS, sla_table
from .problems import CHART_TOP, add_up

TOP = 20


class WholeMonths(figures.Scope):
    """A scope read a month at a time, however short."""

    @property
    def daily(self):
        return False


def whole_months(scope):
    end = scope.end.replace(day=calendar.monthrange(scope.end.year, scope.end.month)[1])
    return WholeMonths(scope.start.replace(day=1), end, scope.filters)


def overall(row):
    decided = metrics.sla_decided(row)
    return metrics.ratio(decided - metrics.sla_breaches(row), decided)


def compliance_columns(first):
    columns = [Column("label", first, "text"), Column("decided", _("Targets decided"))]
    for target, label in SLA_TARGETS:
        columns.append(Column(f"{target}_rate", in_time_label(label), "percent"))
        columns.append(Column(f"{target}_late", late_label(label), event=target, outcome="late"))
    columns.append(Column("overall", _("All targets in time"), "percent"))
    return columns


def compliance_row(row, label, drill):
    return {
        "label": label,
        "decided": metrics.sla_decided(row),
        **{f"{t}_rate": metrics.sla_rate(row, t) for t, _label in SLA_TARGETS},
        **{f"{t}_late": row[f"{t}_late"] for t, _label in SLA_TARGETS},
        "overall": overall(row),
        "drill": drill,
        "links": {},
    }


def late_label(target_label):
    return _("%(target)s: late") % {"target": target_label}


def compliance_table(rows, dimension, heading, key, labels, links=None, *, chart_kind):
    title, first = heading
    table = Table(key, title, compliance_columns(first), wide=True)
    for r in rows:
        value = r[dimension]
        label = labels.get(value) or "—"
        row = compliance_row(r, label, {dimension: value})
        if links and links.get(value):
            row["links"]["label"] = links[value]
        table.rows.append(row)
    series = [(label, [r[f"{t}_rate"] for r in table.rows]) for t, label in SLA_TARGETS]
    if chart_kind == "horizontal":
        shown = table.rows[:CHART_TOP]
        table.chart = chart(
            "bar",
            [r["label"] for r in shown],
            [(_("All targets in time"), [r["overall"] for r in shown])],
            percent=True,
            horizontal=True,
        )
    else:
        table.chart = chart("bar", [r["label"] for r in table.rows], series, percent=True)
    return table


def decided_rows(scope, dimension):
    """The values of `dimension` with the most targets decided (the first `TOP`)."""
    rows = [r for r in figures.totals(scope, by=[dimension]) if metrics.sla_decided(r)]
    rows.sort(key=lambda r: (-metrics.sla_decided(r), str(r[dimension])))
    return rows[:TOP]


def by_agreement(scope, user):
    rows = decided_rows(scope, "agreement_id")
    agreements = ServiceAgreement.objects.only("number", "name").in_bulk(
        {r["agreement_id"] for r in rows} - {0}
    )
    labels = {pk: str(a) for pk, a in agreements.items()}
    labels[0] = _("No agreement")
    links = {}
    if user.has_perm("customers.view_serviceagreement"):
        links = {pk: reverse("customers:agreement_detail", args=[pk]) for pk in agreements}
    table = compliance_table(
        rows,
        "agreement_id",
        (_("By agreement"), _("Agreement")),
        "by_agreement",
        labels,
        links,
        chart_kind="horizontal",
    )
    table.note = _("The %(n)s with the most targets decided in the period.") % {"n": TOP}
    return table


def by_customer(scope, user):
    rows = decided_rows(scope, "customer_id")
    customers = Customer.objects.only("name", "code").in_bulk({r["customer_id"] for r in rows})
    links = {}
    if user.has_perm("customers.view_customer"):
        links = {pk: reverse("customers:detail", args=[pk]) for pk in customers}
    table = compliance_table(
        rows,
        "customer_id",
        (_("By customer"), _("Customer")),
        "by_customer",
        {pk: str(c) for pk, c in customers.items()},
        links,
        chart_kind="horizontal",
    )
    table.note = _("The %(n)s with the most targets decided in the period.") % {"n": TOP}
    return table


def by_engineer(scope):
    rows = decided_rows(scope, "engineer_id")
    labels = names(User, [r["engineer_id"] for r in rows])
    labels[0] = _("Not assigned")
    table = compliance_table(
        rows,
        "engineer_id",
        (_("By engineer"), _("Engineer")),
        "by_engineer",
        labels,
        chart_kind="horizontal",
    )
    table.note = _(
        "The %(n)s with the most targets decided in the period; a request counts for the "
        "engineer it has now."
    ) % {"n": TOP}
    return table


def by_priority(scope):
    rows = {r["priority"]: r for r in figures.totals(scope, by=["priority"])}
    empty = add_up([])
    ordered = [{**rows.get(value, empty), "priority": value} for value in Priority.values]
    return compliance_table(
        ordered,
        "priority",
        (_("By priority"), _("Priority")),
        "by_priority",
        dict(Priority.choices),
        chart_kind="bar",
    )


def by_month(scope):
    months = whole_months(scope)
    rows = {r["period"]: r for r in figures.series(months)}
    columns = compliance_columns(_("Month"))
    table = Table("by_month", _("By month"), columns, wide=True)
    empty = add_up([])
    for month in months.months():
        r = rows.get(month, empty)
        end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        row = compliance_row(r, date_format(month, "YEAR_MONTH_FORMAT"), {})
        row["scope"] = figures.Scope(month, end, scope.filters)
        table.rows.append(row)
    table.chart = chart(
        "line",
        [r["label"] for r in table.rows],
        [(label, [r[f"{t}_rate"] for r in table.rows]) for t, label in SLA_TARGETS],
        percent=True,
    )
    table.note = _("Whole months: from the first of the period's first month to its last.")
    return table


class SlaView(ReportView):
    url_name = "sla"
    title = _("SLA compliance")
    subtitle = _(
        "Response, on-site arrival and resolution targets met in time, and the requests "
        "that were late."
    )

    def tables(self, scope):
        self.total = figures.totals(scope)[0]
        breaches = sla_table(scope, self.total)
        breaches.key, breaches.title = "breaches", _("Late by target: the breach lists")
        breaches.note = _("Each late count opens the list of those requests.")
        user = self.request.user
        return [
            breaches,
            by_priority(scope),
            by_month(scope),
            by_agreement(scope, user),
            by_customer(scope, user),
            by_engineer(scope),
        ]

    def cards(self, scope):
        t = self.total
        cards = [(_("Targets decided"), display(metrics.sla_decided(t), "int"), None)]
        for target, label in SLA_TARGETS:
            rate = display(metrics.sla_rate(t, target), "percent")
            cards.append((in_time_label(label), rate, None))
        for target, label in SLA_TARGETS:
            cards.append(
                (
                    late_label(label),
                    display(t[f"{target}_late"], "int"),
                    drill_url(scope, target, outcome="late"),
                )
            )
        return cards


REPORTS.append(("analytics:sla", _("SLA compliance")))
