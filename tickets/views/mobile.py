"""The field engineer's pages, made for a phone: my jobs, one job, and what I do on it.

An engineer sees only the tickets assigned to them (`tickets.access.engineer_job`; anything
else is a 404). Every change goes through `tickets.services` (by way of
`aftersales.lib.actions.run_action`); a refusal (stale page, wrong state, someone else's job)
becomes a message and changes nothing.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import has_transition_perm

from aftersales.lib.actions import run_action
from customers.models import Priority

from .. import services
from ..access import engineer_job, engineer_jobs
from ..mobile_forms import ActionForm, CorrectionForm, VisitForm, part_formset
from ..models import State, Ticket
from ..slots import job_panels, visit_panels

# The buttons of the job page; visits and corrections have their own forms.
JOB_ACTIONS = ("accept", "check_in", "decline")
TABS = {
    "today": gettext_lazy("Today"),
    "open": pgettext_lazy("the engineer's jobs not done yet", "Open"),
    "done": gettext_lazy("Done"),
}
DONE_PAGE_SIZE = 20
_PRIORITY_RANK = Case(
    *(When(priority=p, then=Value(rank)) for rank, p in enumerate(Priority.values)),
    default=Value(len(Priority.values)),
    output_field=IntegerField(),
)


def _engineer_view(view):
    """Login first (redirect), then the engineer's permission (403)."""
    return login_required(permission_required("tickets.work_ticket", raise_exception=True)(view))


def _today_q(today):
    # On site now, or due today or earlier; a job without a requested date is "as soon as
    # possible", so it belongs to today as well.
    due = Q(requested_date__lte=today) | Q(requested_date__isnull=True)
    return Q(state=State.IN_SERVICE) | (Q(state=State.ASSIGNED) & due)


def _open_q():
    return Q(state__in=[State.ASSIGNED, State.IN_SERVICE]) | Q(
        state=State.CLOSED, correction_requested=True
    )


# Every state a job of the "today" and "open" tabs can be in (see _today_q and _open_q).
_OPEN_JOB_STATES = [State.ASSIGNED, State.IN_SERVICE, State.CLOSED]


def _done_q():
    return Q(state__in=[State.PROCESSED, State.CLOSED, State.VERIFIED])


def _job_rows(qs):
    # Each further join costs PostgreSQL more planning time than the whole query takes to run.
    return qs.select_related("customer", "product", "equipment")


# The columns a job card shows (templates/tickets/mobile/job_list.html): the other ~100 columns
# of a ticket, its customer and its unit cost more to build than the query takes.
_CARD_FIELDS = [
    "number",
    "state",
    "priority",
    "service_type",
    "address",
    "contact_name",
    "contact_phone",
    "correction_requested",
    "processed_at",
    "requested_date",
    "created_at",
    "customer__name",
    "customer__address",
    "equipment__install_address",
    "product__name",
]


