"""The maintenance plans' pages: the list (what is due next, by service point, customer, kind
and due window), a plan's page, create / edit / deactivate, and the panels on the customer and
unit pages. Dispatchers and service managers manage plans; engineers read their service
point's (customers.plugin, MaintenancePlan.objects.visible_to)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from aftersales.access import PermissionMixin
from aftersales.lib.filters import FilteredListMixin
from aftersales.lib.pagination import CappedPaginator
from aftersales.lib.params import ParamsForm
from aftersales.registry import Panel

from ..access import visible_customer, visible_plan
from ..forms import MaintenancePlanForm, PlanListParams
from ..models import Customer, Equipment, MaintenancePlan
from ..plans import save_plan, set_plan_active
from ..slots import customer_panels, equipment_panels

# What a plan's row shows, joined in the one query of a page.
ROW_JOINS = (
    "equipment__product_model",
    "equipment__customer",
    "agreement__customer",
    "service_point",
)
# Plans shown on a customer's or a unit's page; the list has the rest.
PANEL_ROWS = 10


class PlanListView(PermissionMixin, FilteredListMixin, ListView):
    """Every plan this person may see, the next due first."""

    permission_required = "customers.view_maintenanceplan"
    template_name = "customers/plans/plan_list.html"
    paginator_class = CappedPaginator

    @cached_property
    def form(self):
        return PlanListParams(self.request.GET)

    @cached_property
    def params(self):
        return self.form.values()

    @cached_property
    def today(self):
        return timezone.localdate()

    @cached_property
    def customer(self):
        code = self.params.get("customer", "").strip()
        return Customer.objects.filter(code__iexact=code).first() if code else None

    @cached_property
    def unit(self):
        pk = self.params.get("equipment")
        return Equipment.objects.filter(pk=pk).first() if pk else None

    def get_queryset(self):
        params, today = self.params, self.today
        plans = MaintenancePlan.objects.visible_to(self.request.user)
        plans = plans.filter(active=params.get("state") != PlanListParams.INACTIVE)
        if point := params.get("service_point"):
            plans = plans.filter(service_point=point)
        if kind := params.get("kind"):
            plans = plans.filter(kind=kind)
        due = params.get("due")
        if due == PlanListParams.OVERDUE:
            plans = plans.overdue(today)
        elif due in PlanListParams.WINDOWS:
            plans = plans.due_within(PlanListParams.WINDOWS[due], today)
        if "customer" in params:
            customer = self.customer
            plans = plans.of_customer(customer.pk) if customer else plans.none()
        if "equipment" in params:
            plans = plans.of_unit(self.unit) if self.unit else plans.none()
        if q := params.get("q"):
            plans = plans.search(q)
        return plans.select_related(*ROW_JOINS).order_by("next_date", "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            form=self.form,
            today=self.today,
            customer=self.customer,
            unit=self.unit,
            quick_filters=self.quick_filters(),
            see_customers=self.request.user.has_perm("customers.view_customer"),
        )
        return ctx

    QUICK = [
        ("", gettext_lazy("All")),
        ("30", gettext_lazy("Due in the next 30 days")),
        (PlanListParams.OVERDUE, gettext_lazy("Overdue")),
    ]

    def quick_filters(self):
        """[(label, query string, active)]: the due windows most asked for, keeping the other
        filters."""
        kept = {k: v for k, v in self.request.GET.items() if k not in ("due", "page")}
        current = self.params.get("due", "")
        return [
            (label, urlencode({**kept, "due": value} if value else kept), value == current)
            for value, label in self.QUICK
        ]


@login_required
@permission_required("customers.view_maintenanceplan", raise_exception=True)
def plan_detail(request, pk):
    plan = visible_plan(request.user, pk)
    return render(
        request,
        "customers/plans/plan_detail.html",
        {
            "plan": plan,
            "today": timezone.localdate(),
            "upcoming": plan.upcoming_dates() if plan.active else [],
            "see_customers": request.user.has_perm("customers.view_customer"),
        },
    )


class NewPlanParams(ParamsForm):
    """?equipment=<unit>: the unit page's "add a plan" link chooses the unit."""

    equipment = PlanListParams.base_fields["equipment"]


