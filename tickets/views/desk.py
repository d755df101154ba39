"""The office's pages: the dispatcher desk, entry, the ticket page and its actions and the work
order (the revisit queue and the service manager's queues: tickets.views.queues).

Tickets come through `tickets.access` (a ticket the person may not see is a 404); every action
posts a form to a service through `aftersales.lib.actions.run_action`.
"""

import functools
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from aftersales.access import PermissionMixin
from aftersales.caching import TIMEOUT, per_language, remembered
from aftersales.lib.actions import run_action, safe_next
from aftersales.lib.filters import FilteredListMixin
from aftersales.lib.pagination import CappedPaginator
from aftersales.lib.qr import qr_svg
from aftersales.models import User, user_name
from customers.models import Customer, Equipment, Priority, ServiceAgreement

from .. import intake, services
from ..access import visible_ticket
from ..filters import TicketFilter, short_lists
from ..forms import (
    ActionForm,
    EntryStartForm,
    PriorityForm,
    RevisitForm,
    TicketForm,
    engineer_options,
)
from ..models import (
    ACTION_LABELS,
    CUSTOMER_ACTIONS,
    OPEN_STATES,
    QUEUE_COUNTS,
    STATE_TONES,
    Channel,
    Intake,
    ServiceType,
    State,
    Ticket,
)
from ..sla import Light, light, sla_rows
from ..slots import entry_panels, ticket_panels


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


