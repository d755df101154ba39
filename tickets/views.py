from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView
from django_filters.views import FilterView
from django_ratelimit.decorators import ratelimit

from aftersales.access import PermissionMixin
from aftersales.lib.qr import qr_svg
from customers.filters import style_filter_form
from customers.models import Customer, Equipment, ServiceAgreement

from . import services
from .filters import TicketFilter
from .forms import ActionForm, PriorityForm, RevisitForm, TicketForm
from .models import OPEN_STATES, Revisit, State, Ticket, TicketTransition, Visit
from .sla import sla_rows


class CappedPaginator(Paginator):
    """Counts at most CAP matching rows (`COUNT` over a `LIMIT`), so a page of a list never
    costs a count of the whole table; the pager then says "10000+"."""

    CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list[: self.CAP + 1].count()

    @property
    def capped(self):
        return self.count > self.CAP


def _ticket_rows(qs, *related):
    """Tickets with what pages show of them: customer and unit joined, short lists prefetched.

    Every join multiplies PostgreSQL's planning time (a ticket joined to six tables took ~25 ms
    to plan and under 2 ms to run; two joins plan in under 1 ms), so the short lists (engineers,
    problem types, service points, products) come in one small query each instead. `related`
    names them; all four by default.
    """
    return qs.select_related("customer", "equipment").prefetch_related(
        *(related or ("engineer", "problem_type", "service_point", "product"))
    )


