"""Forms of the customer's pages (no account): reporting a fault from the unit's QR code or the
portal, proving a mobile number by SMS code, finding one's requests.

Texts are bounded and lose bidirectional control characters; photos are checked and re-encoded
like visit photos (`MultiplePhotoField`); a mobile number is a mainland mobile, stored as its 11
digits.
"""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.lib.validators import normalize_cn_mobile, plain_text, validate_cn_mobile

from .mobile_forms import MultiplePhotoField
from .models import ProblemType, TimeWindow

MAX_REPORT_PHOTOS = 6
# How far ahead a customer may ask for a visit.
LATEST_REQUESTED_DAYS = 60


def photos_label():
    """In the language of the request (the count is formatted in, so not a lazy text)."""
    return gettext("Photos (up to %(count)s)") % {"count": MAX_REPORT_PHOTOS}


class MobileField(forms.CharField):
    """A mainland China mobile number, cleaned to its 11 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "maxlength": 20}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = normalize_cn_mobile(super().clean(value))
        if value:
            validate_cn_mobile(value)
        return value


class TextField(forms.CharField):
    """Free text without bidirectional control characters, at most `max_length` long."""

    def to_python(self, value):
        return plain_text(super().to_python(value))


class MobileForm(forms.Form):
    mobile = MobileField()


class LookupForm(forms.Form):
    number = TextField(
        label=_("Request number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "maxlength": 20}),
    )
    mobile = MobileField(help_text=_("The mobile number given with the request."))


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Verification code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("The code has six digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}
        ),
    )


class _RequestForm(forms.Form):
    """What every customer request asks: the fault, photos, who to call, when."""

    problem_type = forms.ModelChoiceField(
        label=_("What is wrong?"),
        queryset=ProblemType.objects.none(),
        required=False,
        empty_label=_("Not sure / something else"),
    )
    description = TextField(
        label=_("Describe the problem"),
        max_length=2000,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "placeholder": _("What happened, since when, any message on the display…"),
            }
        ),
    )
    photos = MultiplePhotoField(max_photos=MAX_REPORT_PHOTOS)
    contact_name = TextField(label=_("Your name"), max_length=50)
    requested_date = forms.DateField(
        label=_("Preferred date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    requested_window = forms.ChoiceField(
        label=_("Preferred time"),
        required=False,
        choices=[("", _("Any time"))] + list(TimeWindow.choices),
    )

    def __init__(self, *args, line_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].label = photos_label()
        types = ProblemType.objects.filter(active=True)
        # A known unit: its line's types and the general ones; else every active type.
        self.fields["problem_type"].queryset = types.for_line(line_id).order_by("name")
        today = timezone.localdate()
        self.fields["requested_date"].widget.attrs.update(
            min=today.isoformat(),
            max=(today + timedelta(days=LATEST_REQUESTED_DAYS)).isoformat(),
        )

    def clean_requested_date(self):
        day = self.cleaned_data.get("requested_date")
        today = timezone.localdate()
        if day and day < today:
            raise forms.ValidationError(_("The preferred date cannot be in the past."))
        if day and day > today + timedelta(days=LATEST_REQUESTED_DAYS):
            raise forms.ValidationError(
                _("Choose a date within the next %(days)s days.") % {"days": LATEST_REQUESTED_DAYS}
            )
        return day

    def request_fields(self):
        data = self.cleaned_data
        return {
            "problem_type": data.get("problem_type"),
            "requested_date": data.get("requested_date"),
            "requested_window": data.get("requested_window") or "",
        }


class FaultForm(_RequestForm):
    """The unit's QR code page: the unit is known; who is reporting and their number."""

    mobile = MobileField(help_text=_("We text you the link to follow your request."))
    field_order = [
        "problem_type",
        "description",
        "photos",
        "contact_name",
        "mobile",
        "requested_date",
        "requested_window",
    ]


class AddInfoForm(forms.Form):
    """More about a fault the unit's open request already has."""

    description = TextField(
        label=_("What would you like to add?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultiplePhotoField(max_photos=MAX_REPORT_PHOTOS)
    contact_name = TextField(label=_("Your name"), max_length=50)
    mobile = MobileField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].label = photos_label()


class PortalForm(_RequestForm):
    """The portal, for a customer without the code at hand (their mobile is already proved)."""

    serial_no = TextField(
        label=_("Serial number"),
        max_length=60,
        required=False,
        help_text=_("On the unit's nameplate. Leave empty if you cannot find it."),
    )
    product = TextField(
        label=_("Product"),
        max_length=100,
        required=False,
        help_text=_("Model or kind of equipment, when there is no serial number."),
    )
    company = TextField(label=_("Company"), max_length=100, required=False)
    address = TextField(label=_("Where is the unit?"), max_length=200, required=False)
    field_order = [
        "serial_no",
        "product",
        "problem_type",
        "description",
        "photos",
        "contact_name",
        "company",
        "address",
        "requested_date",
        "requested_window",
    ]

    def clean(self):
        data = super().clean()
        if not data.get("serial_no") and not data.get("product"):
            self.add_error("product", _("Give the serial number, or tell us which product it is."))
        return data
