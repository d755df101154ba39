"""The electronic service report (电子服务报告): what it shows, its PDF, and when it is rendered.

One template (tickets/service_report.html) draws the web version and the PDF (tickets.pdf:
WeasyPrint, A4, the print CSS, Noto Sans CJK SC embedded). The PDF is in the customer's language
(`report_language`: Chinese by default), the web version in the reader's. Everything a copy
shows is first read into plain values (`report_facts`); their digest says whether the stored
PDF (`ServiceReport`) is still the current one: a PDF is rendered once per version of what it
shows.

When: the worker renders the copies after a visit is finished or corrected and after 核销
(`services.perform` queues `tasks.render_service_reports` on commit). A download that finds the
stored PDF missing or stale renders it there and then (`current_report`): a customer on a phone
gets the file in the same tap, and the report is right with the broker or the worker down.

Two audiences: staff see the fees always; the customer's copy (offered from the tracking page
once the request is processed) shows them only after 核销, before that it says the fees are
confirmed at verification.
"""

import hashlib
import json
import time
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.lib.qr import qr_svg

from .models import CUSTOMER_REPORT_STATES, ServiceReport, State, Ticket, Visit

Audience = ServiceReport.Audience

TEMPLATE = "tickets/service_report.html"
STYLESHEET = "css/service_report.css"
# The web version's rules for wide screens (WeasyPrint reads no media features).
WIDE_STYLESHEET = "css/service_report_wide.css"
# Raised when the template or the stylesheet changes what a stored PDF looks like: every stored
# report is then rendered again at its next download or event.
LAYOUT = 1


def report_language(ticket):
    """The language of the request's PDF. Customers have no language of their own yet: the
    installation's (settings.LANGUAGE_CODE, Chinese); the staff's copy is in the same language,
    so that what they print and hand over reads the same. (The web version follows the reader's
    language, like every page.)"""
    return settings.LANGUAGE_CODE


def customer_may_see(ticket):
    return ticket.state in CUSTOMER_REPORT_STATES


def with_related(qs=None):
    """A ticket queryset joined with what the report shows of the request itself."""
    return (Ticket.objects if qs is None else qs).select_related(
        "customer", "product", "equipment__product_model", "problem_type"
    )


def _local(moment):
    if moment is None:
        return ""
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M")


def _amount(value):
    return f"{value:.2f}"


def _quantity(value):
    # 2.00 → "2", 1.20 → "1.2"
    return format(value.normalize(), "f")


def report_facts(ticket, audience, language=None):
    """Everything the `audience`'s copy of `ticket`'s report shows, as plain values in the time
    zone of the installation and in `language` (default: the report's; the web version is in
    the reader's). Its digest is the PDF's version."""
    language = language or report_language(ticket)
    staff = audience == Audience.STAFF
    fees = staff or ticket.state == State.VERIFIED
    visits = list(
        ticket.visits.exclude(result=Visit.Result.OPEN)
        .select_related("engineer")
        .prefetch_related("parts", "photos")
        .order_by("checked_in_at", "id")
    )
    with translation.override(language):
        facts = {
            "layout": LAYOUT,
            "language": language,
            "audience": audience,
            "company": settings.COMPANY_NAME or _("After-sales Service"),
            "hotline": settings.SERVICE_HOTLINE,
            "number": ticket.number,
            "tracking_url": settings.SITE_URL
            + reverse("ticket_public", args=[ticket.public_token]),
            "customer": ticket.customer.name,
            "customer_code": ticket.customer.code if staff else "",
            "contact": ticket.contact_name,
            # The customer's copy travels (forwarded links, printouts): no phone number on it.
            "phone": ticket.contact_phone if staff else "",
            "address": ticket.address,
            "product": str(ticket.product) if ticket.product_id else "",
            "serial": ticket.equipment.serial_no if ticket.equipment_id else "",
            "service_type": ticket.get_service_type_display(),
            "problem_type": ticket.problem_type.name if ticket.problem_type_id else "",
            "description": ticket.description,
            "entered_at": _local(ticket.created_at),
            "processed_at": _local(ticket.processed_at),
            "verified_at": _local(ticket.verified_at) if ticket.state == State.VERIFIED else "",
            "fees_shown": fees,
            "visits": [_visit_facts(visit, fees) for visit in visits],
            "hours": str(sum((v.labour_hours for v in visits), Decimal("0"))),
            "amount_due": _amount(sum((v.amount_due for v in visits), Decimal("0")))
            if fees
            else "",
        }
    facts["engineer"] = facts["visits"][-1]["engineer"] if visits else ""
    return facts


