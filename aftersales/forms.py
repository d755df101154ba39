import copy
import re

from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.translation import gettext_lazy as _

from . import calendars
from .lib import cn_holidays
from .lib.business_time import WEEKDAYS
from .lib.params import ParamsForm
from .lib.validators import normalize_cn_mobile, plain_text
from .models import ApiKey, BusinessCalendar, EngineerProfile, ServicePoint, User
from .registry import api_scopes, project_app_labels
from .roles import Role


class RoleChoiceField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False, **kwargs
        )


class MobileField(forms.CharField):
    """A mobile number as people type it ('+86 139-1234-5678'), stored as its 11 digits."""

    def __init__(self, **kwargs):
        # The stored value has 11 digits; the typed one may carry spaces, dashes and +86.
        kwargs["max_length"] = 20
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_cn_mobile(super().to_python(value))


class UserForm(forms.ModelForm):
    roles = RoleChoiceField(label=_("Roles"))

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "mobile", "is_active"]
        field_classes = {"mobile": MobileField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["roles"] = sorted(self.instance.role_codes)


class NewUserForm(SetPasswordMixin, UserForm):
    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta(UserForm.Meta):
        pass

    def clean(self):
        self.validate_passwords()
        return super().clean()

    def _post_clean(self):
        super()._post_clean()
        self.validate_password_for_user(self.instance)


class PasswordResetByAdminForm(SetPasswordMixin, forms.Form):
    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        self.validate_passwords()
        self.validate_password_for_user(self.user)
        return super().clean()


class RolePermissionsForm(forms.Form):
    permissions = forms.ModelMultipleChoiceField(
        label=_("Permissions"),
        queryset=Permission.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, group: Group, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = (
            Permission.objects.filter(content_type__app_label__in=project_app_labels())
            .select_related("content_type")
            .order_by("content_type__app_label", "content_type__model", "codename")
        )
        self.initial["permissions"] = list(group.permissions.values_list("pk", flat=True))


class ServicePointForm(forms.ModelForm):
    class Meta:
        model = ServicePoint
        fields = ["code", "name", "region", "address", "phone", "manager", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(
            Q(groups__name=Role.SERVICE_MANAGER) | Q(is_superuser=True)
        ).distinct()


class EngineerForm(forms.ModelForm):
    class Meta:
        model = EngineerProfile
        fields = [
            "user",
            "employee_no",
            "phone",
            "service_point",
            "skills",
            "level",
            "availability",
        ]
        field_classes = {"phone": MobileField}
        widgets = {"skills": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only engineers without a profile (or this profile's own user) can be chosen.
        users = User.objects.filter(groups__name=Role.ENGINEER, is_active=True)
        users = users.filter(Q(engineer_profile__isnull=True) | Q(pk=self.instance.user_id))
        self.fields["user"].queryset = users.order_by("username")
        self.fields["user"].help_text = _("Users with the engineer role who have no profile yet.")
        self.fields["service_point"].queryset = ServicePoint.objects.filter(is_active=True)


_ID = {"required": False, "min_value": 1, "max_value": 2**31 - 1}


class ListParamsForm(ParamsForm):
    """The GET parameters of the organisation lists."""

    q = forms.CharField(required=False, max_length=100)
    role = forms.CharField(required=False, max_length=50)
    service_point = forms.IntegerField(**_ID)
    skill = forms.IntegerField(**_ID)
    availability = forms.CharField(required=False, max_length=20)


# Business calendars ----------------------------------------------------------------------------

# The years the calendar pages accept.
FIRST_YEAR, LAST_YEAR = 2000, 2100
_YEAR = {"min_value": FIRST_YEAR, "max_value": LAST_YEAR}


class CalendarCreateForm(forms.ModelForm):
    """A new business calendar: a copy of another one to start from, or office hours alone
    (Monday to Friday 09:00–12:00 and 13:00–18:00, no holidays: the same every year)."""

    start_from = forms.ModelChoiceField(
        label=_("Start from a copy of"),
        queryset=BusinessCalendar.objects.order_by("name"),
        required=False,
        empty_label=_("Office hours only, no holidays"),
        help_text=_("Its hours, holidays, make-up days and complete years are copied."),
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "code", "time_zone"]
        help_texts = {
            "code": _("Letters, digits and dashes, used in addresses, e.g. shanghai-office."),
        }

    COPIED = ("weekly_hours", "holidays", "workdays", "workday_hours", "years", "day_names")

    def clean_code(self):
        code = self.cleaned_data["code"].lower()
        if code == "new":  # calendars/new/ is this page
            raise forms.ValidationError(_("This code is reserved; choose another."))
        return code

    def _post_clean(self):
        # The days before the model's own check (BusinessCalendar.clean) sees them.
        calendar, source = self.instance, self.cleaned_data.get("start_from")
        if source:
            for field in self.COPIED:
                setattr(calendar, field, copy.deepcopy(getattr(source, field)))
        else:
            calendar.weekly_hours = dict.fromkeys(cn_holidays.WEEKDAYS, cn_holidays.OFFICE_HOURS)
        super()._post_clean()


class CalendarYearParams(ParamsForm):
    """The year a calendar's page shows (anything else: this year)."""

    year = forms.IntegerField(required=False, **_YEAR)


def _date_in_range(value):
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise forms.ValidationError(
            _("Choose a date from %(first)s to %(last)s."),
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CalendarDaysForm(forms.Form):
    """Holidays or make-up working days over a range of dates: added with a name, or removed."""

    ADD, REMOVE = "add", "remove"

    action = forms.ChoiceField(choices=[(ADD, _("Add")), (REMOVE, _("Remove"))])
    kind = forms.ChoiceField(
        label=_("Kind of day"),
        choices=[
            (calendars.HOLIDAY, _("Holiday")),
            (calendars.WORKDAY, _("Make-up working day")),
        ],
    )
    first = forms.DateField(label=_("First day"), widget=DateInput(), validators=[_date_in_range])
    last = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=DateInput(),
        validators=[_date_in_range],
        help_text=_("Empty: the first day only."),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=30,
        required=False,
        help_text=_("What the days are for, such as Spring Festival."),
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and not last:
            data["last"] = last = first
        if first and last:
            if last < first:
                self.add_error("last", _("The last day cannot be before the first."))
            elif (last - first).days >= calendars.MAX_SPAN_DAYS:
                self.add_error(
                    "last",
                    _("At most %(days)s days at once.") % {"days": calendars.MAX_SPAN_DAYS},
                )
        data["name"] = " ".join(data.get("name", "").split())
        if data.get("action") == self.ADD and not data["name"] and "name" not in self.errors:
            self.add_error("name", _("Name the days, such as Spring Festival."))
        return data


class CalendarCopyForm(forms.Form):
    source = forms.IntegerField(widget=forms.HiddenInput, **_YEAR)
    target = forms.IntegerField(label=_("Copy to the year"), **_YEAR)
    replace = forms.BooleanField(
        label=_("Replace the days this year already has"),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("source") is not None and data.get("source") == data.get("target"):
            self.add_error("target", _("Choose another year than the one copied."))
        return data


class CalendarYearForm(forms.Form):
    """A year marked complete (its days are all entered) or not."""

    year = forms.IntegerField(**_YEAR)
    complete = forms.BooleanField(required=False)


# "09:00-12:00, 13:00-18:00"; full-width and Chinese separators as people type them.
_SEPARATORS = str.maketrans({"：": ":", "，": ",", "、": ",", "；": ",", ";": ","})
_DASHES = re.compile(r"\s*(?:-|－|–|—|~|～|至|到)\s*")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def _time_of_day(text):
    match = _TIME.fullmatch(text)
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if minutes < 60 and (hours < 24 or (hours == 24 and minutes == 0)):
            return f"{hours:02d}:{minutes:02d}"
    raise forms.ValidationError(
        _("“%(time)s” is not a time of day: write 09:00, 13:30 or 24:00."),
        params={"time": text},
    )


def parse_hours(text):
    """ "09:00-12:00, 13:00-18:00" → [["09:00", "12:00"], ["13:00", "18:00"]] (empty: none)."""
    spans = []
    for part in str(text or "").translate(_SEPARATORS).split(","):
        part = part.strip()
        if not part:
            continue
        ends = _DASHES.split(part)
        if len(ends) != 2:
            raise forms.ValidationError(
                _("“%(part)s” is not a span of hours: write it as 09:00-12:00."),
                params={"part": part},
            )
        start, end = _time_of_day(ends[0]), _time_of_day(ends[1])
        if end <= start:
            raise forms.ValidationError(
                _("“%(part)s” ends before it starts."), params={"part": part}
            )
        spans.append([start, end])
    spans.sort()
    for (start1, end1), (start2, end2) in zip(spans, spans[1:], strict=False):
        if start2 < end1:
            raise forms.ValidationError(
                _("%(first)s and %(second)s overlap."),
                params={"first": f"{start1}-{end1}", "second": f"{start2}-{end2}"},
            )
    return spans


def format_hours(spans):
    return ", ".join(f"{start}-{end}" for start, end in spans or ())


class HoursField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return format_hours(value) if isinstance(value, list) else value

    def clean(self, value):
        return parse_hours(super().clean(value))


class CalendarHoursForm(forms.Form):
    """The weekly hours (one field a day; empty: closed) and those of make-up working days."""

    def __init__(self, *args, calendar, **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in zip(WEEKDAYS, WEEKDAY_NAMES.values(), strict=True):
            self.fields[code] = HoursField(label=label, initial=calendar.weekly_hours.get(code, []))
        self.fields["workday_hours"] = HoursField(
            label=_("Make-up working days"),
            initial=calendar.workday_hours,
            help_text=_("Empty: Monday's hours."),
        )
        self.fields["mon"].help_text = _(
            "Spans of hours separated by commas, such as 09:00-12:00, 13:00-18:00; "
            "00:00-24:00 for the whole day; empty: closed."
        )

    def weekly(self):
        return {code: self.cleaned_data[code] for code in WEEKDAYS if self.cleaned_data[code]}


class ApiKeyForm(forms.Form):
    """A new API key: who it is for and what it may do (the scopes the apps offer)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=60,
        help_text=_("The system that will use the key, e.g. “IoT platform” or “ERP”."),
    )
    note = forms.CharField(
        label=_("Integration note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Which system uses the key, who runs it, how to reach them."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the key may do; nothing else is allowed."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [
            (code, f"{label} ({code})") for code, label in api_scopes().items()
        ]

    def clean_name(self):
        name = plain_text(self.cleaned_data["name"]).strip()
        if ApiKey.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(_("A key with this name exists already."))
        return name

    def clean_note(self):
        return plain_text(self.cleaned_data["note"]).strip()