def _query_string(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class TicketListView(PermissionMixin, FilterView):
    """The dispatcher desk: queues by state with counts, filters, search, sort, pages."""

    permission_required = "tickets.view_ticket"
    filterset_class = TicketFilter
    template_name = "tickets/ticket_list.html"
    paginate_by = settings.PAGE_SIZE
    paginator_class = CappedPaginator

    # The columns of templates/tickets/ticket_list.html (a column shown there must be listed):
    # building 25 tickets with every column of the ticket, its customer and its unit took longer
    # than the query itself.
    row_fields = [
        "number",
        "state",
        "priority",
        "service_type",
        "requested_date",
        "created_at",
        "customer",
        "equipment",
        "problem_type",
        "engineer",
        "sla_due",
        "sla_warn_at",
    ]

    def get_queryset(self):
        # No joins: PostgreSQL joins every matching ticket before it sorts them (a busy
        # customer's search joined 1,000 tickets to show 25: 14 ms instead of 2). The rows'
        # customers, units, engineers and problem types come in one small query each.
        return (
            Ticket.objects.visible_to(self.request.user)
            .only(*self.row_fields)
            .prefetch_related(
                Prefetch("customer", Customer.objects.only("name")),
                Prefetch("equipment", Equipment.objects.only("serial_no")),
                "engineer",
                "problem_type",
            )
            .order_by("-created_at", "-id")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        style_filter_form(ctx["filter"].form)
        # Open states only: each count reads a slice of the state index, never the archive;
        # COUNT(*) lets PostgreSQL count from the index alone (COUNT(id) reads every row).
        counts = dict(
            Ticket.objects.filter(state__in=OPEN_STATES)
            .values_list("state")
            .annotate(n=Count("*"))
            .values_list("state", "n")
        )
        ctx["queues"] = [(s, State(s).label, counts.get(s, 0)) for s in OPEN_STATES]
        ctx["selects"] = _select_boxes(ctx["filter"].form)
        ctx["current_state"] = self.request.GET.get("state", "")
        ctx["query_string"] = _query_string(self.request)
        return ctx


# The filter fields the desk shows as select boxes (the others are inputs of their own).
_SELECTS_SKIPPED = {"q", "requested", "created", "customer"}


def _select_boxes(form):
    """(name, label, [(value, text, selected), ...]) per select box of the desk's filter.

    Computed once here: the template's per-option work on the bound field (its current value
    re-read for each of ~300 options: engineers, service points, problem types) cost more than
    all the page's queries.
    """
    boxes = []
    for name, field in form.fields.items():
        if name in _SELECTS_SKIPPED:
            continue
        current = form[name].value()
        current = "" if current is None else str(current)
        if hasattr(field, "queryset"):
            # One plain query: `field.choices` would read them through a server-side cursor
            # (DECLARE, FETCH, CLOSE: three round trips).
            choices = [(obj.pk, field.label_from_instance(obj)) for obj in field.queryset]
        else:
            choices = [(value, text) for value, text in field.choices if value not in ("", None)]
        options = [("", _("All: %(name)s") % {"name": field.label}, current == "")]
        options += [(str(value), text, str(value) == current) for value, text in choices]
        boxes.append((name, field.label, options))
    return boxes


def _visible_ticket(user, pk, qs=None):
    # `qs or ...` would evaluate the queryset: every ticket, fetched to test truthiness.
    return get_object_or_404((Ticket.objects if qs is None else qs).visible_to(user), pk=pk)


# Entry ------------------------------------------------------------------------------------------


@login_required
@permission_required("tickets.add_ticket", raise_exception=True)
def ticket_create(request):
    """Step 1: find the customer (or come from their page). Step 2: the form with their facts."""
    customer_pk = request.GET.get("customer") or request.POST.get("customer")
    unit_pk = request.GET.get("equipment")
    if not customer_pk and unit_pk:
        customer_pk = (
            Customer.objects.filter(equipment__pk=unit_pk).values_list("pk", flat=True).first()
        )
    if not customer_pk:
        q = request.GET.get("q", "").strip()
        found = (
            Customer.objects.visible_to(request.user).search(q).select_related("region")[:20]
            if q
            else []
        )
        return render(request, "tickets/ticket_pick_customer.html", {"q": q, "found": found})

    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_pk)
    initial = {"equipment": unit_pk} if unit_pk else {}
    form = TicketForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        ticket = services.enter_ticket(
            form.save(commit=False),
            request.user,
            suspend_reason=form.cleaned_data["suspend_reason"],
        )
        messages.success(request, _("Service request %(number)s entered.") % {"number": ticket})
        return redirect(ticket)
    return render(request, "tickets/ticket_form.html", {"form": form, **_customer_facts(customer)})


def _customer_facts(customer):
    """What the dispatcher needs beside the entry form: open tickets, history, units, agreements."""
    tickets = customer.tickets.select_related("engineer", "problem_type").order_by("-created_at")
    today = timezone.localdate()
    return {
        "customer": customer,
        "open_tickets": list(tickets.filter(state__in=OPEN_STATES)[:10]),
        "history": list(tickets.exclude(state__in=OPEN_STATES)[:10]),
        "units": list(
            customer.equipment.select_related("product_model__line").order_by("serial_no")[:50]
        ),
        "agreements": list(
            ServiceAgreement.objects.filter(customer=customer, end_date__gte=today).order_by(
                "end_date"
            )
        ),
    }


# Detail and actions -------------------------------------------------------------------------


def _timeline(ticket):
    """Transitions, visits and revisits of a ticket, oldest first, in a fixed number of queries."""
    log = list(ticket.log.select_related("actor"))
    visits = list(ticket.visits.select_related("engineer").prefetch_related("parts", "photos"))
    revisits = list(ticket.revisits.select_related("agent"))
    events = [("transition", t.at, t) for t in log]
    events += [("visit", v.finished_at or v.checked_in_at, v) for v in visits]
    events += [("revisit", r.at, r) for r in revisits]
    events.sort(key=lambda e: e[1])
    return events, visits


@login_required
def ticket_detail(request, pk):
    if not request.user.has_perm("tickets.view_ticket"):
        if request.user.has_perm("tickets.work_ticket"):
            return redirect("mobile:job", pk=pk)
        raise Http404
    ticket = _visible_ticket(
        request.user,
        pk,
        _ticket_rows(
            Ticket.objects.select_related("contact"),
            "engineer__engineer_profile",
            "problem_type",
            "service_point",
            "product",
            "created_by",
            "agreement",
            "calendar",
        ),
    )
    events, visits = _timeline(ticket)
    actions = [
        (action, ActionForm(action=action, initial={"version": ticket.version}))
        for action in services.available_actions(ticket, request.user)
    ]
    priority_form = None
    if ticket.is_open and request.user.has_perm("tickets.dispatch_ticket"):
        priority_form = PriorityForm(
            initial={"version": ticket.version, "priority": ticket.priority}
        )
    revisit_form = None
    if ticket.state == State.PROCESSED and request.user.has_perm("tickets.revisit_ticket"):
        revisit_form = RevisitForm(initial={"version": ticket.version})
    return render(
        request,
        "tickets/ticket_detail.html",
        {
            "ticket": ticket,
            "events": events,
            "visits": visits,
            "actions": actions,
            "revisit_form": revisit_form,
            "priority_form": priority_form,
            "targets": sla_rows(ticket),
        },
    )


@require_POST
@login_required
def ticket_act(request, pk, action):
    """One action button of the ticket page. The service checks state, person and version."""
    if action not in services.ACTIONS:
        raise Http404
    ticket = _visible_ticket(request.user, pk)
    form = ActionForm(request.POST, action=services.ACTIONS[action])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back(request, ticket))
    data = form.cleaned_data
    extra = {}
    if services.ACTIONS[action].needs_engineer:
        extra["engineer"] = data["engineer"]
    try:
        ticket = services.perform(
            ticket,
            action,
            request.user,
            version=data["version"],
            reason=data["reason"],
            **extra,
        )
    except services.ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("%(number)s: %(action)s.")
            % {"number": ticket.number, "action": services.ACTION_LABELS[action]},
        )
    return redirect(_back(request, ticket))


def _back(request, ticket):
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return ticket.get_absolute_url()


