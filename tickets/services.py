"""Everything that changes a service request goes through here.

`perform` is the one door for state changes: it locks the ticket row, refuses a stale form
(someone else changed the ticket since the page was drawn), checks the state and the person,
runs the django-fsm transition and writes the transition row, all in one transaction. Timers
(the SLA issue) call the same function with `actor=None`, the system.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from aftersales.caching import forget
from aftersales.lib.actions import Refused
from aftersales.lib.validators import normalize_cn_mobile, validate_cn_mobile
from aftersales.models import User
from aftersales.notifications import Text, notify, people_with_role, send_sms
from aftersales.queue import publish_on_commit
from aftersales.roles import Role
from customers.models import Priority, ProductModel

from . import sla
from .hooks import visit_recorded
from .models import (
    ACTION_LABELS,
    NEEDS_CALL_SCORE,
    OPEN_STATES,
    QUEUE_COUNTS,
    Channel,
    IntakeEvent,
    PartLine,
    ProblemType,
    Rating,
    Revisit,
    ServiceType,
    State,
    Ticket,
    TicketSequence,
    TicketTransition,
    Visit,
    VisitPhoto,
)


class ActionRefused(Refused):
    """An action that cannot be taken now; the message is for the user, in their language."""


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    needs_reason: bool = False
    needs_engineer: bool = False
    tone: str = "secondary"
    confirm: str = ""


# The actions a person takes on the ticket page, in the order buttons are shown. Visits,
# revisits and corrections have their own forms and call their own services below.
ACTIONS = {
    a.name: a
    for a in [
        Action("assign", gettext_lazy("Assign"), needs_engineer=True, tone="primary"),
        Action("unlock", gettext_lazy("Reassign and unlock"), needs_engineer=True, tone="primary"),
        Action("accept", gettext_lazy("Accept the job"), tone="primary"),
        Action("check_in", gettext_lazy("Check in on site"), tone="primary"),
        Action("decline", gettext_lazy("Decline"), needs_reason=True, tone="outline-danger"),
        Action("verify", gettext_lazy("Verify"), tone="success"),
        Action("send_back", gettext_lazy("Send back for correction"), needs_reason=True),
        Action("suspend", gettext_lazy("Suspend"), needs_reason=True),
        Action("resume", gettext_lazy("Resume")),
        Action("cancel", gettext_lazy("Cancel"), needs_reason=True, tone="outline-danger"),
        Action("cancel_locked", gettext_lazy("Cancel"), needs_reason=True, tone="outline-danger"),
    ]
}


def _lock(ticket, version):
    """The ticket's row, locked until commit; refused when the page showed an older version."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if version is not None and locked.version != version:
        raise ActionRefused(stale_message())
    return locked


def stale_message():
    return _(
        "This service request was changed by someone else a moment ago, so nothing was "
        "changed. Check its current state and try again."
    )


def available_actions(ticket, user):
    """The page actions this user may take on this ticket now (and only those)."""
    actions = [
        action
        for name, action in ACTIONS.items()
        if has_transition_perm(getattr(ticket, name), user)
    ]
    names = {a.name for a in actions}
    # A service manager may cancel both ways; one Cancel button is enough.
    return [a for a in actions if not (a.name == "cancel_locked" and "cancel" in names)]


def action_name(action):
    """What a person calls the action: the button's label, else the log's."""
    return str(ACTIONS[action].label if action in ACTIONS else ACTION_LABELS.get(action, action))


def _allowed(method, actor):
    if actor is None:
        # The system may fire only the transitions reserved for it.
        meta = method._django_fsm
        transition = meta.get_transition(meta.field.get_state(method.__self__))
        return callable(transition.permission) and transition.permission(method.__self__, None)
    return has_transition_perm(method, actor)


