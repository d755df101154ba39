"""The report page: period and filters, figure cards, each chart beside its table, exports."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from aftersales.access import PermissionMixin

from ..reports import ReportForm, export, query_of

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
        tables = self.tables(scope)
        fmt = request.GET.get("export")
        if fmt in ("csv", "xlsx"):
            return export(tables, self.title, fmt, scope)
        context = self.get_context_data(form=form, scope=scope, tables=tables, **kwargs)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scope = context["scope"]
        query = query_of(scope)
        context.update(
            title=self.title,
            subtitle=self.subtitle,
            cards=self.cards(scope),
            sections=[(t, t.cells(scope)) for t in context["tables"]],
            tabs=[
                (reverse(name) + "?" + query, title, name == f"analytics:{self.url_name}")
                for name, title in REPORTS
            ],
            export_query=query,
            offered=self.filters,
            quick_ranges=quick_ranges(),
        )
        return context


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