@require_POST
@login_required
@permission_required("tickets.dispatch_ticket", raise_exception=True)
def ticket_priority(request, pk):
    ticket = _visible_ticket(request.user, pk)
    form = PriorityForm(request.POST)
    if form.is_valid():
        try:
            services.change_priority(
                ticket,
                request.user,
                version=form.cleaned_data["version"],
                priority=form.cleaned_data["priority"],
            )
        except services.ActionRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("Priority changed; the SLA due times follow it."))
    else:
        messages.error(request, _("Choose a priority."))
    return redirect(ticket)


@require_POST
@login_required
@permission_required("tickets.revisit_ticket", raise_exception=True)
def ticket_revisit(request, pk):
    ticket = _visible_ticket(request.user, pk)
    form = RevisitForm(request.POST)
    if form.is_valid():
        try:
            services.record_revisit(
                ticket,
                request.user,
                version=form.cleaned_data["version"],
                outcome=form.cleaned_data["outcome"],
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except services.ActionRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("Revisit recorded."))
            return redirect(request.POST.get("next") or "tickets:revisit_queue")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(ticket)


# Queues -----------------------------------------------------------------------------------------


def _last_visit_prefetch():
    return Prefetch(
        "visits",
        queryset=Visit.objects.filter(result=Visit.Result.RESOLVED)
        .select_related("engineer")
        .prefetch_related("parts")
        .order_by("-round", "-id"),
        to_attr="resolved_visits",
    )


class RevisitQueueView(PermissionMixin, ListView):
    """Processed tickets waiting for the revisit call, the longest waiting first."""

    permission_required = "tickets.revisit_ticket"
    template_name = "tickets/revisit_queue.html"
    paginate_by = settings.PAGE_SIZE
    paginator_class = CappedPaginator

    def get_queryset(self):
        return (
            _ticket_rows(Ticket.objects.filter(state=State.PROCESSED))
            .prefetch_related(
                _last_visit_prefetch(),
                Prefetch(
                    "revisits",
                    queryset=Revisit.objects.order_by("-at"),
                    to_attr="attempts",
                ),
            )
            .order_by("processed_at", "id")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["query_string"] = _query_string(self.request)
        ctx["outcomes"] = Revisit.Outcome.choices
        return ctx


@login_required
@permission_required("tickets.supervise_ticket", raise_exception=True)
def manager_queues(request):
    """Locked tickets (why, rounds) and closed tickets awaiting verification (核销)."""
    limit = settings.PAGE_SIZE
    locked = list(
        _ticket_rows(Ticket.objects.filter(state=State.LOCKED)).order_by("locked_at", "id")[
            : limit + 1
        ]
    )
    closed = list(
        _ticket_rows(Ticket.objects.filter(state=State.CLOSED))
        .prefetch_related(_last_visit_prefetch())
        .order_by("correction_requested", "closed_at", "id")[: limit + 1]
    )
    return render(
        request,
        "tickets/manager_queues.html",
        {
            "locked": locked[:limit],
            "locked_more": len(locked) > limit,
            "closed": closed[:limit],
            "closed_more": len(closed) > limit,
            "verify": services.ACTIONS["verify"],
            "send_back": services.ACTIONS["send_back"],
        },
    )


# Work order and the customer's view --------------------------------------------------------------


@login_required
def work_order(request, pk):
    """The electronic work order (电子工单): every fact, the visit record, the signature, a QR."""
    ticket = _visible_ticket(
        request.user,
        pk,
        _ticket_rows(
            Ticket.objects.select_related("contact"),
            "engineer",
            "problem_type",
            "service_point",
            "product",
            "created_by",
            "agreement",
            "calendar",
        ),
    )
    events, visits = _timeline(ticket)
    public_url = request.build_absolute_uri(reverse("ticket_public", args=[ticket.public_token]))
    return render(
        request,
        "tickets/work_order.html",
        {
            "ticket": ticket,
            "visits": visits,
            "revisits": [e[2] for e in events if e[0] == "revisit"],
            "qr": qr_svg(public_url),
            "public_url": public_url,
            "printed_at": timezone.now(),
        },
    )


# Milestones a customer sees (no reasons, no internal notes, no people's names but the engineer).
PUBLIC_ACTIONS = {
    "enter",
    "assign",
    "unlock",
    "check_in",
    "resolve",
    "close_satisfied",
    "verify",
    "cancel",
    "cancel_locked",
}


@ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_RATE_LIMIT, block=True)
def ticket_public(request, token):
    ticket = get_object_or_404(
        Ticket.objects.select_related("customer", "product", "equipment", "engineer"),
        public_token=token,
    )
    milestones = list(
        TicketTransition.objects.filter(ticket=ticket, action__in=PUBLIC_ACTIONS).order_by(
            "at", "id"
        )
    )
    visits = list(
        ticket.visits.exclude(result=Visit.Result.OPEN)
        .prefetch_related("parts")
        .order_by("checked_in_at")
    )
    return render(
        request,
        "tickets/ticket_public.html",
        {
            "ticket": ticket,
            "milestones": milestones,
            "visits": visits,
            "hotline": settings.SERVICE_HOTLINE,
        },
    )
