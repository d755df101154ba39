from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from aftersales.forms import MobileField

from .models import (
    PRIORITY_ORDER,
    Contact,
    Customer,
    Equipment,
    ExportJob,
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


class ExportForm(forms.Form):
    """What to export (the buttons of the export card post it)."""

    kind = forms.ChoiceField(label=_("Data"))
    format = forms.ChoiceField(label=_("Format"), choices=ExportJob.Format.choices)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