@_engineer_view
def job_list(request):
    """My jobs: today (due or on site), open (everything assigned, corrections), done."""
    tab = request.GET.get("tab", "today")
    if tab not in TABS:
        tab = "today"
    today = timezone.localdate()
    mine = engineer_jobs(request.user)
    # One query for both counters, over the engineer's open slice of the (engineer, state)
    # index: never the thousands of finished jobs of a long-serving engineer.
    counts = mine.filter(state__in=_OPEN_JOB_STATES).aggregate(
        today=Count("pk", filter=_today_q(today)), open=Count("pk", filter=_open_q())
    )
    page = 1
    has_next = False
    if tab == "done":
        try:
            # Within what anyone pages through (and what an OFFSET can hold).
            page = min(max(int(request.GET.get("page", 1)), 1), 1_000)
        except ValueError:
            page = 1
        start = (page - 1) * DONE_PAGE_SIZE
        # One row more than a page says whether there is a next page, without counting all.
        rows = list(
            _job_rows(mine.filter(_done_q()))
            .only(*_CARD_FIELDS)
            .order_by(Coalesce("processed_at", "created_at").desc(), "-id")[
                start : start + DONE_PAGE_SIZE + 1
            ]
        )
        has_next = len(rows) > DONE_PAGE_SIZE
        jobs = rows[:DONE_PAGE_SIZE]
    else:
        condition = _today_q(today) if tab == "today" else _open_q()
        jobs = list(
            _job_rows(mine.filter(condition, state__in=_OPEN_JOB_STATES))
            .only(*_CARD_FIELDS)
            .annotate(
                on_site=Case(
                    When(state=State.IN_SERVICE, then=Value(0)),
                    When(correction_requested=True, then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                ),
                priority_rank=_PRIORITY_RANK,
            )
            .order_by("on_site", "requested_date", "priority_rank", "created_at", "id")[
                : settings.PAGE_SIZE * 4
            ]
        )
    tabs = [
        {"key": key, "label": label, "count": counts.get(key), "active": key == tab}
        for key, label in TABS.items()
    ]
    return render(
        request,
        "tickets/mobile/job_list.html",
        {
            "tab": tab,
            "tabs": tabs,
            "jobs": jobs,
            # Each card links to /m/<pk>/: the prefix once, not a URL reversal per job.
            "job_url": reverse("mobile:job", args=[0]).removesuffix("0/"),
            "today": today,
            "page": page,
            "has_next": has_next,
        },
    )


def _job_page_rows():
    # What the job page shows of a job, joined: the customer, unit, contact and the short lists.
    return _job_rows(Ticket.objects).select_related(
        "contact", "service_point", "problem_type", "equipment__product_model"
    )


def _after(ticket, user):
    """Back to the job while it is still mine, else to my list (declined, not resolved)."""
    if ticket.engineer_id == user.pk:
        return reverse("mobile:job", args=[ticket.pk])
    return "mobile:jobs"


def _service_address(ticket):
    unit = ticket.equipment
    return ticket.address or (unit.install_address if unit else "") or ticket.customer.address


def _job_page(request, ticket, *, visit_form=None, parts=None, correction_form=None):
    user = request.user
    actions = [
        (action, ActionForm(initial={"version": ticket.version}, action=action))
        for action in services.available_actions(ticket, user)
        if action.name in JOB_ACTIONS
    ]
    visit = None
    if ticket.state == State.IN_SERVICE:
        visit = services.current_visit(ticket)
        if visit is not None and visit.engineer_id == user.pk and visit_form is None:
            visit_form = VisitForm(
                instance=visit, ticket=ticket, initial={"version": ticket.version}
            )
            parts = part_formset()
    correction_visit = None
    if ticket.correction_requested and has_transition_perm(ticket.correct, user):
        correction_visit = services.last_resolved_visit(ticket)
        if correction_visit is not None and correction_form is None:
            correction_form = CorrectionForm(
                instance=correction_visit, initial={"version": ticket.version}
            )
            parts = part_formset(visit=correction_visit)
    log = list(ticket.log.select_related("actor"))
    visits = list(ticket.visits.select_related("engineer").prefetch_related("parts", "photos"))
    departed = services.departed_at(ticket, log)
    # "Set off": an accepted job of mine not yet checked in, once per assignment.
    can_depart = (
        departed is None
        and ticket.state == State.ASSIGNED
        and ticket.accepted_at is not None
        and ticket.engineer_id == user.pk
    )
    return render(
        request,
        "tickets/mobile/job_detail.html",
        {
            "ticket": ticket,
            "today": timezone.localdate(),
            "address": _service_address(ticket),
            "actions": actions,
            "departed": departed,
            "depart_form": ActionForm(initial={"version": ticket.version}) if can_depart else None,
            "visit": visit,
            "visit_form": visit_form if ticket.state == State.IN_SERVICE else None,
            "visit_panels": (
                visit_panels.panels(request, ticket)
                if visit_form is not None and ticket.state == State.IN_SERVICE
                else []
            ),
            "correction_form": correction_form if correction_visit is not None else None,
            "parts": parts,
            "log": log,
            "visits": [v for v in visits if v.result],
            "panels": job_panels.panels(request, ticket),
        },
    )


@_engineer_view
def job_detail(request, pk):
    return _job_page(request, engineer_job(request.user, pk, _job_page_rows()))


@require_POST
@_engineer_view
def job_act(request, pk, action):
    """Accept, decline (with a reason) or check in (with the phone's position when given)."""
    if action not in JOB_ACTIONS:
        raise Http404
    ticket = engineer_job(request.user, pk)
    form = ActionForm(request.POST, action=services.ACTIONS[action])

    def act(data):
        if action == "check_in":
            return services.check_in(
                ticket,
                request.user,
                version=data["version"],
                latitude=data["latitude"],
                longitude=data["longitude"],
            )
        return services.perform(
            ticket, action, request.user, version=data["version"], reason=data["reason"]
        )

    def said(done):
        if action == "check_in":
            if form.cleaned_data["latitude"] is None:
                return _("Checked in (the phone gave no location).")
            return _("Checked in with your location.")
        if action == "accept":
            return _("You accepted %(number)s.") % {"number": done.number}
        return _("You declined %(number)s; it goes back to the dispatcher.") % {
            "number": done.number
        }

    return run_action(
        request, form, act, success=said, after=lambda done: _after(done or ticket, request.user)
    )


@require_POST
@_engineer_view
def job_depart(request, pk):
    """Set off for the job: the customer sees the engineer on the way."""
    ticket = engineer_job(request.user, pk)
    return run_action(
        request,
        ActionForm(request.POST),
        lambda data: services.depart(ticket, request.user, version=data["version"]),
        success=lambda done: (
            _("You set off for %(number)s; the customer sees you are on the way.")
            % {"number": done.number}
        ),
        after=lambda done: _after(done or ticket, request.user),
    )


@require_POST
@_engineer_view
def job_visit(request, pk):
    """Finish the visit: the record, parts, photos and signature, then resolved or not."""
    ticket = engineer_job(request.user, pk, _job_page_rows())
    visit = services.current_visit(ticket) if ticket.state == State.IN_SERVICE else None
    if visit is None or visit.engineer_id != request.user.pk:
        messages.error(request, _("There is no open visit of yours on this service request."))
        return redirect(_after(ticket, request.user))
    form = VisitForm(request.POST, request.FILES, instance=visit, ticket=ticket)
    parts = part_formset(request.POST)

    def said(done):
        number = {"number": done.number}
        if form.resolved:
            return _("%(number)s reported resolved.") % number
        if done.state == State.LOCKED:
            return messages.WARNING, _(
                "%(number)s reported not resolved; it is locked for a service manager."
            ) % number
        return _("%(number)s reported not resolved; it goes back to the dispatcher.") % number

    return run_action(
        request,
        [form, parts],
        lambda data: services.finish_visit(
            ticket,
            request.user,
            version=data["version"],
            record=form.record(),
            parts=parts.lines(),
            photos=data["photos"],
            signature=data["signature"],
            resolved=form.resolved,
            reason=data["reason"],
        ),
        success=said,
        after=lambda done: _after(done or ticket, request.user),
        invalid=lambda form: _invalid(request, ticket, visit_form=form, parts=parts),
    )


@require_POST
@_engineer_view
def job_correct(request, pk):
    """Correct hours, fees and parts of the last resolved visit after a send-back."""
    ticket = engineer_job(request.user, pk, _job_page_rows())
    visit = services.last_resolved_visit(ticket)
    if visit is None or not ticket.correction_requested:
        messages.error(request, _("Nothing on this service request waits for a correction."))
        return redirect(_after(ticket, request.user))
    form = CorrectionForm(request.POST, instance=visit)
    parts = part_formset(request.POST, visit=visit)
    return run_action(
        request,
        [form, parts],
        lambda data: services.correct_visit(
            ticket, request.user, version=data["version"], record=form.record(), parts=parts.lines()
        ),
        success=lambda done: _("Correction saved; the service manager can verify again."),
        after=lambda done: _after(done or ticket, request.user),
        invalid=lambda form: _invalid(request, ticket, correction_form=form, parts=parts),
    )


def _invalid(request, ticket, **forms):
    messages.error(request, _("Nothing was saved. Please correct the marked fields."))
    return _job_page(request, ticket, **forms)
