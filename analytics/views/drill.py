"""The requests behind a figure: the facts with an event in the period, filtered as the report
was, and by the row's dimensions (a problem type, an engineer …) and outcome (late …)."""

from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext_lazy as _

from aftersales.lib.pagination import CappedPaginator
from tickets.models import Ticket

from .. import cubes
from ..models import TicketFact
from ..models.figures import EVENTS
from ..reports import ReportForm, query_of
from .base import ReportView

EVENT_LABELS = {
    "created": _("Opened"),
    "processed": _("Processed"),
    "closed": _("Closed"),
    "response": _("Response decided"),
    "arrival": _("On-site arrival decided"),
    "resolution": _("Resolution decided"),
    "revisit": _("Revisited"),
}
OUTCOMES = {
    "ok": ("{event}_ok", 1, _("met in time")),
    "late": ("{event}_ok", 0, _("late")),
    "ftf": ("first_time_fix", 1, _("first-time fix")),
    "repeat30": ("repeat30", 1, _("repeat within 30 days")),
    "repeat90": ("repeat90", 1, _("repeat within 90 days")),
}
SLA_EVENTS = {"response", "arrival", "resolution"}


def drill_filters(params, event):
    """The dimension and outcome filters of a drill-down link; (filters, problems)."""
    filters, bad = {}, []
    for dimension in cubes.DIMENSIONS:
        if dimension not in params:
            continue
        value = params[dimension].strip()
        if dimension in cubes.TEXT_DIMENSIONS:
            if len(value) <= 20:
                filters[dimension] = value
                continue
        elif value.isdigit() and len(value) < 10:
            filters[dimension] = int(value)
            continue
        bad.append(dimension)
    outcome = params.get("outcome")
    if outcome:
        if outcome in OUTCOMES and (outcome not in ("ok", "late") or event in SLA_EVENTS):
            column, value, _label = OUTCOMES[outcome]
            filters[column.format(event=event)] = value
        else:
            bad.append("outcome")
    return filters, bad


class RequestsView(ReportView):
    template_name = "analytics/requests.html"
    url_name = "requests"
    title = _("The requests behind a figure")

    def get(self, request, *args, **kwargs):
        form = ReportForm(request.GET)
        scope = form.scope()
        event = request.GET.get("event")
        if event not in EVENTS:
            if event:
                messages.warning(
                    request, _("That figure is not known: the requests opened are listed.")
                )
            event = "created"
        extra, bad = drill_filters(request.GET, event)
        if bad:
            messages.warning(
                request, _("Some of the link's filters were not understood and are left out.")
            )
        facts = TicketFact.objects.filter(
            **{f"{event}_day__gte": scope.start, f"{event}_day__lte": scope.end},
            **scope.filters,
            **extra,
        ).order_by("-ticket_id")
        paginator = CappedPaginator(facts.values_list("ticket_id", flat=True), settings.PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        ids = list(page.object_list)
        # Only what the list shows: a request has some seventy columns, and building 25 whole
        # requests with their customers and engineers cost more than finding them.
        tickets = (
            Ticket.objects.filter(pk__in=ids)
            .select_related("customer", "engineer", "problem_type")
            .only(
                "number",
                "state",
                "created_at",
                "customer__name",
                "problem_type__name",
                *(
                    f"engineer__{name}"
                    for name in ("display_name", "first_name", "last_name", "username")
                ),
            )
            .order_by("-pk")
        )
        outcome = OUTCOMES.get(request.GET.get("outcome", ""), (None, None, ""))[2]
        context = self.get_context_data(
            form=form,
            scope=scope,
            tables=[],
            event_label=EVENT_LABELS[event],
            outcome_label=outcome,
            tickets=tickets,
            page_obj=page,
            paginator=paginator,
            query=query_of(
                scope,
                event=event,
                outcome=request.GET.get("outcome"),
                **{k: v for k, v in extra.items() if k in cubes.DIMENSIONS},
            ),
            **kwargs,
        )
        return self.render_to_response(context)