class TicketListView(PermissionMixin, FilteredListMixin, FilterView):
    """The dispatcher desk: queues by state with counts, filters, search, sort, pages."""

    permission_required = "tickets.view_ticket"
    filterset_class = TicketFilter
    template_name = "tickets/ticket_list.html"
    paginator_class = CappedPaginator

    # The columns of templates/tickets/ticket_list.html, read as named tuples (row.number):
    # building 25 model instances, with their customers and units, took longer than the query.
    row_fields = [
        "pk",
        "number",
        "state",
        "priority",
        "service_type",
        "requested_date",
        "created_at",
        "customer_id",
        "equipment_id",
        "problem_type_id",
        "engineer_id",
        "sla_due",
        "sla_warn_at",
    ]

    def get_queryset(self):
        # No joins: PostgreSQL joins every matching ticket before it sorts them (a busy
        # customer's search joined 1,000 tickets to show 25: 14 ms instead of 2). The rows'
        # customers and units come in one small query each (desk_rows).
        return (
            Ticket.objects.visible_to(self.request.user)
            .values_list(*self.row_fields, named=True)
            .order_by("-created_at", "-id")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        counts = remembered(QUEUE_COUNTS, _queue_counts)
        ctx["queues"] = [(s, State(s).label, counts.get(s, 0)) for s in OPEN_STATES]
        ctx["intake_count"] = counts.get("intake", 0)
        ctx["selects"] = _select_boxes(ctx["filter"].form)
        ctx["rows"] = desk_rows(ctx["object_list"])
        ctx["current_state"] = self.request.GET.get("state", "")
        return ctx


@functools.cache
def _pills(language):
    """Every state's and priority's pill (templates/tickets/_state.html, _priority.html) in
    this language, rendered once per process: an include per row and column cost the desk
    more than a millisecond."""
    states = {
        value: render_to_string("tickets/_state.html", {"tone": STATE_TONES[value], "label": label})
        for value, label in State.choices
    }
    priorities = {
        value: render_to_string("tickets/_priority.html", {"priority": value, "label": label})
        for value, label in Priority.choices
    }
    return states, priorities


def desk_rows(tickets):
    """The desk's rows as plain dicts of text (`tickets`: named tuples of
    TicketListView.row_fields) for templates/tickets/ticket_list.html. Names, labels and local
    times are looked up here once per page: choice labels, engineers and problem types from
    memory, customers and units in one query each; the template only places them."""
    now = timezone.now()
    detail = reverse("tickets:detail", args=[0]).removesuffix("0/")
    # Choice labels once per page: get_FOO_display() rebuilds and translates them every time.
    kinds = {value: str(label) for value, label in ServiceType.choices}
    states, priorities = _pills(get_language())
    lights = {value: str(label) for value, label in Light.LABELS.items()}
    # Engineers' and problem types' names from the desk's cached short lists (an engineer who
    # has left is not in them: those few are read).
    lists = short_lists()
    engineers, problems = dict(lists["engineer"]), dict(lists["problem_type"])
    tickets = list(tickets)
    missing = {t.engineer_id for t in tickets if t.engineer_id} - {int(pk) for pk in engineers}
    if missing:
        engineers.update((str(u.pk), str(u)) for u in User.objects.filter(pk__in=missing))
    customers = dict(
        Customer.objects.filter(pk__in={t.customer_id for t in tickets})
        .order_by()
        .values_list("pk", "name")
    )
    units = {t.equipment_id for t in tickets if t.equipment_id}
    serials = (
        dict(Equipment.objects.filter(pk__in=units).order_by().values_list("pk", "serial_no"))
        if units
        else {}
    )
    rows = []
    for t in tickets:
        tone = light(t, now)
        sla = None
        if tone:
            due = timezone.localtime(t.sla_due)
            sla = {
                "light": tone,
                "label": lights[tone],
                "due_at": f"{due:%Y-%m-%d %H:%M}",
                "due": f"{due:%m-%d %H:%M}",
            }
        rows.append(
            {
                "url": f"{detail}{t.pk}/",
                "number": t.number,
                "state": states[t.state],
                "priority": priorities[t.priority],
                "customer": customers.get(t.customer_id, ""),
                "serial": serials.get(t.equipment_id),
                "service_type": kinds[t.service_type],
                "problem": problems.get(str(t.problem_type_id)) if t.problem_type_id else None,
                "engineer": engineers.get(str(t.engineer_id)) if t.engineer_id else None,
                "sla": sla,
                "requested": f"{t.requested_date:%Y-%m-%d}" if t.requested_date else "—",
                "created": f"{timezone.localtime(t.created_at):%m-%d %H:%M}",
            }
        )
    return rows


# The states whose tickets are counted for the queues: the open ones (the desk) and the closed
# ones awaiting verification (the service manager's queue), never the archive.
COUNTED_STATES = [*OPEN_STATES, State.CLOSED]


def _queue_counts():
    # Each count reads a slice of the state index, never the archive (verified, cancelled);
    # COUNT(*) lets PostgreSQL count from the index alone (COUNT(id) reads every row). Kept in
    # the cache until a ticket changes state (tickets.services forgets it on commit).
    counts = dict(
        Ticket.objects.filter(state__in=COUNTED_STATES)
        .values_list("state")
        .annotate(n=Count("*"))
        .values_list("state", "n")
    )
    # Portal requests waiting for a dispatcher to find their unit (tickets.intake forgets it).
    counts["intake"] = Intake.objects.filter(status=Intake.Status.WAITING).count()
    return counts


# The filter fields the desk shows as select boxes (the others are inputs of their own).
_SELECTS_SKIPPED = {"q", "requested", "created", "customer"}


def _select_boxes(form):
    """(name, label, options) per select box of the desk's filter, `options` rendered by
    templates/includes/options.html.

    The boxes' choices, and their options with none chosen, are kept in the cache per language
    with the short lists they come from (tickets.filters.short_lists): rendered on every
    request, ~300 options (engineers, service points, problem types) cost more than all of the
    page's queries. A box with a choice made is kept too, under the entry's own token: when
    the boxes are forgotten, those are never read again.
    """
    # Not "desk-selects", the name of these entries when they held three values each.
    token, boxes = remembered(per_language("desk-boxes"), lambda: _desk_selects(form))
    chosen = {}  # name: (value, its cache key; None for a value that is not a choice)
    for name, _label, _blank, options, _unchosen in boxes:
        value = form[name].value()
        if value not in ("", None):
            value = str(value)
            known = value in dict(options)
            chosen[name] = (value, f"desk-box:{token}:{name}:{value}" if known else None)
    keys = [key for _value, key in chosen.values() if key]
    rendered = cache.get_many(keys) if keys else {}
    selects = []
    for name, label, blank, options, unchosen in boxes:
        if name not in chosen:
            selects.append((name, label, unchosen))
            continue
        value, key = chosen[name]
        html = rendered.get(key)
        if html is None:
            context = {"groups": [("", options)], "blank": blank, "current": value}
            html = render_to_string("includes/options.html", context)
            if key:
                cache.set(key, html, TIMEOUT)
        selects.append((name, label, html))
    return selects


def _desk_selects(form):
    boxes = []
    for name, field in form.fields.items():
        if name in _SELECTS_SKIPPED:
            continue
        options = [(str(v), str(t)) for v, t in field.choices if v not in ("", None)]
        blank = _("All: %(name)s") % {"name": field.label}
        unchosen = render_to_string(
            "includes/options.html", {"groups": [("", options)], "blank": blank, "current": ""}
        )
        boxes.append((name, str(field.label), blank, options, unchosen))
    return uuid.uuid4().hex, boxes


# Entry ------------------------------------------------------------------------------------------


@login_required
@permission_required("tickets.add_ticket", raise_exception=True)
def ticket_create(request):
    """Step 1: find the customer (or come from their page). Step 2: the form with their facts."""
    start = EntryStartForm(
        {
            "customer": request.GET.get("customer") or request.POST.get("customer"),
            "equipment": request.GET.get("equipment"),
            "problem_type": request.GET.get("problem_type"),
            "q": request.GET.get("q", ""),
            "intake": request.GET.get("intake"),
        }
    )
    given = start.values()
    customer_pk, unit_pk = given.get("customer"), given.get("equipment")
    if start.errors.keys() & {"customer", "equipment", "intake"}:
        raise Http404  # an id that cannot be one names nothing
    portal = None
    if given.get("intake"):
        portal = get_object_or_404(Intake, pk=given["intake"])
        if portal.status != Intake.Status.WAITING:
            messages.info(request, _("This portal request was already handled."))
            return redirect("tickets:intake_detail", portal.pk)
    if not customer_pk and unit_pk:
        customer_pk = (
            Customer.objects.filter(equipment__pk=unit_pk).values_list("pk", flat=True).first()
        )
    if not customer_pk:
        q = given.get("q", "")
        found = (
            Customer.objects.visible_to(request.user).search(q).select_related("region")[:20]
            if q
            else []
        )
        return render(
            request,
            "tickets/ticket_pick_customer.html",
            {"q": q, "found": found, "intake": portal},
        )

    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_pk)
    initial = {"equipment": unit_pk, "problem_type": given.get("problem_type")}
    if portal is not None:
        initial.update(_intake_initial(portal))
    form = TicketForm(request.POST or None, customer=customer, initial=initial)
    if request.htmx and request.method == "GET":
        # The unit changed in the form: its problem types (templates/tickets/ticket_form.html).
        return render(request, "tickets/ticket_form.html#problem_type", {"form": form})
    if request.method == "POST" and form.is_valid():
        suspend_reason = form.cleaned_data["suspend_reason"]
        if portal is None:
            ticket = services.enter_ticket(
                form.save(commit=False), request.user, suspend_reason=suspend_reason
            )
        else:
            try:
                ticket = intake.match(
                    portal, form.save(commit=False), request.user, suspend_reason=suspend_reason
                )
            except intake.IntakeRefused as refused:
                messages.error(request, str(refused))
                return redirect("tickets:intake_detail", portal.pk)
        messages.success(request, _("Service request %(number)s entered.") % {"number": ticket})
        return redirect(ticket)
    return render(
        request,
        "tickets/ticket_form.html",
        {
            "form": form,
            "intake": portal,
            "panels": entry_panels.panels(request, form),
            **_customer_facts(customer),
        },
    )


