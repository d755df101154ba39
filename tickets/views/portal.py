"""The customer's doors in, without an account (SPEC §1, customer row):

- `/q/<token>/`: the unit's QR code opens its fault report (the unit is known from the code);
  when the unit already has an open request, the page offers to add to it instead.
- `/report/`: the portal for a customer without the code at hand, after an SMS code proves their
  mobile number.
- `/track/`: finding one's requests by request number and mobile number (+ SMS code).

Every page is rate limited per client address (django-ratelimit, the cache); what sends an SMS
or makes a request is also counted per address and per mobile number in the database
(`aftersales.throttle`). No page says whether a mobile number or serial number is known: codes
go to any valid number, and a portal request that names no known unit is taken all the same.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from aftersales import throttle, verification
from aftersales.lib.client_ip import client_ip
from aftersales.lib.masking import mask_mobile, mask_name
from customers.models import Equipment

from .. import intake
from ..models import Channel, Ticket
from ..portal_forms import AddInfoForm, CodeForm, FaultForm, LookupForm, MobileForm, PortalForm

public_limit = ratelimit(
    key="ip", rate=lambda group, request: settings.PUBLIC_RATE_LIMIT, block=True
)
# How long a proved mobile number may send portal requests without a new code.
VERIFIED_FOR = timedelta(minutes=30)
PENDING = "portal_pending"
VERIFIED = "portal_verified"


def _within_limits(request, action, mobile):
    return throttle.within(
        [
            (f"{action}-ip", client_ip(request), settings.PORTAL_IP_LIMIT),
            (f"{action}-mobile", mobile, settings.PORTAL_MOBILE_LIMIT),
        ]
    )


def _too_many(form):
    form.add_error(
        None,
        _(
            "Too many attempts from this mobile number or network. Please try again in an hour, "
            "or call our service hotline."
        ),
    )


# The unit's QR code --------------------------------------------------------------------------


def _unit(token):
    return get_object_or_404(
        Equipment.objects.select_related("product_model__line", "customer"), qr_token=token
    )


def _unit_page(request, unit, *, form=None, add_form=None, status=200):
    # "new": the customer chose to report another fault although the unit has an open request.
    wants_new = request.POST.get("new") or request.GET.get("new")
    open_request = None if wants_new else intake.open_request(unit)
    line_id = unit.product_model.line_id
    return render(
        request,
        "tickets/portal/unit.html",
        {
            "unit": unit,
            "owner": mask_name(unit.customer.name),
            "open_request": open_request,
            "form": form or FaultForm(line_id=line_id),
            "add_form": add_form or AddInfoForm(),
            "hotline": settings.SERVICE_HOTLINE,
        },
        status=status,
    )


@public_limit
def unit_report(request, token):
    """What the unit's QR code opens: its public facts and the fault report."""
    unit = _unit(token)
    if request.method != "POST":
        return _unit_page(request, unit)
    form = FaultForm(request.POST, request.FILES, line_id=unit.product_model.line_id)
    if not form.is_valid():
        return _unit_page(request, unit, form=form, status=400)
    if not request.POST.get("new") and intake.open_request(unit) is not None:
        # Opened before the other request arrived: ask again, the form keeps what was typed.
        return _unit_page(request, unit, form=form, status=409)
    data = form.cleaned_data
    if not _within_limits(request, "report", data["mobile"]):
        _too_many(form)
        return _unit_page(request, unit, form=form, status=429)
    ticket = intake.report_fault(
        unit,
        channel=Channel.QR,
        contact_name=data["contact_name"],
        mobile=data["mobile"],
        description=data["description"],
        photos=data["photos"],
        **form.request_fields(),
    )
    messages.success(
        request,
        _("Thank you. Your request %(number)s is received; we will text you as it progresses.")
        % {"number": ticket.number},
    )
    return redirect("ticket_public", ticket.public_token)


@public_limit
def unit_add(request, token):
    """Add what the customer reports to the unit's open request (the duplicate guard)."""
    unit = _unit(token)
    open_request = intake.open_request(unit)
    if request.method != "POST" or open_request is None:
        return redirect("qr_landing", token)
    form = AddInfoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _unit_page(request, unit, add_form=form, status=400)
    data = form.cleaned_data
    if not _within_limits(request, "report", data["mobile"]):
        _too_many(form)
        return _unit_page(request, unit, add_form=form, status=429)
    try:
        intake.add_information(
            open_request,
            contact_name=data["contact_name"],
            mobile=data["mobile"],
            description=data["description"],
            photos=data["photos"],
        )
    except intake.IntakeRefused as refused:
        messages.error(request, str(refused))
        return redirect("qr_landing", token)
    messages.success(
        request,
        _("Thank you. We added it to request %(number)s; the engineer will see it.")
        % {"number": open_request.number},
    )
    return redirect("qr_landing", token)


