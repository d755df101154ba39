"""By problem type and by product (问题类型统计): what fails, how often the same unit comes back,
how long the work takes, and the trend of the commonest problems."""

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from aftersales.models import ProductLine
from customers.models import ProductModel
from tickets.models import ProblemType

from .. import cubes, figures, metrics
from ..reports import Column, Table, chart, display, drill_url
from .base import REPORTS, ReportView
from .overview import period_label, period_scope

TOP_MODELS = 20
# Bars drawn at most (the table has every row).
CHART_TOP = 12
TREND_TOP = 5


def add_up(rows):
    """The sums of figure rows (rows per value of a dimension add up to the whole)."""
    total = dict.fromkeys(cubes.COLUMNS, 0)
    for row in rows:
        for column in cubes.COLUMNS:
            total[column] += row[column]
    return total


def ranked(rows, dimension, measure="opened", also=("closed",)):
    """The rows that have any of these measures, the largest `measure` first."""
    rows = [r for r in rows if r[measure] or any(r[m] for m in also)]
    rows.sort(key=lambda r: (-r[measure], *(-r[m] for m in also), str(r[dimension])))
    return rows


def trend(scope, dimension, keys, labels, title, key):
    """Requests opened per day or month for each of `keys` (values of `dimension`), the others
    together, and all; each count links to its requests."""
    points = {}
    for row in figures.series(scope, by=[dimension]):
        point = points.setdefault(row["period"], {})
        point[row[dimension]] = point.get(row[dimension], 0) + row["opened"]
    columns = [Column("label", _("Day") if scope.daily else _("Month"), "text")]
    columns += [Column(f"k{n}", labels[value]) for n, value in enumerate(keys)]
    columns += [Column("other", _("Others")), Column("total", _("All"))]
    table = Table(key, title, columns, wide=True)
    for period in scope.days() if scope.daily else scope.months():
        counts, within = points.get(period, {}), period_scope(scope, period)
        row = {"label": period_label(scope, period), "links": {}}
        for n, value in enumerate(keys):
            row[f"k{n}"] = counts.get(value, 0)
            if row[f"k{n}"]:
                row["links"][f"k{n}"] = drill_url(within, "created", **{dimension: value})
        row["total"] = sum(counts.values())
        row["other"] = row["total"] - sum(row[f"k{n}"] for n in range(len(keys)))
        if row["total"]:
            row["links"]["total"] = drill_url(within, "created")
        table.rows.append(row)
    table.chart = chart(
        "line",
        [r["label"] for r in table.rows],
        [(c.label, [r[c.key] for r in table.rows]) for c in columns[1:-1]],
        links=[r["links"].get("total", "") for r in table.rows],
    )
    return table


def _columns(first):
    return [
        Column("label", first, "text"),
        Column("opened", _("Opened"), event="created"),
        Column("share", _("Share"), "percent"),
        Column("closed", _("Closed"), event="closed"),
        Column("median", _("Median resolution (h)"), "hours"),
        Column("repeat30", _("Repeats in 30 days"), event="created", outcome="repeat30"),
        Column("repeat30_rate", _("Repeat rate (30 days)"), "percent"),
        Column("repeat90", _("Repeats in 90 days"), event="created", outcome="repeat90"),
        Column("repeat90_rate", _("Repeat rate (90 days)"), "percent"),
        Column("all_time", _("All time (entered)")),
    ]


def _row(row, dimension, label, opened_total, all_time):
    return {
        "label": label,
        "opened": row["opened"],
        "share": metrics.ratio(row["opened"], opened_total),
        "closed": row["closed"],
        "median": metrics.median_resolution_hours(row),
        "repeat30": row["repeat30"],
        "repeat30_rate": metrics.repeat_rate(row, 30),
        "repeat90": row["repeat90"],
        "repeat90_rate": metrics.repeat_rate(row, 90),
        "all_time": all_time,
        "drill": {dimension: row[dimension]},
    }


