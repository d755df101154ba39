"""By service agreement (服务协议统计): the requests under each agreement, how well its SLA was
kept, and the work and money it took beside how the agreement charges; the agreements that end
soon."""

from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from customers.models import ServiceAgreement

from .. import figures, metrics
from ..reports import Column, Table, chart, display, drill_url
from .base import REPORTS, ReportView
from .overview import SLA_TARGETS
from .problems import CHART_TOP, add_up, ranked

DECIDED = [f"{t}_{o}" for t, _label in SLA_TARGETS for o in ("ok", "late")]
TOP = 50
NEXT_ENDING = 20
WINDOWS = [
    ("within_30", _("Within 30 days"), 0, 30),
    ("within_60", _("In 31–60 days"), 31, 60),
    ("within_90", _("In 61–90 days"), 61, 90),
]


def in_time_label(target_label):
    return _("%(target)s: in time") % {"target": target_label}


def agreement_link(user, pk):
    if user.has_perm("customers.view_serviceagreement"):
        return reverse("customers:agreement_detail", args=[pk])
    return None


def _work(row):
    """The work and money of closed requests (the same keys in every table of this report)."""
    return {
        "labour_hours": row["labour_hours"],
        "hours_per_request": metrics.average(row, "labour_hours"),
        "fees": row["fees"],
        "charged": row["charged"],
        "not_charged": row["fees"] - row["charged"],
        "parts": row["parts"],
    }


WORK_COLUMNS = [
    ("labour_hours", _("Labour hours"), "hours"),
    ("hours_per_request", _("Hours per closed request"), "hours"),
    ("fees", _("Fees"), "decimal"),
    ("charged", _("Charged to the customer"), "decimal"),
    ("not_charged", _("Not charged"), "decimal"),
    ("parts", _("Parts used"), "decimal"),
]


def per_agreement(scope, rows, agreements, user):
    columns = [
        Column("label", _("Agreement"), "text"),
        Column("type", _("Type"), "text"),
        Column("charging", _("Charging method"), "text"),
        Column("opened", _("Opened"), event="created"),
        Column("closed", _("Closed"), event="closed"),
        *(Column(f"{t}_rate", in_time_label(label), "percent") for t, label in SLA_TARGETS),
        *(Column(k, label, kind) for k, label, kind in WORK_COLUMNS),
    ]
    table = Table("agreements", _("By agreement"), columns, wide=True)
    for r in rows[:TOP]:
        pk = r["agreement_id"]
        agreement = agreements.get(pk)
        row = {
            "opened": r["opened"],
            "closed": r["closed"],
            **{f"{t}_rate": metrics.sla_rate(r, t) for t, _label in SLA_TARGETS},
            **_work(r),
            "drill": {"agreement_id": pk},
            "links": {},
        }
        if agreement is None:
            row.update(label=_("No agreement") if not pk else "—", type="", charging="")
        else:
            row.update(
                label=str(agreement),
                type=agreement.get_type_display(),
                charging=agreement.get_charging_method_display(),
            )
            row["links"]["label"] = agreement_link(user, pk)
        table.rows.append(row)
    shown = table.rows[:CHART_TOP]
    table.chart = chart(
        "bar",
        [r["label"] for r in shown],
        [
            (_("Fees"), [r["fees"] for r in shown]),
            (_("Charged to the customer"), [r["charged"] for r in shown]),
        ],
        links=[drill_url(scope, "closed", **r["drill"]) for r in shown],
        horizontal=True,
    )
    table.note = _(
        "Hours, fees and parts are those of the requests closed in the period; the %(n)s "
        "agreements with the most requests opened are shown."
    ) % {"n": TOP}
    return table


def per_charging_method(rows, agreements):
    """Every agreement's figures added up by how the agreement charges."""
    groups = {}
    for r in rows:
        agreement = agreements.get(r["agreement_id"])
        groups.setdefault(agreement.charging_method if agreement else "", []).append(r)
    columns = [
        Column("label", _("Charging method"), "text"),
        Column("agreements", _("Agreements with requests")),
        Column("opened", _("Opened")),
        Column("closed", _("Closed")),
        *(Column(k, label, kind) for k, label, kind in WORK_COLUMNS),
    ]
    table = Table("charging", _("By charging method"), columns, wide=True)
    for value, label in [*ServiceAgreement.Charging.choices, ("", _("No agreement"))]:
        if value not in groups:
            continue
        total = add_up(groups[value])
        table.rows.append(
            {
                "label": label,
                "agreements": sum(1 for r in groups[value] if r["agreement_id"]),
                "opened": total["opened"],
                "closed": total["closed"],
                **_work(total),
            }
        )
    table.chart = chart(
        "bar",
        [r["label"] for r in table.rows],
        [
            (_("Fees"), [r["fees"] for r in table.rows]),
            (_("Charged to the customer"), [r["charged"] for r in table.rows]),
        ],
    )
    table.note = _("Work under a free or fixed-fee agreement shows as fees not charged.")
    return table


