"""Requests that customers send themselves: from the unit's QR code (channel qr), from the
portal (channel portal), and the portal requests that need matching (`Intake`).

Like `tickets.services`, the one door for these changes: each function runs in one transaction,
writes its log rows and tells the dispatchers. Views only check forms, limits and codes.
"""

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from aftersales.caching import forget
from aftersales.lib.actions import Refused
from aftersales.lib.phones import phone_digits
from aftersales.notifications import Text, notify, people_with_role
from aftersales.roles import Role
from customers.models import Contact, Equipment

from . import services
from .models import QUEUE_COUNTS, Channel, CustomerPhoto, Intake, ServiceType, Ticket


class IntakeRefused(Refused):
    pass


def open_request(unit):
    """The unit's open request the customer could add to (the newest), or None."""
    return unit.tickets.open().order_by("-created_at").first()


def _contact_for(customer_id, mobile):
    """The customer's contact with this mobile number, or None."""
    return Contact.objects.filter(customer_id=customer_id, mobile=mobile).order_by("pk").first()


def _save_photos(photos, **owner):
    CustomerPhoto.objects.bulk_create([CustomerPhoto(image=photo, **owner) for photo in photos])


def _tell_dispatchers(ticket):
    services.tell_role(
        ticket,
        Role.DISPATCHER,
        gettext_lazy("New service request %(number)s from a customer"),
    )


def report_fault(unit, *, channel, contact_name, mobile, description, photos=(), **fields):
    """Enter a request for `unit` as its customer sent it (no staff actor): the unit's customer
    and product, the mobile's contact when the customer has one, due times from the covering
    agreement (`services.enter_ticket`). `fields`: problem_type, requested_date,
    requested_window, address. Returns the new ticket."""
    with transaction.atomic():
        ticket = Ticket(
            customer_id=unit.customer_id,
            equipment=unit,
            product_id=unit.product_model_id,
            service_type=ServiceType.REPAIR,
            channel=channel,
            contact=_contact_for(unit.customer_id, mobile),
            contact_name=contact_name,
            contact_phone=mobile,
            description=description,
            **fields,
        )
        if not ticket.address:
            ticket.address = unit.install_address or unit.customer.address
        ticket = services.enter_ticket(ticket, None)
        _save_photos(photos, ticket=ticket)
        _tell_dispatchers(ticket)
    return ticket


def add_information(ticket, *, contact_name, mobile, description, photos=()):
    """Add what a customer reports about a unit to its open request instead of a second request:
    a log row the desk shows (who, their number, what) and the photos. Refused when the request
    finished in between."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not locked.is_open:
            raise IntakeRefused(
                gettext_lazy("That request has just been finished: please report the fault anew.")
            )
        Ticket.objects.filter(pk=locked.pk).update(version=F("version") + 1)
        services.log_note(
            locked,
            "customer_info",
            reason=description,
            data={"name": contact_name, "mobile": mobile, "photos": len(photos)},
        )
        _save_photos(photos, ticket=locked)
        notify(
            "ticket_customer_info",
            users=people_with_role(Role.DISPATCHER),
            about=locked,
            title=Text(
                gettext_lazy("The customer added information to %(number)s"),
                number=locked.number,
            ),
            url=reverse("tickets:detail", args=[locked.pk]),
            key=f"customer_info:{locked.pk}:{locked.version + 1}",
        )
    return locked


def find_unit(serial_no, mobile):
    """The unit with this serial number whose customer has a contact with this mobile, else None:
    a serial alone (printed on the unit) proves nothing."""
    serial_no = (serial_no or "").strip()
    if not serial_no:
        return None
    return (
        Equipment.objects.select_related("customer")
        .filter(serial_no__iexact=serial_no, customer__contacts__mobile=mobile)
        .order_by("pk")
        .first()
    )


def portal_request(mobile, *, serial_no, contact_name, description, photos=(), **fields):
    """A request from the portal by a person who proved `mobile`: a service request at once when
    the serial number and mobile name a known unit and contact, else an `Intake` that waits for
    a dispatcher. Returns the tracking token (the same page either way, so the answer says
    nothing about which numbers are known).

    `fields`: company, product, address, problem_type, requested_date, requested_window."""
    unit = find_unit(serial_no, mobile)
    if unit is not None:
        ticket_fields = {
            key: fields[key]
            for key in ("problem_type", "requested_date", "requested_window", "address")
            if key in fields
        }
        ticket = report_fault(
            unit,
            channel=Channel.PORTAL,
            contact_name=contact_name,
            mobile=mobile,
            description=description,
            photos=photos,
            **ticket_fields,
        )
        return ticket.public_token
    with transaction.atomic():
        intake = Intake.objects.create(
            mobile=mobile,
            serial_no=serial_no,
            contact_name=contact_name,
            description=description,
            **fields,
        )
        _save_photos(photos, intake=intake)
        notify(
            "intake",
            users=people_with_role(Role.DISPATCHER),
            about=intake,
            title=Text(
                gettext_lazy("A portal request from %(name)s needs matching"),
                name=contact_name,
            ),
            url=reverse("tickets:intake_detail", args=[intake.pk]),
            key=f"intake:{intake.pk}",
        )
        forget(QUEUE_COUNTS)
    return intake.token


def _lock_waiting(intake):
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if locked.status != Intake.Status.WAITING:
        raise IntakeRefused(
            gettext_lazy("This portal request was already handled by someone else.")
        )
    return locked


def match(intake, ticket, actor, *, suspend_reason=""):
    """Enter `ticket` (the entry form's, for the customer and unit the dispatcher found) for the
    portal request: it keeps the customer's tracking link, time of arrival and photos."""
    with transaction.atomic():
        locked = _lock_waiting(intake)
        ticket.public_token = locked.token
        ticket.channel = Channel.PORTAL
        ticket.created_at = locked.created_at
        ticket = services.enter_ticket(ticket, actor, suspend_reason=suspend_reason)
        locked.photos.update(ticket=ticket, intake=None)
        locked.status = Intake.Status.MATCHED
        locked.ticket = ticket
        locked.handled_by = actor
        locked.handled_at = timezone.now()
        locked.save()
        forget(QUEUE_COUNTS)
    return ticket


def reject(intake, actor, reason):
    """Turn down a portal request that is no service request (spam, a wrong number)."""
    reason = (reason or "").strip()
    if not reason:
        raise IntakeRefused(gettext_lazy("Please give a reason."))
    with transaction.atomic():
        locked = _lock_waiting(intake)
        locked.status = Intake.Status.REJECTED
        locked.reason = reason
        locked.handled_by = actor
        locked.handled_at = timezone.now()
        locked.save()
        forget(QUEUE_COUNTS)
    return locked


def requests_of(mobile, *, limit=20):
    """The newest requests whose contact phone is this mobile (the customer's lookup)."""
    return Ticket.objects.filter(contact_phone_digits=phone_digits(mobile)).order_by("-created_at")[
        :limit
    ]