def breakdown(scope, rows, dimension, heading, key, labels, all_time, *, opened=None):
    """One row per value of `dimension` (`rows`: its figures, ranked; `heading`: the table's
    title and its first column's; shares of `opened`, by default of the rows' sum)."""
    title, first = heading
    if opened is None:
        opened = sum(r["opened"] for r in rows)
    table = Table(key, title, _columns(first), wide=True)
    for r in rows:
        value = r[dimension]
        label = labels.get(value, "—") if value else _("Not given")
        table.rows.append(_row(r, dimension, label, opened, all_time.get(value)))
    shown = table.rows[:CHART_TOP]
    table.chart = chart(
        "bar",
        [r["label"] for r in shown],
        [
            (_("Opened"), [r["opened"] for r in shown]),
            (_("Repeats in 90 days"), [r["repeat90"] for r in shown]),
        ],
        links=[drill_url(scope, "created", **r["drill"]) for r in shown],
        horizontal=True,
    )
    return table


def by_problem_type(scope):
    rows = ranked(figures.totals(scope, by=["problem_type_id"]), "problem_type_id")
    types = ProblemType.objects.in_bulk({r["problem_type_id"] for r in rows} - {0})
    labels = {pk: t.name for pk, t in types.items()}
    table = breakdown(
        scope,
        rows,
        "problem_type_id",
        (_("By problem type"), _("Problem type")),
        "problem_types",
        labels,
        {pk: t.ticket_count for pk, t in types.items()},
    )
    table.note = _(
        "All time: every request entered for it since the start, whatever the period and "
        "filters. Repeats: entered for a unit that had another request (not cancelled) in the "
        "days before."
    )
    return table, rows, labels


def by_product_line(scope):
    rows = ranked(figures.totals(scope, by=["product_line_id"]), "product_line_id")
    # The lines' names and their models' entry counters, in one query.
    lines = ProductLine.objects.filter(pk__in={r["product_line_id"] for r in rows}).annotate(
        all_time=Sum("models__ticket_count")
    )
    lines = {line.pk: line for line in lines}
    return breakdown(
        scope,
        rows,
        "product_line_id",
        (_("By product line"), _("Product line")),
        "product_lines",
        {pk: line.name for pk, line in lines.items()},
        {pk: line.all_time or 0 for pk, line in lines.items()},
    )


def by_model(scope):
    rows = ranked(figures.totals(scope, by=["product_model_id"]), "product_model_id")
    shown = rows[:TOP_MODELS]
    models = ProductModel.objects.in_bulk({r["product_model_id"] for r in shown} - {0})
    table = breakdown(
        scope,
        shown,
        "product_model_id",
        (_("By model"), _("Model")),
        "models",
        {pk: str(m) for pk, m in models.items()},
        {pk: m.ticket_count for pk, m in models.items()},
        # Shares of all the period's requests, not only of the models shown.
        opened=sum(r["opened"] for r in rows),
    )
    table.note = _("The %(n)s models with the most requests opened in the period.") % {
        "n": TOP_MODELS
    }
    return table


class ProblemsView(ReportView):
    url_name = "problems"
    title = _("Problem types")
    subtitle = _(
        "What fails, on which products, how long the work takes, and which units come back."
    )

    def tables(self, scope):
        types, rows, labels = by_problem_type(scope)
        self.total = add_up(rows)
        top = [r["problem_type_id"] for r in rows if r["problem_type_id"] and r["opened"]]
        return [
            types,
            trend(
                scope,
                "problem_type_id",
                top[:TREND_TOP],
                labels,
                _("Trend of the commonest problem types"),
                "problem_trend",
            ),
            by_product_line(scope),
            by_model(scope),
        ]

    def cards(self, scope):
        t = self.total
        return [
            (_("Opened"), display(t["opened"], "int"), drill_url(scope, "created")),
            (_("Closed"), display(t["closed"], "int"), drill_url(scope, "closed")),
            (
                _("Median resolution (h)"),
                display(metrics.median_resolution_hours(t), "hours"),
                None,
            ),
            (
                _("Repeat rate (30 days)"),
                display(metrics.repeat_rate(t, 30), "percent"),
                drill_url(scope, "created", outcome="repeat30"),
            ),
            (
                _("Repeat rate (90 days)"),
                display(metrics.repeat_rate(t, 90), "percent"),
                drill_url(scope, "created", outcome="repeat90"),
            ),
        ]


REPORTS.append(("analytics:problems", _("Problem types")))