def _visit_facts(visit, fees):
    finished = _local(visit.finished_at)
    same_day = finished[:10] == _local(visit.checked_in_at)[:10]
    facts = {
        "round": visit.round,
        "engineer": str(visit.engineer),
        "checked_in_at": _local(visit.checked_in_at),
        "finished_at": finished[11:] if same_day else finished,
        "result": visit.get_result_display(),
        "resolved": visit.result == Visit.Result.RESOLVED,
        "work_done": visit.work_done,
        "hours": str(visit.labour_hours),
        "parts": [[p.name, _quantity(p.quantity)] for p in visit.parts.all()],
        "photos": [photo.image.name for photo in visit.photos.all()],
        "signature": visit.signature.name or "",
    }
    if fees:
        facts |= {
            "charge": visit.get_charge_display(),
            "labour_fee": _amount(visit.labour_fee),
            "travel_fee": _amount(visit.travel_fee),
            "other_fee": _amount(visit.other_fee),
            "amount_due": _amount(visit.amount_due),
        }
    return facts


def digest_of(facts):
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def media_names(facts):
    """The private files the report shows (visit photos and signatures)."""
    names = []
    for visit in facts["visits"]:
        names += visit["photos"] + ([visit["signature"]] if visit["signature"] else [])
    return names


def render_html(facts, *, file_url, stylesheet, web_links=None):
    """The report's HTML. `file_url(name)`: the address of a photo or signature (the storage
    name); `stylesheet`: the stylesheet's address; `web_links`: for the web version, the links
    of its toolbar (pdf, back) and its wide screens' stylesheet; None for the PDF."""
    visits = [
        {
            **visit,
            "photos": [file_url(name) for name in visit["photos"]],
            "signature": file_url(visit["signature"]) if visit["signature"] else "",
        }
        for visit in facts["visits"]
    ]
    context = {
        **facts,
        "visits": visits,
        "qr": qr_svg(facts["tracking_url"]),
        "stylesheet": stylesheet,
        "web": web_links,
    }
    with translation.override(facts["language"]):
        return render_to_string(TEMPLATE, context)


def render_web(facts, *, file_url, pdf_url, back_url=""):
    return render_html(
        facts,
        file_url=file_url,
        stylesheet=static(STYLESHEET),
        web_links={"pdf": pdf_url, "back": back_url, "wide_stylesheet": static(WIDE_STYLESHEET)},
    )


def render_pdf(facts):
    """The report as PDF bytes, every file read locally (tickets.pdf)."""
    from . import pdf  # WeasyPrint (Pango through cffi) loads only where reports are rendered

    html = render_html(
        facts,
        file_url=lambda name: pdf.MEDIA_PREFIX + quote(name),
        stylesheet=pdf.STATIC_PREFIX + STYLESHEET,
    )
    return pdf.write_pdf(html, media_names(facts))


def download_name(ticket):
    """服务报告-SR20261122-0001.pdf, in the report's language."""
    with translation.override(report_language(ticket)):
        return _("Service report") + f"-{ticket.number}.pdf"


# Stored versions ---------------------------------------------------------------------------------


def _fresh(ticket):
    return with_related().get(pk=ticket.pk)


def _stored_file_is_there(report):
    return bool(report.file.name) and default_storage.exists(report.file.name)


def current_report(ticket, audience):
    """`ticket`'s stored report for `audience` as the request is now: the stored one when its
    digest is current and its file is there, else rendered here and stored (replacing the
    previous version and its file)."""
    facts = report_facts(ticket, audience)
    digest = digest_of(facts)
    report = ServiceReport.objects.filter(ticket=ticket, audience=audience).first()
    if report is not None and report.digest == digest and _stored_file_is_there(report):
        return report
    return _render_and_store(ticket, audience, facts, digest)


def _render_and_store(ticket, audience, facts, digest):
    started = time.perf_counter()
    content = render_pdf(facts)
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        # One writer at a time per copy: the worker and a download may render the same version.
        report, _created = ServiceReport.objects.select_for_update().get_or_create(
            ticket=ticket,
            audience=audience,
            defaults={"digest": "", "rendered_at": timezone.now(), "render_ms": 0},
        )
        there = _stored_file_is_there(report)
        if report.digest == digest and there:
            return report  # the other one stored this version first
        # The request may have changed while this was rendered (a correction committed): when
        # the other one already stored that newer version, it is the one to keep and send.
        # Else this version is stored, and the change's own task renders the newer one after
        # (its digest differs from this one's).
        if there and report.digest == digest_of(report_facts(_fresh(ticket), audience)):
            return report
        old = report.file.name
        report.file.save(
            f"{facts['number']}-{audience}-{digest[:12]}.pdf", ContentFile(content), save=False
        )
        report.digest = digest
        report.rendered_at = timezone.now()
        report.render_ms = elapsed_ms
        report.save()
        if old and old != report.file.name:
            transaction.on_commit(lambda: default_storage.delete(old))
    return report


def render_reports(ticket_id):
    """Bring the stored copies of a request's report up to date (the worker's task); a copy that
    is current is left alone. Returns how many were rendered."""
    ticket = with_related().filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    audiences = [Audience.STAFF] + ([Audience.CUSTOMER] if customer_may_see(ticket) else [])
    rendered = 0
    for audience in audiences:
        before = ServiceReport.objects.filter(ticket=ticket, audience=audience).first()
        report = current_report(ticket, audience)
        rendered += before is None or report.file.name != before.file.name
    return rendered