def _plan_form_page(request, customer, plan=None, initial=None):
    form = MaintenancePlanForm(
        request.POST or None, instance=plan, customer=customer, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        saved = save_plan(
            plan or MaintenancePlan(),
            form.values(),
            drawn_next_date=form.cleaned_data.get("drawn_next_date"),
        )
        messages.success(request, _("Maintenance plan %(name)s saved.") % {"name": saved.name})
        return redirect(saved)
    if request.method == "POST":
        messages.error(request, _("Please correct the errors below; nothing was saved."))
    back = plan.get_absolute_url() if plan else customer.get_absolute_url()
    return render(
        request,
        "customers/plans/plan_form.html",
        {"form": form, "customer": customer, "plan": plan, "back": back},
    )


@login_required
@permission_required("customers.add_maintenanceplan", raise_exception=True)
def plan_create(request, customer_pk):
    customer = visible_customer(request.user, customer_pk)
    unit = NewPlanParams(request.GET).values().get("equipment")
    return _plan_form_page(request, customer, initial={"equipment": unit} if unit else None)


@login_required
@permission_required("customers.change_maintenanceplan", raise_exception=True)
def plan_edit(request, pk):
    plan = visible_plan(request.user, pk)
    return _plan_form_page(request, plan.customer, plan)


def _set_active(request, pk, active):
    plan, changed = set_plan_active(visible_plan(request.user, pk), active)
    if not changed:
        messages.info(request, _("Nothing to do: the plan was already in that state."))
    elif active:
        messages.success(
            request,
            _("Maintenance plan %(name)s reactivated; its next date is %(date)s.")
            % {"name": plan.name, "date": plan.next_date.isoformat()},
        )
    else:
        messages.success(
            request,
            _("Maintenance plan %(name)s deactivated: no more service requests are created for it.")
            % {"name": plan.name},
        )
    return redirect(plan)


@require_POST
@login_required
@permission_required("customers.change_maintenanceplan", raise_exception=True)
def plan_deactivate(request, pk):
    return _set_active(request, pk, False)


@require_POST
@login_required
@permission_required("customers.change_maintenanceplan", raise_exception=True)
def plan_activate(request, pk):
    return _set_active(request, pk, True)


# Panels on the customer's and the unit's pages (customers.slots) -----------------------------


def _panel(request, plans, list_query, add_url):
    shown = list(
        plans.select_related("equipment__product_model", "agreement", "service_point").order_by(
            "-active", "next_date", "id"
        )[: PANEL_ROWS + 1]
    )
    return {
        "plans": shown[:PANEL_ROWS],
        "more": len(shown) > PANEL_ROWS,
        "list_url": f"{reverse('customers:plan_list')}?{urlencode(list_query)}",
        "add_url": add_url if request.user.has_perm("customers.add_maintenanceplan") else None,
        "today": timezone.localdate(),
    }


def customer_plans(request, customer):
    """The customer's plans, the next due first, deactivated ones last (None: this person may
    not see plans)."""
    if not request.user.has_perm("customers.view_maintenanceplan"):
        return None
    plans = MaintenancePlan.objects.visible_to(request.user).of_customer(customer.pk)
    add = reverse("customers:plan_create", args=[customer.pk])
    return _panel(request, plans, {"customer": customer.code}, add)


def unit_plans(request, unit):
    """The unit's plans and its agreements' plans, the next due first."""
    if not request.user.has_perm("customers.view_maintenanceplan"):
        return None
    plans = MaintenancePlan.objects.visible_to(request.user).of_unit(unit)
    add = reverse("customers:plan_create", args=[unit.customer_id])
    return _panel(request, plans, {"equipment": unit.pk}, f"{add}?equipment={unit.pk}")


CUSTOMER_PLANS = Panel("customers/plans/_customer_panel.html", customer_plans, rank=50)
UNIT_PLANS = Panel("customers/plans/_unit_panel.html", unit_plans, rank=50)


def register_panels():
    customer_panels.register(CUSTOMER_PLANS)
    equipment_panels.register(UNIT_PLANS)
