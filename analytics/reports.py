"""What every report shares: its period and filters (a GET form), the names behind dimension
ids, charts (ECharts options built here, drawn by static/js/charts.js), tables and exports.

A report is a list of `Table`s (the exact numbers; a table may carry a chart of some of its
columns). The page shows each chart beside its table; `?export=csv` / `?export=xlsx` returns the
same tables as a file; every count that stands for requests links to the drill-down list of
those requests (`analytics:requests`).
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta

from django import forms
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from aftersales.caching import per_language, remembered
from aftersales.models import ProductLine, ServicePoint
from customers.models import Customer, ServiceAgreement

from .figures import Scope

DEFAULT_DAYS = 30
LONGEST = timedelta(days=5 * 366)
# A colour-blind-safe palette (Okabe–Ito), in the order the series use it.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def _choices():
    return {
        "service_point": [(str(p.pk), str(p)) for p in ServicePoint.objects.order_by("code")],
        "product_line": [(str(p.pk), str(p)) for p in ProductLine.objects.order_by("code")],
    }


def choices():
    return remembered(per_language("report-choices"), _choices, timeout=300)


class ReportForm(forms.Form):
    """The period and the filters every report offers; anything invalid falls back to the
    default with a message, never an error page."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    service_point = forms.TypedChoiceField(label=_("Service point"), required=False, coerce=int)
    product_line = forms.TypedChoiceField(label=_("Product line"), required=False, coerce=int)
    customer_level = forms.ChoiceField(
        label=_("Customer level"), required=False, choices=[("", "")] + Customer.Level.choices
    )
    agreement = forms.CharField(label=_("Agreement number"), required=False, max_length=40)

    # Form field → fact dimension.
    DIMENSIONS = {
        "service_point": "service_point_id",
        "product_line": "product_line_id",
        "customer_level": "customer_level",
        "agreement": "agreement_id",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lists = choices()
        self.fields["service_point"].choices = [("", "")] + lists["service_point"]
        self.fields["product_line"].choices = [("", "")] + lists["product_line"]

    def clean_agreement(self):
        number = self.cleaned_data["agreement"].strip()
        if not number:
            return None
        agreement = ServiceAgreement.objects.filter(number__iexact=number).values("pk").first()
        if agreement is None:
            raise forms.ValidationError(_("No agreement has this number."))
        return agreement["pk"]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("end", _("The end of the period comes before its start."))
            start, end = end, start
        if end - start > LONGEST:
            self.add_error("start", _("A period of at most five years, please."))
            start = end - LONGEST
        data["start"], data["end"] = start, end
        return data

    def scope(self):
        """The Scope asked for; the valid part of it when some of it is not."""
        self.is_valid()
        data = self.cleaned_data
        filters = {}
        for name, dimension in self.DIMENSIONS.items():
            if name in self.errors:
                continue
            value = data.get(name)
            if value not in (None, ""):
                filters[dimension] = value
        today = timezone.localdate()
        start = data.get("start") or today - timedelta(days=DEFAULT_DAYS - 1)
        end = data.get("end") or today
        return Scope(start, end, filters)


def query_of(scope, **extra):
    """The report's GET parameters for a scope (links between reports, drill-downs)."""
    params = {"start": scope.start.isoformat(), "end": scope.end.isoformat()}
    reverse_dims = {v: k for k, v in ReportForm.DIMENSIONS.items()}
    for dimension, value in scope.filters.items():
        name = reverse_dims.get(dimension, dimension)
        if name == "agreement":
            continue  # the form takes the number; drill-downs pass the id (agreement_id)
        params[name] = value
    if "agreement_id" in scope.filters:
        params["agreement_id"] = scope.filters["agreement_id"]
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return urlencode(params)


_drill_bases = {}


def drill_url(scope, event, **dims):
    """The list of the requests behind a figure: the facts with this event in the period.
    (A report links a few hundred figures: the scope's part of the link is made once.)"""
    key = (scope.start, scope.end, tuple(sorted(scope.filters.items())))
    base = _drill_bases.get(key)
    if base is None:
        if len(_drill_bases) > 1000:
            _drill_bases.clear()
        base = _drill_bases[key] = reverse("analytics:requests") + "?" + query_of(scope)
    extra = {"event": event, **{k: v for k, v in dims.items() if v not in (None, "")}}
    return base + "&" + urlencode(extra)


@dataclass
class Column:
    key: str
    label: str
    kind: str = "int"  # int, decimal, percent, hours, score, text
    # The event whose requests this count is (a link to them), or None.
    event: str | None = None
    outcome: str | None = None


@dataclass
class Table:
    """A table of a report: columns, rows of dicts (with "label" and "drill" dimensions), and
    optionally a chart of some of its columns."""

    key: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    chart: dict | None = None
    note: str = ""
    # Many columns: the chart above the table, both the page's full width.
    wide: bool = False

    def cells(self, scope):
        """Rows of (value text, link or None, cell class, stacked label) for the template: the
        stacked label is the column's name shown before the value on a phone (not for the
        first column, which names the row)."""
        sep = pgettext("between a label and its value", ": ")
        labels = [""] + [f"{c.label}{sep}" for c in self.columns[1:]]
        classes = ["" if c.kind == "text" else "text-end num" for c in self.columns]
        out = []
        for row in self.rows:
            cells = []
            for k, column in enumerate(self.columns):
                value = row.get(column.key)
                link = row.get("links", {}).get(column.key)
                if link is None and column.event and value and row.get("drill") is not None:
                    dims = dict(row["drill"])
                    if column.outcome:
                        dims["outcome"] = column.outcome
                    link = drill_url(row.get("scope", scope), column.event, **dims)
                cells.append((display(value, column.kind), link, classes[k], labels[k]))
            out.append(cells)
        return out


def display(value, kind):
    # Rounded here: number_format cuts a float's decimals off (2/3 would show as 66.6 %).
    if value is None:
        return "—"
    if kind == "text":
        return str(value)
    if kind == "percent":
        return number_format(round(value * 100, 1), 1) + " %"
    if kind in ("hours", "score", "ratio"):
        places = 2 if kind != "hours" else 1
        return number_format(round(value, places), places)
    if kind == "decimal":
        return number_format(round(value, 2), 2, force_grouping=True)
    return number_format(value, 0, force_grouping=True)


def raw(value, kind):
    """The value as an export cell: numbers stay numbers (percentages as fractions ×100)."""
    if value is None:
        return None
    if kind == "text":
        return str(value)
    if kind == "percent":
        return round(value * 100, 1)
    if kind in ("hours", "score", "ratio"):
        return round(float(value), 2)
    if kind == "decimal":
        return float(value)
    return value


def chart(
    kind,
    categories,
    series,
    *,
    links=None,
    percent=False,
    stack=False,
    horizontal=False,
    integers=None,
):
    """ECharts options: `series` [(name, [values])], `links` [url per category] (a click on
    a bar or point opens it)."""
    axis_cat = {"type": "category", "data": [str(c) for c in categories]}
    axis_val = {"type": "value"}
    if integers if integers is not None else not percent:
        axis_val["minInterval"] = 1  # counts: no 0.5 on the axis
    if percent:
        axis_val["max"] = 100
        axis_val["axisLabel"] = {"formatter": "{value} %"}
    options = {
        "color": PALETTE,
        # Drawn inside the chart, not as an HTML box with inline styles (the pages' Content
        # Security Policy allows no inline style).
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": axis_val if horizontal else axis_cat,
        "yAxis": axis_cat if horizontal else axis_val,
        "series": [
            {
                "name": str(name),
                "type": kind,
                "data": [
                    None if v is None else round(float(v) * (100 if percent else 1), 1)
                    for v in values
                ],
                **({"stack": "all"} if stack else {}),
            }
            for name, values in series
        ],
    }
    if horizontal:
        options["yAxis"]["inverse"] = True
    return {"options": options, "links": links or []}


def export(tables, title, fmt, scope):
    """The report's tables as a CSV or an Excel file (one sheet per table)."""
    stamp = f"{scope.start:%Y%m%d}-{scope.end:%Y%m%d}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        book.remove(book.active)
        for table in tables:
            sheet = book.create_sheet(str(table.title)[:31])
            sheet.append([str(c.label) for c in table.columns])
            for row in table.rows:
                sheet.append([raw(row.get(c.key), c.kind) for c in table.columns])
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"{title}-{stamp}.xlsx"
    else:
        out = io.StringIO()
        out.write("\ufeff")  # Excel reads UTF-8 with the mark
        writer = csv.writer(out)
        for table in tables:
            writer.writerow([str(table.title)])
            writer.writerow([str(c.label) for c in table.columns])
            for row in table.rows:
                writer.writerow([_csv_cell(raw(row.get(c.key), c.kind)) for c in table.columns])
            writer.writerow([])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        name = f"{title}-{stamp}.csv"
    from django.utils.encoding import escape_uri_path

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(name)}"
    return response


def _csv_cell(value):
    # A text cell that a spreadsheet would read as a formula is quoted.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value
