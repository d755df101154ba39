from datetime import timedelta

from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import Q
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.forms import MobileField
from aftersales.lib.params import ParamsForm
from aftersales.lib.validators import plain_text
from aftersales.models import ServicePoint

from .models import (
    PRIORITY_ORDER,
    Contact,
    Customer,
    Equipment,
    ExportJob,
    MaintenancePlan,
    Priority,
    ServiceAgreement,
    SlaTarget,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["code", "name", "kind", "level", "region", "phone", "address", "tags", "notes"]
        widgets = {
            "tags": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["code"].help_text = _("Leave empty to number the customer automatically.")


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "mobile", "email", "is_primary"]
        field_classes = {"mobile": MobileField}

    def validate_constraints(self):
        # Moving the primary flag from one contact to another is legitimate, so the
        # one-primary rule is checked across the whole formset (ContactFormSet.clean), and
        # save_customer() demotes before it promotes; the database constraint stays the guard.
        exclude = self._get_validation_exclusions() | {"is_primary"}
        try:
            self.instance.validate_constraints(exclude=exclude)
        except forms.ValidationError as e:
            self._update_errors(e)


class ContactFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        primaries = [
            f
            for f in self.forms
            if f.cleaned_data.get("is_primary") and not f.cleaned_data.get("DELETE")
        ]
        if len(primaries) > 1:
            raise forms.ValidationError(_("Mark only one contact as the primary contact."))


ContactFormSetFactory = inlineformset_factory(
    Customer,
    Contact,
    form=ContactForm,
    formset=ContactFormSet,
    extra=1,
    can_delete=True,
)


class EquipmentForm(forms.ModelForm):
    class Meta:
        model = Equipment
        fields = [
            "product_model",
            "serial_no",
            "install_address",
            "install_date",
            "purchase_date",
            "warranty_end",
            "status",
        ]
        widgets = {
            "install_date": DateInput(),
            "purchase_date": DateInput(),
            "warranty_end": DateInput(),
        }

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            self.instance.customer = customer
        self.fields["product_model"].queryset = self.fields[
            "product_model"
        ].queryset.select_related("line")
        self.fields["warranty_end"].help_text = _(
            "Leave empty to compute it from the model's warranty period and the purchase date."
        )

    def clean(self):
        data = super().clean()
        install, purchase = data.get("install_date"), data.get("purchase_date")
        if install and purchase and install < purchase:
            self.add_error("install_date", _("The unit cannot be installed before it was bought."))
        return data

    def save(self, commit=True):
        unit = super().save(commit=False)
        if not unit.warranty_end:
            unit.warranty_end = unit.default_warranty_end()
        if commit:
            unit.save()
        return unit


COVERAGE_RULE = _(
    "An agreement that names units covers those units only; one that names none covers all of "
    "the customer's units that no other agreement names."
)


class AgreementForm(forms.ModelForm):
    class Meta:
        model = ServiceAgreement
        fields = [
            "number",
            "name",
            "type",
            "charging_method",
            "annual_fee",
            "start_date",
            "end_date",
            "calendar",
            "equipment",
            "service_items",
            "terms",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "equipment": forms.CheckboxSelectMultiple,
            "service_items": forms.Textarea(attrs={"rows": 3}),
            "terms": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            self.instance.customer = customer
        customer = self.instance.customer
        equipment = self.fields["equipment"]
        if customer is None:
            # The default policy covers no particular unit.
            del self.fields["equipment"]
        else:
            equipment.queryset = customer.equipment.select_related("product_model")
            equipment.required = False
            equipment.help_text = COVERAGE_RULE

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("An agreement cannot end before it starts."))
        if data.get("charging_method") == ServiceAgreement.Charging.ANNUAL_FEE and not data.get(
            "annual_fee"
        ):
            self.add_error("annual_fee", _("Enter the annual fee for an annual-fee agreement."))
        return data


class SlaTargetForm(forms.ModelForm):
    class Meta:
        model = SlaTarget
        fields = ["priority", "response_minutes", "arrival_minutes", "resolution_minutes"]
        widgets = {"priority": forms.HiddenInput}

    @property
    def priority_label(self):
        value = self.initial.get("priority") or self.instance.priority
        return Priority(value).label if value in Priority.values else ""

    # The ordering rule (response ≤ arrival ≤ resolution) is the model's check constraint,
    # which ModelForm validation reports with its own message.


class SlaTargetFormSet(BaseInlineFormSet):
    """Exactly one row per priority, in priority order."""

    def __init__(self, *args, **kwargs):
        instance = kwargs.get("instance")
        existing = (
            {t.priority for t in instance.targets.all()} if instance and instance.pk else set()
        )
        missing = [p for p in PRIORITY_ORDER if p not in existing]
        kwargs.setdefault("initial", [{"priority": p} for p in missing])
        super().__init__(*args, **kwargs)

    def get_queryset(self):
        qs = super().get_queryset()
        order = {p: i for i, p in enumerate(PRIORITY_ORDER)}
        return sorted(qs, key=lambda t: order[t.priority])

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        seen = [f.cleaned_data.get("priority") for f in self.forms if f.cleaned_data]
        if sorted(seen) != sorted(PRIORITY_ORDER):
            raise forms.ValidationError(_("Enter the targets for every priority."))


SlaTargetFormSetFactory = inlineformset_factory(
    ServiceAgreement,
    SlaTarget,
    form=SlaTargetForm,
    formset=SlaTargetFormSet,
    extra=0,
    min_num=4,
    max_num=4,
    can_delete=False,
)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Data"))
    file = forms.FileField(label=_("File"), help_text=_("Excel (.xlsx) or CSV (UTF-8 or GB18030)."))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds


class MaintenancePlanForm(forms.ModelForm):
    """A plan for one of the customer's units or agreements. The interval is given as a number
    and a unit (days or months), stored in the model's one column of the two."""

    DAYS, MONTHS = "days", "months"
    # Bounds a person will not exceed by intent; past them the dates the plan computes could
    # leave the calendar (a year 9999 date plus one interval).
    MAX_INTERVAL = {DAYS: 730, MONTHS: 120}
    MAX_LEAD_DAYS = 90
    MAX_YEARS_AHEAD = 5

    every = forms.IntegerField(label=_("Every"), min_value=1, max_value=730)
    period = forms.ChoiceField(
        label=_("Interval unit"),
        choices=[(MONTHS, _("months")), (DAYS, _("days"))],
        initial=MONTHS,
    )
    drawn_next_date = forms.DateField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = MaintenancePlan
        fields = [
            "name",
            "kind",
            "equipment",
            "agreement",
            "every",
            "period",
            "next_date",
            "lead_days",
            "priority",
            "service_point",
            "drawn_next_date",
        ]
        widgets = {"next_date": DateInput()}
        help_texts = {
            "lead_days": _("Its service request is created this many days before each date."),
        }

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        plan = self.instance
        today = timezone.localdate()
        self.fields["equipment"].queryset = customer.equipment.select_related(
            "product_model"
        ).order_by("product_model__code", "serial_no")
        # Agreements in force or still to come, and the plan's own.
        self.fields["agreement"].queryset = customer.agreements.filter(
            Q(end_date__gte=today) | Q(pk=plan.agreement_id)
        ).order_by("-end_date")
        for name in ("equipment", "agreement"):
            self.fields[name].required = False
        self.fields["equipment"].help_text = _(
            "A plan is for one unit, or for everything an agreement covers: choose one."
        )
        points = ServicePoint.objects.filter(Q(is_active=True) | Q(pk=plan.service_point_id))
        self.fields["service_point"].queryset = points
        self.fields["service_point"].required = True
        lead_days = self.fields["lead_days"]
        lead_days.validators.append(MaxValueValidator(self.MAX_LEAD_DAYS))
        lead_days.widget.attrs["max"] = self.MAX_LEAD_DAYS
        # The next date the form was drawn with (customers.plans.save_plan).
        self.fields["drawn_next_date"].initial = plan.next_date
        if plan.pk:
            months = plan.interval_months
            self.initial["every"] = months or plan.interval_days
            self.initial["period"] = self.MONTHS if months else self.DAYS
        elif not self.is_bound:
            # The service point of the customer's region, as a first guess.
            local = points.filter(is_active=True, region_id=customer.region_id).first()
            self.initial.setdefault("service_point", local.pk if local else None)

    def clean_name(self):
        return plain_text(self.cleaned_data["name"]).strip()

    def clean_next_date(self):
        day = self.cleaned_data["next_date"]
        today = timezone.localdate()
        changed = self.instance.pk is None or day != self.instance.next_date
        if changed and day < today:
            raise forms.ValidationError(_("The next date cannot be in the past."))
        if day > today + timedelta(days=366 * self.MAX_YEARS_AHEAD):
            raise forms.ValidationError(
                _("The next date must be within %(years)s years.") % {"years": self.MAX_YEARS_AHEAD}
            )
        return day

    def clean(self):
        data = super().clean()
        unit, agreement = data.get("equipment"), data.get("agreement")
        if unit and agreement:
            self.add_error("agreement", _("Choose a unit or an agreement, not both."))
        elif not unit and not agreement and "equipment" not in self.errors:
            self.add_error("equipment", _("Choose the unit or the agreement the plan is for."))
        if (
            unit
            and unit.status == Equipment.Status.SCRAPPED
            and unit.pk != self.instance.equipment_id
        ):
            self.add_error("equipment", _("This unit is scrapped: it needs no maintenance plan."))
        next_date = data.get("next_date")
        if agreement and next_date and next_date > agreement.end_date:
            self.add_error(
                "next_date",
                _("The agreement ends on %(end)s, before this date.")
                % {"end": agreement.end_date.isoformat()},
            )
        every, period = data.get("every"), data.get("period")
        if every and period:
            limit = self.MAX_INTERVAL[period]
            if every > limit:
                self.add_error(
                    "every",
                    _("At most %(limit)s %(unit)s.")
                    % {"limit": limit, "unit": dict(self.fields["period"].choices)[period]},
                )
            # The shortest month has 28 days.
            interval_days = every * 28 if period == self.MONTHS else every
            lead = data.get("lead_days")
            if lead is not None and lead >= interval_days:
                self.add_error(
                    "lead_days",
                    _(
                        "Create the work fewer days ahead than the interval, or one date's "
                        "request is created before the previous date's."
                    ),
                )
        return data

    def _post_clean(self):
        data = self.cleaned_data
        if data.get("period") and data.get("every"):
            months = data["period"] == self.MONTHS
            self.instance.interval_months = data["every"] if months else None
            self.instance.interval_days = None if months else data["every"]
        super()._post_clean()

    def values(self):
        """The plan's columns (customers.plans.FIELDS) as the form read them."""
        data = self.cleaned_data
        months = data["period"] == self.MONTHS
        return {
            **{name: data[name] for name in ("name", "kind", "equipment", "agreement")},
            "interval_months": data["every"] if months else None,
            "interval_days": None if months else data["every"],
            **{name: data[name] for name in ("next_date", "lead_days", "priority")},
            "service_point": data["service_point"],
        }


_ID = {"required": False, "min_value": 1, "max_value": 2**31 - 1}


class PlanListParams(ParamsForm):
    """The plan list's GET parameters (customers.views.plans.PlanListView)."""

    OVERDUE = "overdue"
    WINDOWS = {"7": 7, "30": 30, "90": 90}
    INACTIVE = "inactive"

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    service_point = forms.ModelChoiceField(
        label=_("Service point"), queryset=ServicePoint.objects.all(), required=False
    )
    customer = forms.CharField(label=_("Customer code"), required=False, max_length=30)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds"))] + MaintenancePlan.Kind.choices,
    )
    due = forms.ChoiceField(
        label=_("Due"),
        required=False,
        choices=[
            ("", _("Any date")),
            (OVERDUE, _("Overdue")),
            ("7", _("Due in the next 7 days")),
            ("30", _("Due in the next 30 days")),
            ("90", _("Due in the next 90 days")),
        ],
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Active plans")), (INACTIVE, _("Deactivated plans"))],
    )
    equipment = forms.IntegerField(**_ID, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_point"].empty_label = _("All service points")


class ExportForm(forms.Form):
    """What to export (the buttons of the export card post it)."""

    kind = forms.ChoiceField(label=_("Data"))
    format = forms.ChoiceField(label=_("Format"), choices=ExportJob.Format.choices)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