def _ending(scope):
    today = timezone.localdate()
    agreements = ServiceAgreement.objects.filter(
        end_date__gte=today, end_date__lte=today + timedelta(days=WINDOWS[-1][3])
    )
    if "customer_level" in scope.filters:
        agreements = agreements.filter(customer__level=scope.filters["customer_level"])
    if "agreement_id" in scope.filters:
        agreements = agreements.filter(pk=scope.filters["agreement_id"])
    return today, agreements


def ending_windows(scope):
    today, agreements = _ending(scope)
    counts = agreements.aggregate(
        **{
            key: Count(
                "pk",
                filter=Q(
                    end_date__gte=today + timedelta(days=first),
                    end_date__lte=today + timedelta(days=last),
                ),
            )
            for key, _label, first, last in WINDOWS
        }
    )
    columns = [Column("label", _("Ends"), "text"), Column("count", _("Agreements"))]
    table = Table("ending", _("Agreements ending soon"), columns)
    table.rows = [{"label": label, "count": counts[key]} for key, label, _f, _l in WINDOWS]
    table.chart = chart(
        "bar",
        [r["label"] for r in table.rows],
        [(_("Agreements"), [r["count"] for r in table.rows])],
    )
    table.note = _("Counted from today, whatever the period.")
    return table


def next_ending(scope, user):
    today, agreements = _ending(scope)
    columns = [
        Column("label", _("Agreement"), "text"),
        Column("customer", _("Customer"), "text"),
        Column("type", _("Type"), "text"),
        Column("charging", _("Charging method"), "text"),
        Column("end", _("End date"), "text"),
        Column("days_left", _("Days left")),
    ]
    table = Table("next_ending", _("The next agreements to end"), columns)
    for agreement in agreements.select_related("customer").order_by("end_date", "number")[
        :NEXT_ENDING
    ]:
        table.rows.append(
            {
                "label": str(agreement),
                "customer": str(agreement.customer) if agreement.customer else "—",
                "type": agreement.get_type_display(),
                "charging": agreement.get_charging_method_display(),
                "end": date_format(agreement.end_date, "SHORT_DATE_FORMAT"),
                "days_left": agreement.days_left(today),
                "links": {"label": agreement_link(user, agreement.pk)},
            }
        )
    table.note = _("The %(n)s agreements that end first within 90 days.") % {"n": NEXT_ENDING}
    return table


class AgreementsView(ReportView):
    url_name = "agreements"
    title = _("Service agreements")
    subtitle = _(
        "Requests, SLA compliance, hours and parts under each agreement, beside how it "
        "charges; the agreements that end soon."
    )

    def tables(self, scope):
        rows = ranked(
            figures.totals(scope, by=["agreement_id"]), "agreement_id", also=("closed", *DECIDED)
        )
        self.total = add_up(rows)
        agreements = ServiceAgreement.objects.only(
            "number", "name", "type", "charging_method"
        ).in_bulk({r["agreement_id"] for r in rows} - {0})
        user = self.request.user
        self.windows = ending_windows(scope)
        return [
            per_agreement(scope, rows, agreements, user),
            per_charging_method(rows, agreements),
            self.windows,
            next_ending(scope, user),
        ]

    def cards(self, scope):
        t = self.total
        return [
            (_("Opened"), display(t["opened"], "int"), drill_url(scope, "created")),
            (_("Closed"), display(t["closed"], "int"), drill_url(scope, "closed")),
            (_("Labour hours"), display(t["labour_hours"], "hours"), None),
            (_("Fees"), display(t["fees"], "decimal"), None),
            (_("Charged to the customer"), display(t["charged"], "decimal"), None),
            (
                _("Agreements ending within 30 days"),
                display(self.windows.rows[0]["count"], "int"),
                None,
            ),
        ]


REPORTS.append(("analytics:agreements", _("Service agreements")))
