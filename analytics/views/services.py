"""By service item (服务项目统计): installations, repairs, maintenance … how many, how long they
take and what they cost."""

from django.utils.translation import gettext_lazy as _

from tickets.models import ServiceType

from .. import figures, metrics
from ..reports import Column, Table, chart, display, drill_url
from .base import REPORTS, ReportView
from .problems import add_up, trend


def per_service_type(scope, rows):
    opened = sum(r["opened"] for r in rows.values())
    columns = [
        Column("label", _("Service type"), "text"),
        Column("opened", _("Opened"), event="created"),
        Column("share", _("Share"), "percent"),
        Column("closed", _("Closed"), event="closed"),
        Column("average", _("Average resolution (h)"), "hours"),
        Column("median", _("Median resolution (h)"), "hours"),
        Column("hours", _("Labour hours per closed request"), "hours"),
        Column("fees", _("Fees"), "decimal"),
        Column("charged", _("Charged to the customer"), "decimal"),
    ]
    table = Table("service_types", _("By service type"), columns, wide=True)
    # Every type of the list, in its order, then any value the list no longer has.
    known = dict(ServiceType.choices)
    for value in [*known, *sorted(set(rows) - set(known))]:
        r = rows.get(value)
        if r is None:
            r = {"service_type": value, **add_up([])}
        table.rows.append(
            {
                "label": known.get(value) or value or _("Not given"),
                "opened": r["opened"],
                "share": metrics.ratio(r["opened"], opened),
                "closed": r["closed"],
                "average": metrics.average_resolution_hours(r),
                "median": metrics.median_resolution_hours(r),
                "hours": metrics.average(r, "labour_hours"),
                "fees": r["fees"],
                "charged": r["charged"],
                "drill": {"service_type": value},
            }
        )
    table.chart = chart(
        "bar",
        [r["label"] for r in table.rows],
        [
            (_("Opened"), [r["opened"] for r in table.rows]),
            (_("Closed"), [r["closed"] for r in table.rows]),
        ],
        links=[drill_url(scope, "created", **r["drill"]) for r in table.rows],
    )
    table.note = _(
        "Resolution: from entry to the work reported done, of the requests closed in the "
        "period; hours and fees are theirs too."
    )
    return table


class ServicesView(ReportView):
    url_name = "services"
    title = _("Service types")
    subtitle = _("Installations, repairs, maintenance …: how many, how long, what they cost.")

    def tables(self, scope):
        rows = {r["service_type"]: r for r in figures.totals(scope, by=["service_type"])}
        self.total = add_up(rows.values())
        ranked = sorted(
            (value for value, r in rows.items() if r["opened"]), key=lambda v: -rows[v]["opened"]
        )
        labels = dict(ServiceType.choices)
        return [
            per_service_type(scope, rows),
            trend(
                scope,
                "service_type",
                ranked[:5],
                {v: labels.get(v, v) for v in ranked},
                _("Requests opened per service type"),
                "service_trend",
            ),
        ]

    def cards(self, scope):
        t = self.total
        return [
            (_("Opened"), display(t["opened"], "int"), drill_url(scope, "created")),
            (_("Closed"), display(t["closed"], "int"), drill_url(scope, "closed")),
            (
                _("Average resolution (h)"),
                display(metrics.average_resolution_hours(t), "hours"),
                None,
            ),
            (
                _("Median resolution (h)"),
                display(metrics.median_resolution_hours(t), "hours"),
                None,
            ),
            (_("Labour hours"), display(t["labour_hours"], "hours"), None),
            (_("Fees"), display(t["fees"], "decimal"), None),
            (_("Charged to the customer"), display(t["charged"], "decimal"), None),
        ]


REPORTS.append(("analytics:services", _("Service types")))
