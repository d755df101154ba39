from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .lib.params import ParamsForm
from .lib.validators import normalize_cn_mobile
from .models import EngineerProfile, ServicePoint, User
from .registry import project_app_labels
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
