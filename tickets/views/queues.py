"""The queues of the office: the revisit queue (processed requests waiting for the call) and the
service manager's queues (locked requests, closed ones awaiting verification). Each row's
cards are rendered once per ticket version and kept in the cache (`_with_fragments`)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django_filters.views import FilterView

from aftersales.access import PermissionMixin
from aftersales.caching import TIMEOUT, remembered
from aftersales.lib.filters import FilteredListMixin, query_string
from aftersales.lib.pagination import CappedPaginator, CountedPaginator

from .. import services
from ..filters import RevisitFilter
from ..forms import ManagerQueuesForm
from ..models import QUEUE_COUNTS, Rating, Revisit, State, Ticket, Visit
from .desk import _queue_counts


def _last_visit_prefetch():
    return Prefetch(
        "visits",
        queryset=Visit.objects.filter(result=Visit.Result.RESOLVED)
        .select_related("engineer")
        .prefetch_related("parts", "photos")
        .order_by("-round", "-id"),
        to_attr="resolved_visits",
    )


def _with_fragments(tickets, name, template, prepare=None):
    """Set `name` on each ticket: `template` rendered with it (`t`), kept in the cache by
    (ticket, version, language) and read for the whole list in one round trip. What a queue
    row shows of a ticket (its cells, its last visit record) changes only through a service,
    which raises the version. `prepare(missing)` fetches what the template needs (visits …)
    for the tickets not in the cache only."""
    language = get_language()
    keys = {t.pk: f"{name}:{t.pk}:{t.version}:{language}" for t in tickets}
    found = cache.get_many(list(keys.values())) if keys else {}
    missing = [t for t in tickets if keys[t.pk] not in found]
    if missing:
        if prepare is not None:
            prepare(missing)
        made = {keys[t.pk]: render_to_string(template, {"t": t}) for t in missing}
        cache.set_many(made, TIMEOUT)
        found |= made
    for t in tickets:
        setattr(t, name, found[keys[t.pk]])
    return tickets


def _fetch_last_visits(tickets):
    prefetch_related_objects(tickets, _last_visit_prefetch())


def _queue_rows(state, *fields):
    """A queue's tickets of one state with only what its cards show (and the customer's name):
    building 25 whole tickets (~70 fields each) and prefetching lists no card shows cost more
    than the rest of the page."""
    return (
        Ticket.objects.filter(state=state)
        .select_related("customer")
        .only("number", "state", "version", "customer__name", *fields)
    )


class RevisitQueueView(PermissionMixin, FilteredListMixin, FilterView):
    """Processed tickets waiting for the revisit call: those whose customer rated the work 1–2
    on the tracking page first ("needs a call"), then the longest waiting; each with the
    customer's own rating, the call's first answer. A search box (the desk's search) finds the
    caller's ticket."""

    permission_required = "tickets.revisit_ticket"
    template_name = "tickets/revisit_queue.html"
    filterset_class = RevisitFilter
    paginator_class = CappedPaginator

    def get_queryset(self):
        return (
            _queue_rows(
                State.PROCESSED,
                "processed_at",
                "revisit_due",
                "revisit_overdue_at",
                "contact_name",
                "contact_phone",
                "description",
                "round",
                "needs_call",
            )
            .prefetch_related(
                Prefetch(
                    "revisits",
                    queryset=Revisit.objects.order_by("-at"),
                    to_attr="attempts",
                ),
                Prefetch("ratings", queryset=Rating.objects.order_by("round"), to_attr="rated"),
            )
            # In the order of its index (ticket_revisit_calls): no sort of the whole queue.
            .order_by("-needs_call", "processed_at", "id")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        tickets = ctx["object_list"]
        _with_fragments(tickets, "visit_record", "tickets/_last_visit.html", _fetch_last_visits)
        for t in tickets:
            # The customer's rating of this round (an earlier round's was for earlier work).
            t.rating = next((r for r in t.rated if r.round == t.round), None)
        ctx["outcomes"] = Revisit.Outcome.choices
        return ctx


@login_required
@permission_required("tickets.supervise_ticket", raise_exception=True)
def manager_queues(request):
    """Locked tickets (why, rounds) and closed tickets awaiting verification (核销), each list
    with its own pager (?locked_page=, ?closed_page=) and its total from the queue counts kept
    in the cache (no COUNT over the tickets on each request)."""
    pages = ManagerQueuesForm(request.GET).values()
    counts = remembered(QUEUE_COUNTS, _queue_counts)
    locked = _queue_page(
        _queue_rows(
            State.LOCKED, "locked_at", "state_reason", "unresolved_rounds", "round"
        ).order_by("locked_at", "id"),
        counts.get(State.LOCKED, 0),
        pages.get("locked_page"),
    )
    closed = _queue_page(
        _queue_rows(State.CLOSED, "closed_at", "correction_requested").order_by(
            "correction_requested", "closed_at", "id"
        ),
        counts.get(State.CLOSED, 0),
        pages.get("closed_page"),
    )
    return render(
        request,
        "tickets/manager_queues.html",
        {
            "locked": _with_fragments(locked.object_list, "row", "tickets/_locked_row.html"),
            "locked_page": locked,
            "locked_query": query_string(request, "locked_page"),
            "closed": _with_fragments(
                closed.object_list, "cells", "tickets/_verify_cells.html", _fetch_last_visits
            ),
            "closed_page": closed,
            "closed_query": query_string(request, "closed_page"),
            "here": request.get_full_path(),
            "verify": services.ACTIONS["verify"],
            "send_back": services.ACTIONS["send_back"],
        },
    )


def _queue_page(rows, count, number):
    """One page (settings.PAGE_SIZE rows) of a queue of `count` tickets; the last page for a
    number past it."""
    page = CountedPaginator(rows, settings.PAGE_SIZE, count=count).get_page(number or 1)
    page.object_list = list(page.object_list)
    return page
