"""The service requests' endpoints of the JSON API (mounted by `aftersales.api` from plugin.py):
other systems report a fault on a unit by its serial number, read a request's state, and list a
customer's open requests.

Authentication and the scope come first (`key_auth`), so a caller without them learns nothing
about serial numbers or request numbers; then the body is checked field by field (422), then
what it names is looked up (404). A request is entered through `services.enter_api_ticket`
like any other (its number, SLA due times from the covering agreement, log row, counters).
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aftersales.api import ApiError, field_error, invalid_detail, key_auth
from aftersales.lib.validators import plain_text, validate_phone
from aftersales.models import user_name
from aftersales.notifications import absolute_url
from customers.models import Contact, Customer, Equipment, Priority

from . import services
from .models import OPEN_STATES, Channel, ProblemType, ServiceType, State, Ticket

CREATE = "requests:create"
READ = "requests:read"

router = Router(tags=["Service requests"])


# --- Schemas --------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in the caller's language.")
    errors: dict[str, list[str]] | None = Field(
        None, description="Messages per field (`__all__`: about the whole body)."
    )


class Label(Schema):
    code: str
    label: str = Field(description="In the caller's language.")


class DueOut(Schema):
    response: datetime | None = Field(None, description="Engineer assigned by then.")
    arrival: datetime | None = Field(None, description="Engineer on site by then.")
    resolution: datetime | None = Field(None, description="Resolved by then.")


class RequestOut(Schema):
    number: str = Field(examples=["SR20260315-0042"])
    state: Label
    priority: Label
    service_type: Label
    channel: Label
    customer_code: str
    serial_no: str | None
    model_code: str | None
    problem_type: Label | None
    requested_date: date | None
    engineer: str | None = Field(description="The assigned engineer's name.")
    created_at: datetime
    assigned_at: datetime | None
    checked_in_at: datetime | None
    processed_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    due: DueOut
    tracking_url: str = Field(description="The customer's page of the request (no login).")


class CreatedOut(RequestOut):
    duplicate: bool = Field(
        description="True: a request for this event_id is still open and is returned instead "
        "of a new one (status 200)."
    )
    event_id: str


class RequestsPage(Schema):
    count: int = Field(description="Open requests of the customer in all.")
    limit: int
    offset: int
    items: list[RequestOut]


class RequestIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    serial_no: str = Field(min_length=1, max_length=60, description="The unit's serial number.")
    model_code: str = Field(
        "",
        max_length=40,
        description="The unit's model code: needed only when units of two models share the "
        "serial number.",
    )
    description: str = Field(min_length=1, max_length=2000, description="The fault.")
    problem_type: str = Field(
        "", max_length=60, description="A problem type's code or name (optional)."
    )
    priority: Priority = Priority.NORMAL
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field(
        "", max_length=20, description="Empty (with contact_name): the customer's main contact."
    )
    requested_date: date | None = Field(None, description="The date the customer asks for.")
    event_id: str = Field(
        "",
        max_length=100,
        description="The caller's id of the event (an alarm's id): repeated while its request "
        "is open, it returns that request instead of creating another.",
    )


# --- Answers ------------------------------------------------------------------------------------

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _label(choices, code):
    return {"code": code, "label": str(choices(code).label)}


def _local(moment):
    return timezone.localtime(moment) if moment else None


def _request(ticket):
    """What a caller may see of a request: no internal notes or reasons, no phone numbers, the
    engineer's name only. `ticket` comes with customer, equipment, product, problem type and
    engineer (`_readable`)."""
    engineer = ticket.engineer
    problem = ticket.problem_type
    return {
        "number": ticket.number,
        "state": _label(State, ticket.state),
        "priority": _label(Priority, ticket.priority),
        "service_type": _label(ServiceType, ticket.service_type),
        "channel": _label(Channel, ticket.channel),
        "customer_code": ticket.customer.code,
        "serial_no": ticket.equipment.serial_no if ticket.equipment_id else None,
        "model_code": ticket.product.code if ticket.product_id else None,
        "problem_type": {"code": problem.code, "label": problem.name} if problem else None,
        "requested_date": ticket.requested_date,
        "engineer": (
            user_name(
                engineer.display_name, engineer.first_name, engineer.last_name, engineer.username
            )
            if engineer
            else None
        ),
        "created_at": _local(ticket.created_at),
        "assigned_at": _local(ticket.assigned_at),
        "checked_in_at": _local(ticket.checked_in_at),
        "processed_at": _local(ticket.processed_at),
        "closed_at": _local(ticket.closed_at),
        "cancelled_at": _local(ticket.cancelled_at),
        "due": {
            "response": _local(ticket.response_due),
            "arrival": _local(ticket.arrival_due),
            "resolution": _local(ticket.resolution_due),
        },
        "tracking_url": absolute_url(reverse("ticket_public", args=[ticket.public_token])),
    }


def _readable():
    return Ticket.objects.select_related(
        "customer", "equipment", "product", "problem_type", "engineer"
    )


# --- Creating a request ---------------------------------------------------------------------------


def _unit(serial_no, model_code):
    """The unit with this serial number, with its customer, model and line."""
    # No order: the equipment list's (newest first) would have PostgreSQL sort the matches.
    units = (
        Equipment.objects.filter(serial_no=serial_no)
        .select_related("customer", "product_model__line")
        .order_by()
    )
    if model_code:
        units = units.filter(product_model__code=model_code)
    found = list(units[:2])
    if not found:
        raise field_error("serial_no", _("No unit has this serial number."), status=404)
    if len(found) > 1:
        raise field_error(
            "model_code",
            _("Units of several models have this serial number: give the model code too."),
        )
    return found[0]


def _problem_type(name, unit, errors):
    """The active problem type of this code or name, and whether it fits the unit's line (one
    query)."""
    if not name:
        return None
    lines = ProblemType.product_lines.through.objects.filter(problemtype=OuterRef("pk"))
    problem = (
        ProblemType.objects.filter(Q(code=name) | Q(name=name), active=True)
        .annotate(
            any_line=Exists(lines),
            unit_line=Exists(lines.filter(productline=unit.product_model.line_id)),
        )
        .first()
    )
    if problem is None:
        errors["problem_type"] = [_("No problem type has this code or name.")]
    elif problem.any_line and not problem.unit_line:
        errors["problem_type"] = [
            _(
                "“%(problem)s” is not a problem of %(line)s equipment: choose one offered "
                "for this unit."
            )
            % {"problem": problem, "line": unit.product_model.line}
        ]
    return problem


def _new_ticket(payload):
    """The unsaved request `payload` describes, or ApiError with every field's message."""
    unit = _unit(plain_text(payload.serial_no), plain_text(payload.model_code))
    errors = {}
    problem = _problem_type(plain_text(payload.problem_type), unit, errors)
    phone = plain_text(payload.contact_phone)
    try:
        validate_phone(phone)
    except DjangoValidationError as error:
        errors["contact_phone"] = error.messages
    if payload.requested_date and payload.requested_date < timezone.localdate():
        errors["requested_date"] = [_("The requested date cannot be in the past.")]
    description = plain_text(payload.description).strip()
    if not description:  # nothing but control characters
        errors["description"] = [_("This field is required.")]
    if errors:
        raise ApiError(422, invalid_detail(), errors)
    name = plain_text(payload.contact_name)
    contact = None
    if not (name or phone):
        # Nobody named: the engineer calls the customer's main contact (if it has one).
        main = (
            Contact.objects.filter(customer=unit.customer_id, is_primary=True)
            .order_by("pk")
            .values_list("pk", "name", "mobile")
            .first()
        )
        if main:
            contact, name, phone = main
    return Ticket(
        customer=unit.customer,
        equipment=unit,
        product=unit.product_model,
        contact_id=contact,
        contact_name=name,
        contact_phone=phone,
        address=unit.install_address or unit.customer.address,
        service_type=ServiceType.REPAIR,
        problem_type=problem,
        priority=payload.priority,
        requested_date=payload.requested_date,
        description=description,
    )


