"""The staff pages: customers, equipment, agreements, products, import and export."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import BooleanField, Case, Count, ExpressionWrapper, F, Prefetch, Q, When
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from aftersales.access import PermissionMixin
from aftersales.lib.filters import FilteredListMixin
from aftersales.lib.private_media import private_file_response
from aftersales.lib.qr import qr_png, qr_svg
from aftersales.models import ProductLine

from .. import exports, imports, services
from ..access import (
    visible_agreement,
    visible_customer,
    visible_equipment,
    visible_export_job,
    visible_import_job,
)
from ..filters import AgreementFilter, CustomerFilter, EquipmentFilter
from ..forms import (
    AgreementForm,
    ContactFormSetFactory,
    CustomerForm,
    EquipmentForm,
    ExportForm,
    ImportForm,
    SlaTargetFormSetFactory,
)
from ..kinds import OTHER_KINDS, RESOURCES, kinds_for
from ..models import (
    Customer,
    Equipment,
    ExportJob,
    ImportJob,
    ProductModel,
    ServiceAgreement,
    SlaTarget,
)
from ..slots import customer_panels, equipment_actions, equipment_panels


class FilteredListView(PermissionMixin, FilteredListMixin, FilterView):
    pass


# Customers -----------------------------------------------------------------------------------


class CustomerListView(FilteredListView):
    permission_required = "customers.view_customer"
    filterset_class = CustomerFilter
    template_name = "customers/customer_list.html"

    def get_queryset(self):
        return (
            Customer.objects.visible_to(self.request.user)
            .select_related("region")
            .prefetch_related("tags", "contacts")
            .order_by("code")
        )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request, pk):
    """The customer 360° page: everything about one customer on one screen."""
    customer = visible_customer(
        request.user, pk, Customer.objects.select_related("region").prefetch_related("tags")
    )
    equipment = customer.equipment.select_related("product_model__line").order_by(
        "product_model__code", "serial_no"
    )
    agreements = customer.agreements.annotate(unit_count=Count("equipment")).order_by("-end_date")
    today = timezone.localdate()
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "contacts": customer.contacts.all(),
            "equipment": equipment,
            "agreements": agreements,
            "today": today,
            # The other apps' sections: service requests, complaints (customers.slots).
            "panels": customer_panels.panels(request, customer),
        },
    )


def _customer_form_page(request, customer=None):
    form = CustomerForm(request.POST or None, instance=customer)
    contacts = ContactFormSetFactory(
        request.POST or None, instance=customer or Customer(), prefix="contacts"
    )
    if request.method == "POST" and form.is_valid() and contacts.is_valid():
        customer = services.save_customer(
            customer,
            form.cleaned_data,
            [row.cleaned_data for row in contacts.forms if row.has_changed()],
        )
        messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
        return redirect(customer)
    if request.method == "POST":
        messages.error(request, _("Please correct the errors below; nothing was saved."))
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "contacts": contacts, "customer": customer},
    )


@login_required
@permission_required("customers.add_customer", raise_exception=True)
def customer_create(request):
    return _customer_form_page(request)


@login_required
@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request, pk):
    return _customer_form_page(request, visible_customer(request.user, pk))


# Equipment -----------------------------------------------------------------------------------


class EquipmentListView(FilteredListView):
    permission_required = "customers.view_equipment"
    filterset_class = EquipmentFilter
    template_name = "customers/equipment_list.html"

    def get_queryset(self):
        return (
            Equipment.objects.visible_to(self.request.user)
            .select_related("product_model__line", "customer")
            .order_by("-created_at", "-id")
        )


def public_url(request, equipment):
    return request.build_absolute_uri(reverse("qr_landing", args=[equipment.qr_token]))


@login_required
@permission_required("customers.view_equipment", raise_exception=True)
def equipment_detail(request, pk):
    unit = visible_equipment(request.user, pk)
    url = public_url(request, unit)
    return render(
        request,
        "customers/equipment_detail.html",
        {
            "unit": unit,
            "qr_url": url,
            "qr_svg": qr_svg(url),
            "agreements": unit.agreements.order_by("-end_date"),
            "actions": equipment_actions.links(request, unit),
            "panels": equipment_panels.panels(request, unit),
        },
    )


@login_required
@permission_required("customers.view_equipment", raise_exception=True)
def equipment_qr(request, pk):
    unit = visible_equipment(request.user, pk)
    response = HttpResponse(qr_png(public_url(request, unit)), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="qr-{unit.pk}.png"'
    return response


@login_required
@permission_required("customers.view_equipment", raise_exception=True)
def equipment_label(request, pk):
    unit = visible_equipment(request.user, pk)
    url = public_url(request, unit)
    return render(
        request,
        "customers/equipment_label.html",
        {"unit": unit, "qr_svg": qr_svg(url), "qr_url": url},
    )


def _equipment_form_page(request, customer, unit=None):
    form = EquipmentForm(request.POST or None, instance=unit, customer=customer)
    if request.method == "POST" and form.is_valid():
        unit = form.save()
        messages.success(request, _("Equipment %(unit)s saved.") % {"unit": unit})
        return redirect(unit)
    return render(
        request,
        "customers/equipment_form.html",
        {"form": form, "customer": customer, "unit": unit},
    )


@login_required
@permission_required("customers.add_equipment", raise_exception=True)
def equipment_create(request, customer_pk):
    return _equipment_form_page(request, visible_customer(request.user, customer_pk))


@login_required
@permission_required("customers.change_equipment", raise_exception=True)
def equipment_edit(request, pk):
    unit = visible_equipment(request.user, pk)
    return _equipment_form_page(request, unit.customer, unit)


# Agreements ----------------------------------------------------------------------------------


class AgreementListView(FilteredListView):
    permission_required = "customers.view_serviceagreement"
    filterset_class = AgreementFilter
    template_name = "customers/agreement_list.html"

    def get_queryset(self):
        return (
            ServiceAgreement.objects.visible_to(self.request.user)
            .select_related("customer")
            # In force first, the soonest to end at the top (they need renewing); then the
            # ended ones, the most recent first.
            .annotate(
                ended=ExpressionWrapper(
                    Q(end_date__lt=timezone.localdate()), output_field=BooleanField()
                )
            )
            .order_by("ended", Case(When(ended=False, then=F("end_date"))), "-end_date", "number")
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(today=timezone.localdate(), **kwargs)


@login_required
@permission_required("customers.view_serviceagreement", raise_exception=True)
def agreement_detail(request, pk):
    agreement = visible_agreement(request.user, pk)
    targets = SlaTarget.objects.filter(agreement=agreement)
    order = {p: i for i, p in enumerate(["urgent", "high", "normal", "low"])}
    return render(
        request,
        "customers/agreement_detail.html",
        {
            "agreement": agreement,
            "targets": sorted(targets, key=lambda t: order[t.priority]),
            "equipment": agreement.equipment.select_related("product_model"),
        },
    )


def _agreement_form_page(request, customer, agreement=None):
    form = AgreementForm(request.POST or None, instance=agreement, customer=customer)
    targets = SlaTargetFormSetFactory(
        request.POST or None, instance=agreement or ServiceAgreement(), prefix="targets"
    )
    if request.method == "POST" and form.is_valid() and targets.is_valid():
        agreement = services.save_agreement(
            agreement if agreement is not None else ServiceAgreement(customer=customer),
            form.cleaned_data,
            [row.cleaned_data for row in targets.forms if row.cleaned_data],
            request.user,
        )
        messages.success(request, _("Agreement %(number)s saved.") % {"number": agreement.number})
        return redirect(agreement)
    if request.method == "POST":
        messages.error(request, _("Please correct the errors below; nothing was saved."))
    return render(
        request,
        "customers/agreement_form.html",
        {"form": form, "targets": targets, "customer": customer, "agreement": agreement},
    )


@login_required
@permission_required("customers.add_serviceagreement", raise_exception=True)
def agreement_create(request, customer_pk):
    return _agreement_form_page(request, visible_customer(request.user, customer_pk))


@login_required
@permission_required("customers.change_serviceagreement", raise_exception=True)
def agreement_edit(request, pk):
    agreement = visible_agreement(request.user, pk)
    return _agreement_form_page(request, agreement.customer, agreement)


# Products ------------------------------------------------------------------------------------


@login_required
@permission_required("customers.view_productmodel", raise_exception=True)
def product_list(request):
    lines = ProductLine.objects.prefetch_related(
        Prefetch("models", queryset=ProductModel.objects.annotate(unit_count=Count("equipment")))
    )
    return render(request, "customers/product_list.html", {"lines": lines})


# Import / export -----------------------------------------------------------------------------

_SESSION_KEY = "pending_import"


def _kinds(user, *, export=False):
    """The kinds of data this person may import (or export): customers' own and those other
    apps add (customers.kinds.OTHER_KINDS), each behind its permissions."""
    return kinds_for(user, export=export)


def _kind_labels():
    labels = {key: label for key, (label, _resource) in RESOURCES.items()}
    return labels | {key: other.label for key, other in OTHER_KINDS.items()}


def _transfer_page(request, form, report=None):
    kinds = _kinds(request.user)
    return render(
        request,
        "customers/transfer.html",
        {
            "form": form,
            "report": report,
            "kinds": _kinds(request.user, export=True),
            "kind_labels": _kind_labels(),
            "kind_hints": [
                o.hint for key, o in OTHER_KINDS.items() if key in dict(kinds) and o.hint
            ],
            "jobs": ImportJob.objects.filter(user=request.user)[:5],
            "export_jobs": ExportJob.objects.filter(user=request.user)[:5],
            "background_rows": settings.IMPORT_BACKGROUND_ROWS,
        },
    )


@login_required
@permission_required("customers.import_masterdata", raise_exception=True)
def transfer(request):
    """Upload a file → preview with every bad row → confirm; or download an export.

    Files longer than settings.IMPORT_BACKGROUND_ROWS go to an import job instead.
    """
    form = ImportForm(request.POST or None, request.FILES or None, kinds=_kinds(request.user))
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kind = form.cleaned_data["kind"]
        try:
            job, report, path = imports.receive_import(request.user, kind, upload)
        except imports.ImportFileError as e:
            form.add_error("file", str(e))
            return _transfer_page(request, form)
        if job is not None:
            return redirect(job)
        previous = request.session.pop(_SESSION_KEY, None)
        if previous:
            imports.discard_upload(previous["path"])
        if report.ok:
            # Keep the checked file for the confirmation step; the user never names it.
            request.session[_SESSION_KEY] = {"kind": kind, "name": upload.name, "path": path}
        else:
            messages.error(
                request,
                _(
                    "%(count)s row(s) have problems; nothing was imported. "
                    "Fix them and upload the file again."
                )
                % {"count": report.problem_count},
            )
    return _transfer_page(request, form, report)


@require_POST
@login_required
@permission_required("customers.import_masterdata", raise_exception=True)
def transfer_confirm(request):
    pending = request.session.pop(_SESSION_KEY, None)
    if not pending or not imports.is_kept_upload(pending["path"]):
        messages.error(request, _("There is no checked file to import; upload it again."))
        return redirect("customers:transfer")
    try:
        report = imports.commit_import(
            pending["kind"], pending["name"], pending["path"], actor=request.user
        )
    except imports.ImportFileError as e:
        messages.error(request, str(e))
        return redirect("customers:transfer")
    finally:
        imports.discard_upload(pending["path"])
    if report.ok:
        messages.success(
            request,
            _("Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
            % {"new": report.new, "updated": report.updated, "unchanged": report.unchanged},
        )
        return redirect("customers:transfer")
    # The data changed between preview and confirmation: show the problems; nothing was written.
    messages.error(request, _("The import was refused; nothing was imported."))
    form = ImportForm(kinds=_kinds(request.user), initial={"kind": pending["kind"]})
    return _transfer_page(request, form, report)


@login_required
@permission_required("customers.import_masterdata", raise_exception=True)
def import_job(request, pk):
    """A background import: progress while a worker runs, then the report, confirm, result."""
    job = visible_import_job(request.user, pk)
    report = imports.ImportReport.from_dict(job.report) if job.report else None
    failed = job.state == ImportJob.State.FAILED
    return render(
        request,
        "customers/import_job.html",
        {
            "job": job,
            "report": report,
            "kind_labels": _kind_labels(),
            "can_retry": failed and imports.can_retry_import_job(job),
        },
    )


@login_required
@permission_required("customers.import_masterdata", raise_exception=True)
def import_job_status(request, pk):
    """What the job page polls (static/js/import_job.js) to move its progress bar."""
    job = visible_import_job(request.user, pk)
    return JsonResponse(
        {
            "state": job.state,
            "label": job.get_state_display(),
            "running": job.is_running,
            "done": job.rows_done,
            "total": job.total_rows,
            "percent": job.percent,
        }
    )


@require_POST
@login_required
@permission_required("customers.import_masterdata", raise_exception=True)
def import_job_confirm(request, pk):
    job = visible_import_job(request.user, pk)
    if imports.confirm_import_job(job):
        messages.success(request, _("The import has started; this page shows its progress."))
    elif job.state == ImportJob.State.EXPIRED:
        messages.error(request, job.error)
    else:
        messages.error(request, _("This file cannot be imported (again)."))
    return redirect(job)


@require_POST
@login_required
@permission_required("customers.import_masterdata", raise_exception=True)
def import_job_retry(request, pk):
    """Run a failed job again with the file it kept (its uploader or an administrator)."""
    job = visible_import_job(request.user, pk)
    if imports.retry_import_job(job):
        messages.success(
            request, _("The file is being checked again; this page shows the progress.")
        )
    elif job.state == ImportJob.State.FAILED:
        messages.error(request, _("The uploaded file is no longer kept; upload it again."))
    else:
        messages.error(request, _("Only a failed import can be run again."))
    return redirect(job)


@login_required
@permission_required("customers.export_masterdata", raise_exception=True)
def export_page(request):
    """The export buttons and the person's recent exports; a POST asks for an export, which a
    worker writes (customers.exports) while the job page shows the progress."""
    if request.method == "POST":
        form = ExportForm(request.POST, kinds=_kinds(request.user, export=True))
        if not form.is_valid():
            messages.error(request, _("Choose the data and the format to export."))
            return redirect("customers:exports")
        job = exports.start_export_job(
            request.user, form.cleaned_data["kind"], form.cleaned_data["format"]
        )
        # Queued once the job is saved (no transaction is open here): told at once when the
        # broker refused it.
        job.refresh_from_db(fields=["state", "error"])
        if job.state == ExportJob.State.FAILED:
            messages.error(request, job.error)
        else:
            messages.success(request, _("The export has started; this page shows its progress."))
        return redirect(job)
    return render(
        request,
        "customers/exports.html",
        {
            "kinds": _kinds(request.user, export=True),
            "export_jobs": ExportJob.objects.filter(user=request.user)[:10],
        },
    )


@login_required
@permission_required("customers.export_masterdata", raise_exception=True)
def export_job(request, pk):
    """A background export: progress while a worker writes the file, then the download."""
    return render(
        request, "customers/export_job.html", {"job": visible_export_job(request.user, pk)}
    )


@login_required
@permission_required("customers.export_masterdata", raise_exception=True)
def export_job_status(request, pk):
    """What the job page polls (static/js/import_job.js) to move its progress bar."""
    job = visible_export_job(request.user, pk)
    return JsonResponse(
        {
            "state": job.state,
            "label": job.get_state_display(),
            "running": job.is_running,
            "done": job.rows_done,
            "total": job.total_rows,
            "percent": job.percent,
        }
    )


@login_required
@permission_required("customers.export_masterdata", raise_exception=True)
@cache_control(private=True, no_store=True)
def export_download(request, pk):
    """The exported file, to the person who asked for it (or an administrator) only."""
    job = visible_export_job(request.user, pk)
    if job.state != ExportJob.State.DONE or not exports.is_export_file(job.file_path):
        raise Http404
    return private_file_response(
        job.file_path, download_as=job.file_name, content_type=exports.CONTENT_TYPES[job.format]
    )