def perform(ticket, action, actor, *, version=None, reason="", data=None, then=None, **kwargs):
    """Take `action` on `ticket` as `actor` (None: the system); return the updated ticket.

    `version` is the ticket version the user's page showed; a different one means someone
    else acted in between and the action is refused. `then(ticket)` runs inside the same
    transaction after the transition (to save the records that come with it).

    After the commit: a visit finished or corrected, or 核销, queues the rendering of the
    request's service reports (REPORT_ACTIONS; tickets.reports).
    """
    with transaction.atomic():
        locked = _lock(ticket, version)
        method = getattr(locked, action)
        if not can_proceed(method):
            raise ActionRefused(
                _("“%(action)s” is not possible while the request is “%(state)s”.")
                % {"action": action_name(action), "state": locked.get_state_display()}
            )
        if not _allowed(method, actor):
            raise ActionRefused(
                _("You may not take the action “%(action)s” on this service request.")
                % {"action": action_name(action)}
            )
        if action in REASON_ACTIONS:
            reason = (reason or "").strip()
            if not reason:
                raise ActionRefused(_("Please give a reason."))
            kwargs = {**kwargs, "reason": reason}
        source = locked.state
        method(**kwargs)
        sla.on_transition(locked, action, source, timezone.now())
        # The row is locked until commit, so a plain increment is safe.
        locked.version += 1
        locked.save()
        extra = then(locked) if then is not None else None
        _log(
            locked,
            action,
            actor,
            source=source,
            reason=reason,
            data={**(data or {}), **(extra or {})},
        )
        if action in ("assign", "unlock") and locked.engineer_id:
            _tell_engineer(locked)
        if action in REPORT_ACTIONS:
            _render_reports_later(locked)
        if locked.state == State.LOCKED and source != State.LOCKED:
            # Every lock (two rounds unresolved, an unsatisfied revisit, a timer's) waits for a
            # service manager: each of them is told, whoever or whatever locked it.
            tell_role(
                locked, Role.SERVICE_MANAGER, gettext_lazy("%(number)s is locked: %(reason)s")
            )
    return locked


def tell_role(ticket, role, title):
    """Tell everyone with `role` that `ticket` is now in its state, for its reason (`title`: a
    lazy text with %(number)s and %(reason)s); once per state and version."""
    notify(
        "ticket_" + ticket.state,
        users=people_with_role(role),
        about=ticket,
        title=Text(title, number=ticket.number, reason=ticket.state_reason),
        url=reverse("tickets:detail", args=[ticket.pk]),
        key=f"{ticket.state}:{ticket.pk}:{ticket.version}",
    )


def _tell_engineer(ticket):
    notify(
        "ticket_assigned",
        users=[ticket.engineer],
        about=ticket,
        title=Text(
            gettext_lazy("New job %(number)s: %(customer)s"),
            number=ticket.number,
            customer=ticket.customer.name,
        ),
        body=ticket.description[:200],
        url=reverse("mobile:job", args=[ticket.pk]),
        key=f"assign:{ticket.pk}:{ticket.version}",
    )


# What the service report shows changes with these: a visit record (finished, corrected) and
# 核销 (the customer's copy shows the fees from then on).
REPORT_ACTIONS = {"resolve", "not_resolved", "correct", "verify"}


def _render_reports_later(ticket):
    """The worker renders the changed copies after the commit. A rendering the broker could not
    take is not lost: a download renders a stale or missing copy itself (tickets.reports)."""
    from .tasks import render_service_reports

    publish_on_commit(render_service_reports, ticket.pk)


# Transitions that need a reason from the person (or the timer) taking them.
REASON_ACTIONS = {
    "suspend",
    "decline",
    "not_resolved",
    "miss_requested_date",
    "lock_unassigned",
    "reopen_unsatisfied",
    "send_back",
    "cancel",
    "cancel_locked",
}


def log_note(ticket, action, *, actor=None, reason="", data=None):
    """Log an event that changes no state (the customer added information, …) on a ticket the
    caller has locked."""
    return _log(ticket, action, actor, source=ticket.state, reason=reason, data=data)


def _log(ticket, action, actor, *, source, reason="", data=None, at=None):
    """Write the transition row of `action`, the one record of every change; the customer is
    texted about the actions of CUSTOMER_SMS (whichever path took them: desk, phone, timer)."""
    if source != ticket.state:
        forget(QUEUE_COUNTS)
    row = TicketTransition.objects.create(
        at=at or timezone.now(),
        ticket=ticket,
        action=action,
        source=source,
        target=ticket.state,
        actor=actor,
        reason=reason or "",
        data=data or {},
    )
    if action in CUSTOMER_SMS:
        text_customer(ticket, row)
    return row


# What the customer is texted, and when (issue 11): the engineer and the appointment when one
# is assigned, the engineer on site, the work done with the way to the report and the rating.
_ASSIGNED_SMS = gettext_lazy(
    "[After-sales service] Engineer %(engineer)s will handle your service request %(number)s, "
    "appointment: %(appointment)s. Follow it here: %(link)s"
)
CUSTOMER_SMS = {
    "assign": _ASSIGNED_SMS,
    "unlock": _ASSIGNED_SMS,
    "check_in": gettext_lazy(
        "[After-sales service] Engineer %(engineer)s has arrived for your service request "
        "%(number)s. Follow it here: %(link)s"
    ),
    "resolve": gettext_lazy(
        "[After-sales service] The work on your service request %(number)s is done. See the "
        "service report and rate our service here: %(link)s"
    ),
}