def _intake_initial(portal):
    """The entry form's values from a portal request (what the customer wrote)."""
    return {
        "contact_name": portal.contact_name,
        "contact_phone": portal.mobile,
        "address": portal.address,
        "problem_type": portal.problem_type_id,
        "requested_date": portal.requested_date,
        "requested_window": portal.requested_window,
        "description": portal.description,
        "channel": Channel.PORTAL,
    }


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


def _join(ticket, relations):
    """Read these related rows of a ticket in one query and attach them to it.

    The ticket page shows ten related rows. Joined in one query, PostgreSQL takes ~10 ms to plan
    it (it weighs every join order); fetched one by one (prefetch_related) each costs a round trip
    and Django's work on a query. Groups of three or four joins plan in about a millisecond.
    """
    # "state" too: django-fsm reads it from every ticket it builds (a deferred one costs a query).
    related = Ticket.objects.select_related(*relations).only("state", *relations).get(pk=ticket.pk)
    for name in relations:
        setattr(ticket, name, getattr(related, name))


def _timeline(ticket):
    """Transitions (revisits included) and visits of a ticket, oldest first, in a fixed number
    of queries; and the visits.

    Each event is a dict for templates/tickets/_timeline.html: kind, at, the local time in ISO
    and as shown, and the visit (`item`), or a transition's label, states, actor, reason, a
    revisit's score and corrected hours as text. The ticket page keeps the rendered timeline in
    the cache by ticket, version and language.
    """
    # Plain rows, the actors' names only: building a transition and its user per event cost more
    # than the query.
    log = list(ticket.log.values_list(*_LOG_FIELDS, named=True))
    visits = list(ticket.visits.select_related("engineer").prefetch_related("parts", "photos"))
    # A revisit is one transition (Revisit: satisfied, …) whose row carries its outcome, score
    # and comment: the Revisit rows themselves would show each call twice.
    events = [("transition", t.at, t) for t in log]
    events += [("visit", v.finished_at or v.checked_in_at, v) for v in visits]
    events.sort(key=lambda e: e[1])
    nobody = _("System"), _("Customer")
    states = {value: str(label) for value, label in State.choices}
    timed = []
    for kind, at, item in events:
        local = timezone.localtime(at)
        event = {
            "kind": kind,
            "at": at,
            "iso": local.isoformat(),
            "text": f"{local:%Y-%m-%d %H:%M}",
        }
        if kind == "transition":
            event.update(_transition(item, nobody, states))
        else:
            event["item"] = item
        timed.append(event)
    return timed, visits


