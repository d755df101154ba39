"""The report page: period and filters, figure cards, each chart beside its table, exports."""

import hashlib
from functools import partial

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from aftersales.access import PermissionMixin

from ..figures import generation
from ..reports import ReportForm, export, query_of

# A rendered report is kept this long at most (a refresh of the figures makes it stale sooner).
REPORT_SECONDS = 600
# The reports' tabs: (url name, title), in order. Each report view adds itself (REPORTS.append).
REPORTS = []


def names(model, ids, label=str):
    """{id: label} of the rows of `model` with these ids (one query)."""
    ids = {pk for pk in ids if pk}
    return {pk: label(obj) for pk, obj in model.objects.in_bulk(ids).items()} if ids else {}


class ReportView(PermissionMixin, TemplateView):
    permission_required = "analytics.view_reports"
    template_name = "analytics/report.html"
    url_name = ""
    title = ""
    subtitle = ""
    # Which of the common filters this report offers (all by default).
    filters = ("service_point", "product_line", "customer_level", "agreement")

    def scope_form(self):
        return ReportForm(self.request.GET)

    def tables(self, scope):
        return []

    def cards(self, scope):
        return []

    def get(self, request, *args, **kwargs):
        form = self.scope_form()
        scope = form.scope()
        fmt = request.GET.get("export")
        if fmt in ("csv", "xlsx"):
            return export(self.tables(scope), self.title, fmt, scope)
        context = self.get_context_data(
            form=form,
            scope=scope,
            report=partial(self.report, scope),
            # The tables themselves (tests read them), computed only if someone does.
            tables=SimpleLazyObject(lambda: self.report(scope)["tables"]),
            **kwargs,
        )
        return self.render_to_response(context)

    def report(self, scope):
        """The figures' part of the page: computed only when the cached copy is missing (and
        once per request)."""
        if getattr(self, "_figures", None) is None:
            tables = self.tables(scope)
            self._figures = {
                "tables": tables,
                "cards": self.cards(scope),
                "sections": [(t, t.cells(scope)) for t in tables],
            }
        return self._figures

    def report_key(self):
        """The cached report's name: this page and its parameters, the user (a report may show
        what only they may see), and the figures' generation (any refresh makes it stale)."""
        params = sorted((k, v) for k, v in self.request.GET.lists() if k not in ("export",))
        text = f"{self.request.path}|{params}|{self.request.user.pk}|{generation()}"
        return hashlib.sha256(text.encode()).hexdigest()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scope = context["scope"]
        query = query_of(scope)
        context.update(
            title=self.title,
            subtitle=self.subtitle,
            report_key=self.report_key(),
            report_seconds=REPORT_SECONDS,
            tabs=report_tabs(query, f"analytics:{self.url_name}"),
            export_query=query,
            offered=self.filters,
            quick_ranges=quick_ranges(),
        )
        return context


# The tabs' order (a report not named here comes last).
TAB_ORDER = ["overview", "problems", "agreements", "services", "sla", "engineers", "scorecard"]


def report_tabs(query, current):
    """The reports' tabs: (link keeping the period and filters, title, whether it is `current`)."""
    return [
        (reverse(name) + "?" + query, title, name == current)
        for name, title in sorted(REPORTS, key=_tab_rank)
    ]


def _tab_rank(tab):
    name = tab[0].split(":")[-1]
    return TAB_ORDER.index(name) if name in TAB_ORDER else len(TAB_ORDER)


def quick_ranges():
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    month = today.replace(day=1)
    year = today.replace(month=1, day=1)
    return [
        (_("Last 7 days"), today - timedelta(days=6), today),
        (_("Last 30 days"), today - timedelta(days=29), today),
        (_("This month"), month, today),
        (_("This year"), year, today),
        (_("Last 3 years"), today.replace(year=today.year - 3) + timedelta(days=1), today),
    ]
