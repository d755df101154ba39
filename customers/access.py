"""Which customers, units, agreements, maintenance plans, import and export jobs a person may
see: the one answer, used by the staff pages, their look-ups by id and the export.

The rule itself is each QuerySet's `visible_to(user)` (customers.models); a view asks here, and
gets the object or a 404. The view's own permission decorator has answered 403 before.
"""

from django.shortcuts import get_object_or_404

from .kinds import OTHER_KINDS
from .models import Customer, Equipment, ExportJob, ImportJob, MaintenancePlan, ServiceAgreement


def visible_customer(user, pk, queryset=None):
    """A customer this person may see; 404 otherwise. `queryset` adds joins or prefetches."""
    queryset = Customer.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), pk=pk)


def visible_equipment(user, pk):
    """A unit this person may see, with its model, product line and customer; 404 otherwise."""
    units = Equipment.objects.visible_to(user).select_related("product_model__line", "customer")
    return get_object_or_404(units, pk=pk)


def visible_agreement(user, pk):
    """An agreement this person may see, with its customer; 404 otherwise."""
    agreements = ServiceAgreement.objects.visible_to(user).select_related("customer")
    return get_object_or_404(agreements, pk=pk)


def visible_plan(user, pk):
    """A maintenance plan this person may see (the office: every one; an engineer: their
    service point's), with its unit, agreement, customer and service point; 404 otherwise."""
    plans = MaintenancePlan.objects.visible_to(user).select_related(
        "equipment__product_model", "equipment__customer", "agreement__customer", "service_point"
    )
    return get_object_or_404(plans, pk=pk)


def visible_import_job(user, pk):
    """An import job of this person (anyone's, for administrators); 404 otherwise."""
    return get_object_or_404(ImportJob.objects.visible_to(user).select_related("user"), pk=pk)


def visible_rows(user, kind, queryset):
    """The rows of an export (`kind`: a key of customers.kinds.RESOURCES) that this person
    may see on the pages: customers and units by their own rule, contacts by their customer's,
    products to those who may open the product list."""
    if kind == "customers":
        return queryset.visible_to(user)
    if kind == "contacts":
        return queryset.filter(customer__in=Customer.objects.visible_to(user))
    if kind == "equipment":
        return queryset.visible_to(user)
    if kind == "products":
        return queryset if user.has_perm("customers.view_productmodel") else queryset.none()
    return OTHER_KINDS[kind].visible_rows(user, queryset)


def visible_export_job(user, pk):
    """An export job of this person (anyone's, for administrators); 404 otherwise."""
    return get_object_or_404(ExportJob.objects.visible_to(user).select_related("user"), pk=pk)