_LOG_FIELDS = [
    "action",
    "source",
    "target",
    "at",
    "reason",
    "data",
    "actor_id",
    "actor__username",
    "actor__display_name",
    "actor__first_name",
    "actor__last_name",
]


def _transition(t, nobody, states):
    """What the timeline shows of a transition (a row of _LOG_FIELDS), as text; `nobody`: how
    a row without an actor is signed, (the system's, the customer's)."""
    moved = t.source and t.source != t.target
    data = t.data or {}
    before = data.get("before")
    if t.actor_id:
        actor = user_name(
            t.actor__display_name, t.actor__first_name, t.actor__last_name, t.actor__username
        )
    elif t.action == "customer_info":
        # Information a customer added from the unit's QR code: the name and number they gave.
        actor = _("Customer %(name)s (%(mobile)s)") % {
            "name": data.get("name", ""),
            "mobile": data.get("mobile", ""),
        }
    else:
        actor = nobody[t.action in CUSTOMER_ACTIONS]
    return {
        "label": str(ACTION_LABELS.get(t.action, t.action)),
        "source": states.get(t.source, t.source) if moved else "",
        "target": states.get(t.target, t.target) if moved else "",
        "actor": actor,
        # A customer's comment can be longer than a reason: it is kept in the row's data.
        "reason": t.reason or data.get("comment", ""),
        "score": data.get("score"),
        "hours": (before.get("labour_hours"), (t.data.get("after") or {}).get("labour_hours"))
        if before
        else None,
    }