def text_customer(ticket, transition):
    """Text the request's contact phone about `transition` (a row of one of CUSTOMER_SMS's
    actions) with the tracking link, in the site's language whoever acted.

    Keyed by the transition row: a reassignment (a new row) texts again, the same row never
    twice (a task retried after its commit). Sent after the commit (nothing on a rollback);
    nothing for a request without a mobile number (none, or a landline: it cannot take an SMS).
    A timer's message waits for the end of quiet hours.
    """
    phone = _mobile(ticket.contact_phone)
    if phone is None:
        return
    link = settings.SITE_URL + reverse("ticket_public", args=[ticket.public_token])
    with translation.override(settings.LANGUAGE_CODE):
        text = str(CUSTOMER_SMS[transition.action]) % {
            "number": ticket.number,
            "engineer": str(ticket.engineer) if ticket.engineer_id else "",
            "appointment": _appointment(ticket),
            "link": link,
        }
    send_sms(phone, text, key=f"customer:{transition.pk}", automated=transition.actor_id is None)


def _mobile(phone):
    """The phone as a mainland mobile number ("+86 139-1234-5678": "13912345678"), else None."""
    try:
        validate_cn_mobile(phone)
    except ValidationError:
        return None
    return normalize_cn_mobile(phone)


def _appointment(ticket):
    """The appointment as the customer's SMS gives it (in the active language)."""
    if ticket.requested_date is None:
        return _("to be agreed with you")
    appointment = f"{ticket.requested_date:%Y-%m-%d}"
    if ticket.requested_window:
        appointment += " " + str(ticket.get_requested_window_display())
    return appointment


# Entry -----------------------------------------------------------------------------------------


def next_ticket_number(day=None):
    """SR20261122-0001: a per-day sequence raised atomically (safe across processes)."""
    day = day or timezone.localdate()
    table = TicketSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 (our table name)
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        (last,) = cursor.fetchone()
    return f"SR{day:%Y%m%d}-{last:04d}"


def enter_ticket(ticket, actor, *, suspend_reason=""):
    """Save a new ticket (from the entry form), count it, and log the entry."""
    # No savepoint inside a caller's transaction (the API's): a failure here fails it all.
    with transaction.atomic(savepoint=False):
        ticket.created_by = actor
        if ticket.contact_id and not ticket.contact_name:
            ticket.contact_name = ticket.contact.name
            ticket.contact_phone = ticket.contact_phone or ticket.contact.mobile
        if ticket.equipment_id and not ticket.product_id:
            ticket.product_id = ticket.equipment.product_model_id
        sla.plan(ticket)
        # The number last: the day's sequence row stays locked until commit, so entries made at
        # the same moment (the API's alarms, the desk) wait for each other as little as can be.
        ticket.number = next_ticket_number(timezone.localdate(ticket.created_at))
        ticket.save()
        _log(ticket, "enter", actor, source="", at=ticket.created_at)
        if ticket.product_id:
            ProductModel.objects.filter(pk=ticket.product_id).update(
                ticket_count=F("ticket_count") + 1
            )
        if ticket.problem_type_id:
            ProblemType.objects.filter(pk=ticket.problem_type_id).update(
                ticket_count=F("ticket_count") + 1
            )
        if suspend_reason:
            ticket = perform(ticket, "suspend", actor, reason=suspend_reason)
    return ticket


def enter_plan_ticket(plan, date):
    """The service request of a maintenance plan's date (customers' `plan_due` hook), entered by
    the system; None when that date already has one (the plan's lock is held by the caller)."""
    if Ticket.objects.filter(plan=plan, plan_date=date).exists():
        return None
    unit = plan.equipment
    customer = unit.customer if unit else plan.agreement.customer
    contact = next((c for c in customer.contacts.all() if c.is_primary), None)
    kind = ServiceType.INSPECTION if plan.kind == plan.Kind.INSPECTION else ServiceType.MAINTENANCE
    ticket = Ticket(
        customer=customer,
        contact=contact,
        equipment=unit,
        address=(unit.install_address if unit else "") or customer.address,
        service_type=kind,
        priority=plan.priority or Priority.NORMAL,
        channel=Channel.PLAN,
        requested_date=date,
        description=_("%(kind)s due on %(date)s (plan “%(plan)s”).")
        % {"kind": plan.get_kind_display(), "date": date, "plan": plan.name},
        plan=plan,
        plan_date=date,
        # The branch the plan names (the desk's service point filter finds the request there
        # before anyone is assigned; the assignment sets the engineer's own).
        service_point_id=plan.service_point_id,
    )
    return enter_ticket(ticket, None)