@router.post(
    "/requests",
    auth=key_auth(CREATE),
    response={200: CreatedOut, 201: CreatedOut, **ERRORS},
    summary="Report a fault on a unit",
    description=(
        "Scope `requests:create`. Creates a service request (channel `api`) for the unit with "
        "this serial number, for the unit's customer; due times come from the agreement that "
        "covers the unit. 201 with the new request; 200 with `duplicate: true` when this key "
        "already reported `event_id` and that request is still open. 404: no unit has the "
        "serial number; 422: fields not valid (messages per field)."
    ),
)
def create_request(request, payload: RequestIn):
    ticket = _new_ticket(payload)
    ticket, created = services.enter_api_ticket(ticket, request.auth, event_id=payload.event_id)
    if not created:
        ticket = _readable().get(pk=ticket.pk)
    answer = {**_request(ticket), "duplicate": not created, "event_id": payload.event_id}
    return Status(201 if created else 200, answer)


# --- Reading ------------------------------------------------------------------------------------


@router.get(
    "/requests/{number}",
    auth=key_auth(READ),
    response={200: RequestOut, **ERRORS},
    summary="A service request's state",
    description="Scope `requests:read`. The request's state, times and engineer.",
)
def get_request(request, number: str):
    ticket = _readable().filter(number=number).first()
    if ticket is None:
        raise ApiError(404, _("No service request has this number."))
    return _request(ticket)


@router.get(
    "/customers/{customer_code}/requests",
    auth=key_auth(READ),
    response={200: RequestsPage, **ERRORS},
    summary="A customer's open service requests",
    description="Scope `requests:read`. Open requests of the customer, newest first, a page "
    "at a time (`limit`, `offset`).",
)
def customer_requests(
    request,
    customer_code: str,
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=10000),
):
    customer = Customer.objects.filter(code=customer_code).values_list("pk", flat=True).first()
    if customer is None:
        raise ApiError(404, _("No customer has this code."))
    tickets = _readable().filter(customer=customer, state__in=OPEN_STATES)
    page = tickets.order_by("-created_at", "-id")[offset : offset + limit]
    return {
        "count": tickets.count(),
        "limit": limit,
        "offset": offset,
        "items": [_request(t) for t in page],
    }