@login_required
def ticket_detail(request, pk):
    if not request.user.has_perm("tickets.view_ticket"):
        if request.user.has_perm("tickets.work_ticket"):
            return redirect("mobile:job", pk=pk)
        raise Http404
    ticket = visible_ticket(
        request.user, pk, Ticket.objects.select_related("customer", "contact", "equipment")
    )
    _join(ticket, ("engineer", "problem_type", "service_point"))
    _join(ticket, ("product", "created_by", "agreement", "calendar"))
    actions = services.available_actions(ticket, request.user)
    choose_engineer = any(action.needs_engineer for action in actions)
    priority_form = None
    if ticket.is_open and request.user.has_perm("tickets.dispatch_ticket"):
        priority_form = PriorityForm(
            initial={"version": ticket.version, "priority": ticket.priority}
        )
    revisit_form = rating = None
    if ticket.state == State.PROCESSED and request.user.has_perm("tickets.revisit_ticket"):
        # The customer's own rating is the call's first answer: the form starts from it.
        rating = services.current_rating(ticket)
        initial = {"score": rating.score, "comment": rating.comment} if rating else {}
        revisit_form = RevisitForm(initial={"version": ticket.version, **initial})
    return render(
        request,
        "tickets/ticket_detail.html",
        {
            "ticket": ticket,
            # Called by the template only when the timeline is not in the cache.
            "events": lambda: _timeline(ticket)[0],
            "actions": actions,
            "engineer_options": engineer_options() if choose_engineer else "",
            "revisit_form": revisit_form,
            "rating": rating,
            "priority_form": priority_form,
            "targets": sla_rows(ticket),
            "panels": ticket_panels.panels(request, ticket),
            "customer_photos": list(ticket.customer_photos.all()),
            "tracking_url": request.build_absolute_uri(
                reverse("ticket_public", args=[ticket.public_token])
            ),
        },
    )


@require_POST
@login_required
def ticket_act(request, pk, action):
    """One action button of the ticket page. The service checks state, person and version."""
    if action not in services.ACTIONS:
        raise Http404
    ticket = visible_ticket(request.user, pk)

    def act(data):
        extra = {"engineer": data["engineer"]} if services.ACTIONS[action].needs_engineer else {}
        return services.perform(
            ticket, action, request.user, version=data["version"], reason=data["reason"], **extra
        )

    return run_action(
        request,
        ActionForm(request.POST, action=services.ACTIONS[action]),
        act,
        success=lambda done: (
            _("%(number)s: %(action)s.")
            % {"number": done.number, "action": services.ACTION_LABELS[action]}
        ),
        after=lambda done: safe_next(request, (done or ticket).get_absolute_url()),
    )


@require_POST
@login_required
@permission_required("tickets.dispatch_ticket", raise_exception=True)
def ticket_send_tracking(request, pk):
    """Text the contact the public page where they follow the request."""
    ticket = visible_ticket(request.user, pk)
    link = request.build_absolute_uri(reverse("ticket_public", args=[ticket.public_token]))
    return run_action(
        request,
        ActionForm(request.POST),
        lambda data: services.send_tracking_link(
            ticket, request.user, version=data["version"], link=link
        ),
        success=lambda done: (
            _("The tracking link was sent to %(phone)s.") % {"phone": done.contact_phone}
        ),
        after=lambda done: ticket,
        invalid=_("The page was out of date; nothing was sent."),
    )


@require_POST
@login_required
@permission_required("tickets.dispatch_ticket", raise_exception=True)
def ticket_priority(request, pk):
    ticket = visible_ticket(request.user, pk)
    return run_action(
        request,
        PriorityForm(request.POST),
        lambda data: services.change_priority(
            ticket, request.user, version=data["version"], priority=data["priority"]
        ),
        success=lambda done: _("Priority changed; the SLA due times follow it."),
        after=lambda done: ticket,
        invalid=_("Choose a priority."),
    )


@require_POST
@login_required
@permission_required("tickets.revisit_ticket", raise_exception=True)
def ticket_revisit(request, pk):
    ticket = visible_ticket(request.user, pk)
    return run_action(
        request,
        RevisitForm(request.POST),
        lambda data: services.record_revisit(
            ticket,
            request.user,
            version=data["version"],
            outcome=data["outcome"],
            score=data["score"],
            comment=data["comment"],
        ),
        success=lambda done: _("Revisit recorded."),
        # Recorded: on to the next call of the queue (or the page it came from); else the ticket.
        after=lambda done: safe_next(request, "tickets:revisit_queue") if done else ticket,
    )


# Work order --------------------------------------------------------------


@login_required
def work_order(request, pk):
    """The electronic work order (电子工单): every fact, the visit record, the signature, a QR."""
    ticket = visible_ticket(
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
            "revisits": [e["item"] for e in events if e["kind"] == "revisit"],
            "qr": qr_svg(public_url),
            "public_url": public_url,
            "printed_at": timezone.now(),
        },
    )
