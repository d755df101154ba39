"""The service request (工单) itself: its fields, its states' graph (django-fsm) and its number.

The ticket's state is a django-fsm field that only the transition methods below change; every
change goes through `tickets.services.perform`, which locks the row, checks who is acting and
writes one `TicketTransition` row. Nothing else writes `state`.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from aftersales.lib.choices import ChoiceLabels
from aftersales.lib.phones import PhoneDigitsField
from aftersales.models import new_token
from customers.models import Priority

from .choices import (
    CUSTOMER_REPORT_STATES,
    MAX_UNRESOLVED_ROUNDS,
    OPEN_STATES,
    STATE_TONES,
    Channel,
    ServiceType,
    State,
    TimeWindow,
)


class ProblemTypeQuerySet(models.QuerySet):
    def for_line(self, line_id):
        """The problem types offered for a unit of this product line: the line's own and the
        general ones (no line). Every problem type when the line is not known (no unit)."""
        if line_id is None:
            return self
        # One row per type: the general ones join no line, the others only `line_id`'s row.
        return self.filter(Q(product_lines=None) | Q(product_lines=line_id))


class ProblemType(models.Model):
    """A managed list of problem types (问题类型); each counts the requests entered for it.

    A problem type applies to the product lines it names (电梯困人: elevators only), or to
    every line when it names none (无法启动); the entry form offers a unit only its line's."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    product_lines = models.ManyToManyField(
        "aftersales.ProductLine",
        verbose_name=_("product lines"),
        blank=True,
        related_name="problem_types",
        help_text=_("Offered only for units of these lines; none chosen: for every line."),
    )
    active = models.BooleanField(_("active"), default=True)
    ticket_count = models.PositiveIntegerField(_("service requests"), default=0, editable=False)

    objects = ProblemTypeQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("problem type")
        verbose_name_plural = _("problem types")

    def __str__(self):
        return self.name

    def applies_to(self, line_id):
        """Whether a unit of this product line may have this problem (one query)."""
        lines = set(self.product_lines.values_list("pk", flat=True))
        return not lines or line_id in lines


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Office roles see every ticket; an engineer sees the tickets assigned to them."""
        if user.has_perm("tickets.view_ticket"):
            return self
        if user.has_perm("tickets.work_ticket"):
            return self.filter(engineer=user)
        return self.none()

    def open(self):
        return self.filter(state__in=OPEN_STATES)


def _is_assigned_engineer(ticket, user):
    return (
        ticket.engineer_id is not None
        and ticket.engineer_id == user.pk
        and user.has_perm("tickets.work_ticket")
    )


def _no_correction_pending(ticket):
    return not ticket.correction_requested


def _correction_pending(ticket):
    return ticket.correction_requested


def _has_engineer(ticket):
    return ticket.engineer_id is not None


def _not_accepted(ticket):
    return ticket.accepted_at is None


def _system_only(ticket, user):
    # Timers act as the system (user None); no person may fire these by hand.
    return user is None


class Ticket(ChoiceLabels, ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # the composite index that starts with it serves (Meta)
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    # What the engineer calls and where they go, as entered (contacts and addresses change).
    contact_name = models.CharField(_("contact name"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    # What the desk's search compares (aftersales.lib.phones): the number's digits, without
    # the spaces, dashes, +86 or extension that contact_phone keeps as typed.
    contact_phone_digits = PhoneDigitsField(source="contact_phone")
    address = models.CharField(_("service address"), max_length=200, blank=True)
    equipment = models.ForeignKey(
        "customers.Equipment",
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # the composite index that starts with it serves (Meta)
    )
    product = models.ForeignKey(
        "customers.ProductModel",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    service_type = models.CharField(
        _("service type"), max_length=20, choices=ServiceType.choices, default=ServiceType.REPAIR
    )
    problem_type = models.ForeignKey(
        ProblemType,
        verbose_name=_("problem type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # the composite index that starts with it serves (Meta)
    )
    description = models.TextField(_("problem description"))
    analysis = models.TextField(_("problem analysis"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE
    )
    requested_date = models.DateField(_("customer's requested date"), null=True, blank=True)
    requested_window = models.CharField(
        _("preferred time"), max_length=10, choices=TimeWindow.choices, blank=True
    )
    service_point = models.ForeignKey(
        "aftersales.ServicePoint",
        verbose_name=_("service point"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # the composite index that starts with it serves (Meta)
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,  # the composite index that starts with it serves (Meta)
    )
    state = FSMField(
        _("state"),
        max_length=20,
        choices=State.choices,
        default=State.PENDING_ASSIGNMENT,
        protected=True,
    )
    # Processing rounds: the current round (1 from the first assignment) and how many ended
    # unresolved; the second unresolved round locks the ticket.
    round = models.PositiveSmallIntegerField(_("processing round"), default=0)
    unresolved_rounds = models.PositiveSmallIntegerField(_("unresolved rounds"), default=0)
    state_reason = models.CharField(_("reason"), max_length=300, blank=True)
    correction_requested = models.BooleanField(_("correction requested"), default=False)
    correction_note = models.CharField(_("correction note"), max_length=300, blank=True)
    # SLA clocks (SPEC §3): the covering agreement and calendar at entry, three targets, and the
    # business time the clocks were stopped while suspended. `sla_due` is the nearest unmet due
    # time (lists show and sort by it); `sla_check_at` the next moment the every-minute timer
    # must look at this ticket (a warning or a breach); both empty when no clock runs.
    agreement = models.ForeignKey(
        "customers.ServiceAgreement",
        verbose_name=_("agreement"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    calendar = models.ForeignKey(
        "aftersales.BusinessCalendar",
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sla_paused = models.DurationField(_("clock stopped for"), default=timedelta(0))
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    response_due = models.DateTimeField(_("response due"), null=True, blank=True)
    response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_met_at = models.DateTimeField(_("response met at"), null=True, blank=True)
    # Working time to spare when met (negative: late by that much).
    response_margin = models.DurationField(_("response margin"), null=True, blank=True)
    response_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_breached_at = models.DateTimeField(_("response breached at"), null=True, blank=True)
    arrival_due = models.DateTimeField(_("on-site arrival due"), null=True, blank=True)
    arrival_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    arrival_met_at = models.DateTimeField(_("on-site arrival met at"), null=True, blank=True)
    # Working time to spare when met (negative: late by that much).
    arrival_margin = models.DurationField(_("on-site arrival margin"), null=True, blank=True)
    arrival_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    arrival_breached_at = models.DateTimeField(
        _("on-site arrival breached at"), null=True, blank=True
    )
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_met_at = models.DateTimeField(_("resolution met at"), null=True, blank=True)
    # Working time to spare when met (negative: late by that much).
    resolution_margin = models.DurationField(_("resolution margin"), null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_breached_at = models.DateTimeField(
        _("resolution breached at"), null=True, blank=True
    )
    sla_due = models.DateTimeField(_("next due"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    plan = models.ForeignKey(
        "customers.MaintenancePlan",
        verbose_name=_("maintenance plan"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # ticket_once_per_plan_date (Meta) starts with it
    )
    plan_date = models.DateField(_("planned date"), null=True, blank=True)
    revisit_due = models.DateTimeField(_("revisit due"), null=True, blank=True)
    revisit_overdue_at = models.DateTimeField(_("revisit overdue since"), null=True, blank=True)
    # The customer rated this round 1–2 on the tracking page while it waited for its revisit
    # (tickets.services.rate_ticket): the revisit queue puts it first, "needs a call". Cleared
    # when the round ends unresolved (a new round is rated afresh).
    needs_call = models.BooleanField(_("needs a call"), default=False, editable=False)

    # Raised by every change: a form carries the version it was drawn from, so a change made by
    # someone else in between is refused instead of overwritten.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Unique by a constraint (Meta), not unique=True: that would add a second index for LIKE
    # searches, which nobody makes on a token, to every ticket's INSERT.
    public_token = models.CharField(max_length=43, default=new_token, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    # The notifications about this ticket (they name it generically: the core knows no app).
    notifications = GenericRelation(
        "aftersales.Notification",
        content_type_field="about_type",
        object_id_field="about_id",
        related_query_name="ticket",
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        permissions = [
            ("dispatch_ticket", _("Can enter, assign, suspend and cancel service requests")),
            ("work_ticket", _("Can work on the service requests assigned to them")),
            ("revisit_ticket", _("Can record revisits")),
            ("supervise_ticket", _("Can unlock, reassign, verify and cancel locked requests")),
        ]
        constraints = [
            # A maintenance plan creates exactly one ticket per planned date.
            models.UniqueConstraint(
                fields=["plan", "plan_date"],
                name="ticket_once_per_plan_date",
                condition=Q(plan__isnull=False),
            ),
            models.UniqueConstraint(fields=["public_token"], name="ticket_public_token_unique"),
        ]
        indexes = [
            # Every filter and sort of the dispatcher desk and the engineer's list.
            models.Index(fields=["state", "-created_at"], name="ticket_state_created"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            models.Index(fields=["priority", "-created_at"], name="ticket_priority_created"),
            models.Index(fields=["service_type", "-created_at"], name="ticket_type_created"),
            models.Index(fields=["problem_type", "-created_at"], name="ticket_problem_created"),
            models.Index(fields=["engineer", "state"], name="ticket_engineer_state"),
            models.Index(fields=["engineer", "-created_at"], name="ticket_engineer_created"),
            models.Index(fields=["service_point", "-created_at"], name="ticket_point_created"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_created"),
            models.Index(fields=["requested_date"], name="ticket_requested_date"),
            models.Index(
                fields=["requested_date"],
                name="ticket_requested_waiting",
                condition=Q(state__in=["pending_assignment", "assigned"]),
            ),
            # The revisit queue in its order: the customers who asked for a call first.
            models.Index(
                fields=["-needs_call", "processed_at", "id"],
                name="ticket_revisit_calls",
                condition=Q(state="processed"),
            ),
            # The service manager's two queues, in their order (not a sort of every match).
            models.Index(
                fields=["locked_at", "id"],
                name="ticket_locked_queue",
                condition=Q(state="locked"),
            ),
            models.Index(
                fields=["correction_requested", "closed_at", "id"],
                name="ticket_verify_queue",
                condition=Q(state="closed"),
            ),
            # The every-minute timer reads only tickets with something due (partial indexes).
            models.Index(
                fields=["sla_check_at"],
                name="ticket_sla_check",
                condition=Q(sla_check_at__isnull=False),
            ),
            models.Index(
                fields=["sla_due"], name="ticket_sla_due", condition=Q(sla_due__isnull=False)
            ),
            models.Index(
                fields=["revisit_due"],
                name="ticket_revisit_due",
                condition=Q(state="processed", revisit_overdue_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])

    @property
    def state_fields(self):
        # django-fsm looks through every field of the model (~70) for its state fields each time
        # it builds a ticket: there is one, and the desk and job lists build dozens per page.
        return (self._meta.get_field("state"),)

    @property
    def state_tone(self):
        return STATE_TONES[self.state]

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    @property
    def customer_report_ready(self):
        """Whether the customer is offered the service report (from the tracking page)."""
        return self.state in CUSTOMER_REPORT_STATES

    @property
    def has_visit_record(self):
        """Whether a visit of this request was reported (done or not): its service report has
        something to show the office."""
        return self.customer_report_ready or self.unresolved_rounds > 0

    # Transitions. Each returns nothing or the target state; `services.perform` records it.
    # Conditions say when an action makes sense; `permission` says who may take it.

    @transition(
        field=state,
        source=State.PENDING_ASSIGNMENT,
        target=State.SUSPENDED,
        permission="tickets.dispatch_ticket",
    )
    def suspend(self, reason):
        self.state_reason = reason

    @transition(
        field=state,
        source=State.SUSPENDED,
        target=State.PENDING_ASSIGNMENT,
        permission="tickets.dispatch_ticket",
    )
    def resume(self):
        self.state_reason = ""

    @transition(
        field=state,
        source=[State.PENDING_ASSIGNMENT, State.ASSIGNED],
        target=State.ASSIGNED,
        permission="tickets.dispatch_ticket",
    )
    def assign(self, engineer):
        self._give_to(engineer)

    @transition(
        field=state,
        source=State.LOCKED,
        target=State.ASSIGNED,
        permission="tickets.supervise_ticket",
    )
    def unlock(self, engineer):
        self._give_to(engineer)

    def _give_to(self, engineer):
        if self.state != State.ASSIGNED:
            self.round += 1  # a new processing round starts with a new assignment
        self.engineer = engineer
        profile = getattr(engineer, "engineer_profile", None)
        if profile is not None:
            self.service_point_id = profile.service_point_id
        self.assigned_at = timezone.now()
        self.accepted_at = None
        self.state_reason = ""

    @transition(
        field=state,
        source=State.ASSIGNED,
        target=None,
        conditions=[_not_accepted],
        permission=_is_assigned_engineer,
    )
    def accept(self):
        self.accepted_at = timezone.now()

    @transition(
        field=state,
        source=State.ASSIGNED,
        target=State.PENDING_ASSIGNMENT,
        permission=_is_assigned_engineer,
    )
    def decline(self, reason):
        # Declining before the visit does not count as a processing round.
        self.round = max(self.round - 1, 0)
        self.engineer = None
        self.assigned_at = self.accepted_at = None
        self.state_reason = reason

    @transition(
        field=state,
        source=State.ASSIGNED,
        target=State.IN_SERVICE,
        permission=_is_assigned_engineer,
    )
    def check_in(self):
        now = timezone.now()
        self.checked_in_at = now
        self.accepted_at = self.accepted_at or now

    @transition(
        field=state,
        source=State.IN_SERVICE,
        target=State.PROCESSED,
        permission=_is_assigned_engineer,
    )
    def resolve(self):
        self.processed_at = timezone.now()
        self.state_reason = ""

    @transition(
        field=state,
        source=State.IN_SERVICE,
        target=RETURN_VALUE(State.PENDING_ASSIGNMENT, State.LOCKED),
        permission=_is_assigned_engineer,
    )
    def not_resolved(self, reason):
        return self._end_round(reason)

    @transition(
        field=state,
        source=State.ASSIGNED,
        target=RETURN_VALUE(State.PENDING_ASSIGNMENT, State.LOCKED),
        permission=_system_only,
    )
    def miss_requested_date(self, reason):
        """The assigned engineer missed the customer's requested date (a timer fires this).

        The missed date is cleared: the dispatcher agrees a new one with the customer (until
        then the request is not locked for a date that has already passed).
        """
        self.requested_date = None
        return self._end_round(reason)

    @transition(
        field=state,
        source=State.PENDING_ASSIGNMENT,
        target=State.LOCKED,
        permission=_system_only,
    )
    def lock_unassigned(self, reason):
        """No engineer was assigned by the customer's requested date (a timer fires this)."""
        self.locked_at = timezone.now()
        self.state_reason = reason

    @transition(
        field=state,
        source=State.PROCESSED,
        target=State.CLOSED,
        permission="tickets.revisit_ticket",
    )
    def close_satisfied(self):
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=State.PROCESSED,
        target=RETURN_VALUE(State.PENDING_ASSIGNMENT, State.LOCKED),
        permission="tickets.revisit_ticket",
    )
    def reopen_unsatisfied(self, reason):
        return self._end_round(reason)

    def _end_round(self, reason):
        """A processing round ended unresolved: back to dispatch, or locked after the second."""
        self.unresolved_rounds += 1
        self.needs_call = False
        self.engineer = None
        self.assigned_at = self.accepted_at = self.checked_in_at = self.processed_at = None
        self.state_reason = reason
        if self.unresolved_rounds >= MAX_UNRESOLVED_ROUNDS:
            self.locked_at = timezone.now()
            return State.LOCKED
        return State.PENDING_ASSIGNMENT

    @transition(
        field=state,
        source=State.CLOSED,
        target=State.VERIFIED,
        conditions=[_no_correction_pending],
        permission="tickets.supervise_ticket",
    )
    def verify(self):
        self.verified_at = timezone.now()

    @transition(
        field=state,
        source=State.CLOSED,
        target=None,
        conditions=[_no_correction_pending, _has_engineer],
        permission="tickets.supervise_ticket",
    )
    def send_back(self, reason):
        self.correction_requested = True
        self.correction_note = reason

    @transition(
        field=state,
        source=State.CLOSED,
        target=None,
        conditions=[_correction_pending],
        permission=_is_assigned_engineer,
    )
    def correct(self):
        self.correction_requested = False

    @transition(
        field=state,
        source=[State.PENDING_ASSIGNMENT, State.SUSPENDED],
        target=State.CANCELLED,
        permission="tickets.dispatch_ticket",
    )
    def cancel(self, reason):
        self._cancel(reason)

    @transition(
        field=state,
        source=[State.PENDING_ASSIGNMENT, State.SUSPENDED, State.LOCKED],
        target=State.CANCELLED,
        permission="tickets.supervise_ticket",
    )
    def cancel_locked(self, reason):
        self._cancel(reason)

    def _cancel(self, reason):
        self.cancelled_at = timezone.now()
        self.state_reason = reason


class TicketSequence(models.Model):
    """The last number handed out per day (SR20261122-0001 …), raised atomically."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day}: {self.last}"