# Advisory lock class of the API's event ids (the two-number key space: the analytics refresh's
# one-number lock cannot collide with it).
INTAKE_LOCK = 7302


def _lock_event(api_key, event_id):
    """Until commit, no other call of this key with this event id gets past this point: the
    second of two identical calls then sees the first one's request. (On SQLite the write lock
    that every transaction takes at its start does the same.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                [INTAKE_LOCK, f"{api_key.pk}:{event_id}"],
            )


def enter_api_ticket(ticket, api_key, *, event_id=""):
    """A request another system reported through the API (tickets.api), entered by the system
    (no person); (ticket, created).

    With an `event_id`, the key's earlier request for that event is returned (created False)
    while it is open: an alarm that fires again does not make a second request. Once that
    request is finished (closed, verified, cancelled), the same event id makes a new one.
    """
    with transaction.atomic():
        if event_id:
            _lock_event(api_key, event_id)
            earlier = (
                IntakeEvent.objects.filter(
                    api_key=api_key, event_id=event_id, ticket__state__in=OPEN_STATES
                )
                .order_by("-id")
                .values_list("ticket_id", flat=True)
                .first()
            )
            if earlier is not None:
                return Ticket.objects.get(pk=earlier), False
        ticket.channel = Channel.API
        ticket = enter_ticket(ticket, None)
        IntakeEvent.objects.create(
            api_key=api_key, event_id=event_id, ticket=ticket, created_at=ticket.created_at
        )
    return ticket, True


# The engineer's visit ---------------------------------------------------------------------------


def departed_at(ticket, log):
    """When the engineer set off for this assignment (`log`: the ticket's transition rows, in
    order), or None: a "depart" row after the latest assignment."""
    if ticket.state != State.ASSIGNED or ticket.assigned_at is None:
        return None
    times = [row.at for row in log if row.action == "depart" and row.at >= ticket.assigned_at]
    return times[-1] if times else None


def depart(ticket, actor, *, version):
    """The assigned engineer sets off for an accepted job ("on the way" for the customer): a
    "depart" row without a state change, once per assignment; the version is raised.

    A second press is refused with its own message (not the stale page's, which the first
    press's new version would give it)."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.state == State.ASSIGNED and locked.engineer_id == actor.pk:
            since = departed_at(locked, locked.log.filter(action="depart"))
            if since is not None:
                raise ActionRefused(
                    _("You already set off for this job at %(time)s.")
                    % {"time": f"{timezone.localtime(since):%H:%M}"}
                )
        if version is not None and locked.version != version:
            raise ActionRefused(stale_message())
        if not (
            locked.state == State.ASSIGNED
            and locked.engineer_id == actor.pk
            and actor.has_perm("tickets.work_ticket")
        ):
            raise ActionRefused(_("You can set off only for a job assigned to you."))
        if locked.accepted_at is None:
            raise ActionRefused(_("Accept the job before you set off."))
        _log(locked, "depart", actor, source=locked.state, data={"round": locked.round})
        Ticket.objects.filter(pk=locked.pk).update(version=F("version") + 1)
    return Ticket.objects.get(pk=ticket.pk)


def check_in(ticket, actor, *, version=None, latitude=None, longitude=None):
    def open_visit(t):
        Visit.objects.create(
            ticket=t,
            engineer=actor,
            round=t.round,
            checked_in_at=t.checked_in_at,
            latitude=latitude,
            longitude=longitude,
        )

    data = {"lat": str(latitude), "lng": str(longitude)} if latitude is not None else {}
    return perform(ticket, "check_in", actor, version=version, data=data, then=open_visit)


def current_visit(ticket):
    return ticket.visits.filter(round=ticket.round, result=Visit.Result.OPEN).last()


def finish_visit(ticket, actor, *, version, record, parts, photos, signature, resolved, reason=""):
    """Save the visit record and report the ticket resolved or not resolved, all or nothing.

    `record`: the visit's values by field name (work done, hours, fees, charging); `parts`:
    (name, quantity) pairs; `photos`: uploaded images; `signature`: an image file or None.
    """

    def save_record(t):
        for name, value in record.items():
            setattr(visit, name, value)
        visit.result = Visit.Result.RESOLVED if resolved else Visit.Result.UNRESOLVED
        visit.finished_at = timezone.now()
        if signature is not None:
            visit.signature.save(signature.name, signature, save=False)
        visit.save()
        _save_parts(visit, parts)
        for photo in photos:
            VisitPhoto.objects.create(visit=visit, image=photo)
        visit_recorded.send(Visit, visit=visit, parts=parts, actor=actor, corrected=False)

    visit = current_visit(ticket)
    if visit is None or visit.engineer_id != actor.pk:
        raise ActionRefused(_("There is no open visit of yours on this service request."))
    action = "resolve" if resolved else "not_resolved"
    return perform(ticket, action, actor, version=version, reason=reason, then=save_record)


def _save_parts(visit, parts):
    visit.parts.all().delete()
    PartLine.objects.bulk_create(
        [PartLine(visit=visit, name=name, quantity=qty) for name, qty in parts]
    )


def _visit_facts(visit):
    return {
        "labour_hours": str(visit.labour_hours),
        "labour_fee": str(visit.labour_fee),
        "travel_fee": str(visit.travel_fee),
        "other_fee": str(visit.other_fee),
        "charge": visit.charge,
        "parts": [[p.name, str(p.quantity)] for p in visit.parts.all()],
    }


def last_resolved_visit(ticket):
    return ticket.visits.filter(result=Visit.Result.RESOLVED).order_by("-round", "-id").first()


def correct_visit(ticket, actor, *, version, record, parts):
    """The engineer corrects hours, fees and parts of the last resolved visit after a send-back
    (`record`: its values by field name; `parts`: (name, quantity) pairs); before/after are
    logged."""
    visit = last_resolved_visit(ticket)
    if visit is None:
        raise ActionRefused(_("There is no visit record to correct."))
    before = _visit_facts(visit)

    def save(t):
        for name, value in record.items():
            setattr(visit, name, value)
        visit.save()
        _save_parts(visit, parts)
        visit_recorded.send(Visit, visit=visit, parts=parts, actor=actor, corrected=True)
        return {"before": before, "after": _visit_facts(visit)}

    return perform(ticket, "correct", actor, version=version, then=save)


# Revisit ------------------------------------------------------------------------------------------


def record_revisit(ticket, actor, *, version, outcome, score=None, comment=""):
    due = ticket.revisit_due

    def save(t):
        Revisit.objects.create(
            ticket=t, agent=actor, outcome=outcome, score=score, comment=comment, due=due
        )

    data = {"outcome": outcome, "score": score}
    if outcome == Revisit.Outcome.SATISFIED:
        return perform(
            ticket,
            "close_satisfied",
            actor,
            version=version,
            reason=comment,
            data=data,
            then=save,
        )
    if outcome == Revisit.Outcome.UNSATISFIED:
        return perform(
            ticket,
            "reopen_unsatisfied",
            actor,
            version=version,
            reason=comment,
            data=data,
            then=save,
        )
    # Not reached: recorded, the ticket waits in the queue for the next call.
    with transaction.atomic():
        locked = _lock(ticket, version)
        if locked.state != State.PROCESSED or not actor.has_perm("tickets.revisit_ticket"):
            raise ActionRefused(_("This service request is not waiting for a revisit."))
        save(locked)
        _log(locked, "revisit_attempt", actor, source=locked.state, reason=comment, data=data)
        Ticket.objects.filter(pk=locked.pk).update(version=F("version") + 1)
    return Ticket.objects.get(pk=ticket.pk)


# The states in which the customer may rate the work of the current round.
RATABLE_STATES = (State.PROCESSED, State.CLOSED, State.VERIFIED)


def current_rating(ticket):
    """The customer's rating of the ticket's current round, or None."""
    return Rating.objects.filter(ticket=ticket, round=ticket.round).first()


def rate_ticket(ticket, *, score, comment=""):
    """The customer rates the work on the tracking page (no login: the actor is nobody), once
    per processing round, after it is processed.

    Side effects: a Rating row (the revisit's first answer: the revisit queue and form show it),
    a "rate" log row without a state change, the version raised; a score of 1–2 while the
    request waits for its revisit puts it first in the revisit queue (`needs_call`).
    """
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.state not in RATABLE_STATES:
            raise ActionRefused(_("This service request can be rated once the work is done."))
        if Rating.objects.filter(ticket=locked, round=locked.round).exists():
            raise ActionRefused(_("You have already rated this service. Thank you!"))
        # Checked under the ticket's lock: a second form sent at the same moment waits here and
        # then finds the first one's rating (the unique constraint is the database's guard).
        Rating.objects.create(ticket=locked, round=locked.round, score=score, comment=comment)
        needs_call = locked.state == State.PROCESSED and score <= NEEDS_CALL_SCORE
        _log(
            locked,
            "rate",
            None,
            source=locked.state,
            data={"score": score, "comment": comment, "round": locked.round},
        )
        Ticket.objects.filter(pk=locked.pk).update(version=F("version") + 1, needs_call=needs_call)
    return Ticket.objects.get(pk=ticket.pk)


# Agreements ---------------------------------------------------------------------------------------


def replan_agreement(agreement_id, actor_id=None):
    """Re-plan the SLA clocks of the open requests under an edited agreement; return how many
    changed (run by the task `tickets.replan_agreement` after the edit's commit).

    Each request in a transaction of its own, so no edit on the desk waits for the whole
    agreement: the row is locked and checked again (still open, still under the agreement),
    its unmet targets planned afresh (`sla.plan`: the covering agreement's targets and calendar
    now). Only a request whose agreement, calendar, due times, warnings or breaches changed is
    saved, with its version raised (a page drawn before is refused as stale instead of putting
    the old times back) and a "replan" transition row by the agreement's editor (`actor_id`;
    None: the system). So running it twice changes nothing the second time.
    """
    return _replan("replan", {"agreement_id": agreement_id}, actor_id)


def replan_calendar(calendar_id, actor_id=None):
    """Re-plan the SLA clocks of the open requests counting in an edited business calendar (its
    hours, holidays or make-up days), as `replan_agreement` does; the log rows say
    "replan_calendar"."""
    return _replan("replan_calendar", {"calendar_id": calendar_id}, actor_id)


def _replan(action, under, actor_id):
    fields = [*sla.CLOCK.planned_fields(), "agreement_id", "calendar_id"]
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    data = {key.removesuffix("_id"): value for key, value in under.items()}
    ids = Ticket.objects.open().filter(**under).order_by("pk").values_list("pk", flat=True)
    changed = 0
    for pk in list(ids):
        with transaction.atomic():
            locked = Ticket.objects.open().select_for_update().filter(pk=pk, **under).first()
            if locked is None:
                continue  # finished or moved to another agreement (calendar) in between
            before = [getattr(locked, field) for field in fields]
            sla.plan(locked)
            if [getattr(locked, field) for field in fields] == before:
                continue
            # The row is locked until commit, so a plain increment is safe.
            locked.version += 1
            locked.save()
            _log(locked, action, actor, source=locked.state, data=data)
            changed += 1
    return changed


# Priority ----------------------------------------------------------------------------------------


def send_tracking_link(ticket, actor, *, version, link):
    """Text the request's contact the page where they follow it (`link`: its absolute address),
    with a log row; refused without a mobile number or the right to dispatch."""
    with transaction.atomic():
        locked = _lock(ticket, version)
        if not actor.has_perm("tickets.dispatch_ticket"):
            raise ActionRefused(_("You may not send messages to this customer."))
        phone = "".join((locked.contact_phone or "").split())
        if not phone:
            raise ActionRefused(_("This request has no contact phone to text."))
        text = _("[After-sales service] Follow your service request %(number)s here: %(link)s") % {
            "number": locked.number,
            "link": link,
        }
        send_sms(phone, text, key=f"tracking:{locked.pk}:{locked.version}")
        locked.version += 1
        locked.save(update_fields=["version"])
        _log(locked, "send_tracking", actor, source=locked.state, data={"to": phone})
    return locked


def change_priority(ticket, actor, *, version, priority):
    """A dispatcher changes the priority of an open request; unmet SLA targets are recomputed."""
    with transaction.atomic():
        locked = _lock(ticket, version)
        if not locked.is_open or not actor.has_perm("tickets.dispatch_ticket"):
            raise ActionRefused(_("The priority of this service request cannot be changed now."))
        before = locked.priority
        if before == priority:
            return locked
        locked.priority = priority
        sla.plan(locked)
        locked.version += 1
        locked.save()
        _log(
            locked,
            "change_priority",
            actor,
            source=locked.state,
            data={"from": before, "to": priority},
        )
    return locked