# Proving a mobile number -----------------------------------------------------------------------


def _send_code(request, form, purpose, **pending):
    """Text a code to the form's mobile (within the limits) and remember what waits for it."""
    mobile = form.cleaned_data["mobile"]
    if not _within_limits(request, "code", mobile):
        _too_many(form)
        return False
    verification.send_code(mobile, purpose)
    request.session[PENDING] = {"purpose": purpose, "mobile": mobile, **pending}
    return True


def _code_step(request, purpose, start):
    """The page that takes the SMS code; True in `request.session[VERIFIED]` once right."""
    pending = request.session.get(PENDING) or {}
    if pending.get("purpose") != purpose:
        return None, redirect(start)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not throttle.hit("verify-ip", client_ip(request), "30/h"):
            _too_many(form)
        elif verification.check_code(pending["mobile"], purpose, form.cleaned_data["code"]):
            request.session.pop(PENDING, None)
            request.session[VERIFIED] = {
                "mobile": pending["mobile"],
                "until": (timezone.now() + VERIFIED_FOR).timestamp(),
            }
            return pending, None
        else:
            form.add_error(
                "code",
                _("That code is not right or has expired. Check the SMS, or ask for a new code."),
            )
    page = render(
        request,
        "tickets/portal/code.html",
        {
            "form": form,
            "mobile": mask_mobile(pending["mobile"]),
            "start": start,
            "purpose": purpose,
        },
        status=400 if form.is_bound else 200,
    )
    return None, page


def _verified_mobile(request):
    verified = request.session.get(VERIFIED) or {}
    if verified.get("until", 0) > timezone.now().timestamp():
        return verified.get("mobile")
    return None


# The portal --------------------------------------------------------------------------------------


@public_limit
def portal(request):
    """Report a fault without the unit's code: prove the mobile, then describe unit and fault."""
    mobile = _verified_mobile(request)
    if mobile is None:
        form = MobileForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and _send_code(request, form, "report"):
            return redirect("portal_code")
        return render(
            request,
            "tickets/portal/start.html",
            {"form": form, "hotline": settings.SERVICE_HOTLINE},
            status=400 if form.errors else 200,
        )
    form = PortalForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if _within_limits(request, "report", mobile):
            data = form.cleaned_data
            token = intake.portal_request(
                mobile,
                serial_no=data["serial_no"],
                contact_name=data["contact_name"],
                description=data["description"],
                photos=data["photos"],
                company=data["company"],
                product=data["product"],
                address=data["address"],
                **form.request_fields(),
            )
            messages.success(
                request,
                _("Thank you. Your request is received; we will text you as it progresses."),
            )
            return redirect("ticket_public", token)
        _too_many(form)
    return render(
        request,
        "tickets/portal/request.html",
        {"form": form, "mobile": mask_mobile(mobile), "hotline": settings.SERVICE_HOTLINE},
        status=400 if form.errors else 200,
    )


@public_limit
def portal_code(request):
    _, page = _code_step(request, "report", "portal")
    return page or redirect("portal")


# Finding one's requests --------------------------------------------------------------------------


@public_limit
def track(request):
    form = LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"].strip().upper()
        if _send_code(request, form, "track", number=number):
            return redirect("track_code")
    return render(
        request,
        "tickets/portal/track.html",
        {"form": form, "hotline": settings.SERVICE_HOTLINE},
        status=400 if form.errors else 200,
    )


@public_limit
def track_code(request):
    pending, page = _code_step(request, "track", "track")
    if page is not None:
        return page
    number = pending.get("number", "")
    wanted = Ticket.objects.filter(number=number, contact_phone_digits=pending["mobile"]).first()
    if wanted is not None:
        return redirect("ticket_public", wanted.public_token)
    # Not theirs, or no such number: the requests made with the mobile they proved instead.
    return render(
        request,
        "tickets/portal/found.html",
        {
            "number": number,
            "found": intake.requests_of(pending["mobile"]),
            "hotline": settings.SERVICE_HOTLINE,
        },
    )
