"""Import and export of master data (django-import-export), used by the dashboard pages.

Columns are addressed by field name inside; files carry the column titles in the user's
language, and either language's titles (or the field names) are accepted on import.
Cell values that a spreadsheet would run as a formula are neutralised on export.
"""

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from aftersales.lib.validators import normalize_cn_mobile
from aftersales.models import Region

from .models import Contact, Customer, Equipment, ProductLine, ProductModel, Tag

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def escape_formula(value):
    """Prefix text that a spreadsheet would evaluate with a quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key by a natural key, with a message the user can act on."""

    def __init__(self, model, field, label):
        super().__init__(model, field)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        value = str(value).strip()
        try:
            return self.get_queryset(value, row, **kwargs).get(**{self.field: value})
        except self.model.DoesNotExist:
            raise ValueError(
                _("%(what)s “%(value)s” does not exist.") % {"what": self.label, "value": value}
            ) from None


class ChoiceWidget(widgets.Widget):
    """Accepts a choice's stored value or its label in either language; exports the label."""

    def __init__(self, choices):
        super().__init__()
        self.choices = choices

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        text = str(value).strip()
        for choice_value, label in self.choices.choices:
            if text == str(choice_value) or text in _labels(label):
                return choice_value
        allowed = "、".join(str(label) for _value, label in self.choices.choices)
        raise ValueError(
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": allowed}
        )

    def render(self, value, obj=None, **kwargs):
        if value in (None, ""):
            return ""
        return str(self.choices(value).label)


def _labels(label):
    out = set()
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            out.add(str(label))
    return out


class MobileWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return normalize_cn_mobile(super().clean(value, row, **kwargs))


class PhoneWidget(widgets.CharWidget):
    def render(self, value, obj=None, **kwargs):
        return "" if not value else value.as_national

    def clean(self, value, row=None, **kwargs):
        return str(super().clean(value, row, **kwargs) or "").strip()


class BoolWidget(widgets.BooleanWidget):
    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "是", "yes", "Yes", "Y", "y", "√"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "否", "no", "No", "N", "n", ""]

    def render(self, value, obj=None, **kwargs):
        return _("Yes") if value else _("No")


class DateWidget(widgets.DateWidget):
    def __init__(self):
        super().__init__(format="%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date; write it as 2026-01-31.") % {"value": value}
            ) from None


class MasterDataResource(resources.ModelResource):
    """Common behaviour: localized titles, clean model instances, all-or-nothing."""

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        # skip_diff would also disable skip_unchanged (it needs the original to compare).
        skip_html_diff = True

    def get_export_headers(self, selected_fields=None):
        return [str(self.title_for(name)) for name in super().get_export_headers(selected_fields)]

    def title_for(self, name):
        model_field = self._meta.model._meta.get_field(self.fields[name].attribute.split("__")[0])
        return getattr(self, "titles", {}).get(name) or model_field.verbose_name

    def header_aliases(self):
        """Every accepted title (both languages, field names) → field name."""
        aliases = {}
        for name in self.fields:
            aliases[name] = name
            for lang in ("zh-hans", "en"):
                with translation.override(lang):
                    aliases[str(self.title_for(name)).strip().lower()] = name
        return aliases

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))


class CustomerResource(MasterDataResource):
    code = fields.Field(attribute="code")
    name = fields.Field(attribute="name")
    kind = fields.Field(attribute="kind", widget=ChoiceWidget(Customer.Kind))
    level = fields.Field(attribute="level", widget=ChoiceWidget(Customer.Level))
    region = fields.Field(
        attribute="region", widget=LookupWidget(Region, "name", gettext_lazy("Region"))
    )
    address = fields.Field(attribute="address")
    phone = fields.Field(attribute="phone", widget=PhoneWidget())
    tags = fields.Field(
        attribute="tags", widget=widgets.ManyToManyWidget(Tag, separator="|", field="name")
    )
    notes = fields.Field(attribute="notes")

    class Meta(MasterDataResource.Meta):
        model = Customer
        import_id_fields = ["code"]
        fields = ["code", "name", "kind", "level", "region", "address", "phone", "tags", "notes"]

    def before_import_row(self, row, **kwargs):
        # Tags are a free vocabulary: a new tag in a file is created (inside the import's
        # transaction, so a refused file leaves none behind).
        for name in str(row.get("tags") or "").split("|"):
            if name.strip():
                Tag.objects.get_or_create(name=name.strip())

    def get_export_queryset(self, request=None):
        return Customer.objects.select_related("region").prefetch_related("tags")


class ContactResource(MasterDataResource):
    customer = fields.Field(
        attribute="customer",
        widget=LookupWidget(Customer, "code", gettext_lazy("Customer")),
    )
    name = fields.Field(attribute="name")
    title = fields.Field(attribute="title")
    mobile = fields.Field(attribute="mobile", widget=MobileWidget())
    email = fields.Field(attribute="email")
    is_primary = fields.Field(attribute="is_primary", widget=BoolWidget())

    titles = {"customer": gettext_lazy("customer code")}

    class Meta(MasterDataResource.Meta):
        model = Contact
        import_id_fields = ["customer", "mobile"]
        fields = ["customer", "name", "title", "mobile", "email", "is_primary"]

    def get_export_queryset(self, request=None):
        return Contact.objects.select_related("customer").order_by("customer__code", "pk")


class ProductModelResource(MasterDataResource):
    line = fields.Field(
        attribute="line", widget=LookupWidget(ProductLine, "name", gettext_lazy("Product line"))
    )
    code = fields.Field(attribute="code")
    name = fields.Field(attribute="name")
    warranty_months = fields.Field(attribute="warranty_months", widget=widgets.IntegerWidget())

    class Meta(MasterDataResource.Meta):
        model = ProductModel
        import_id_fields = ["code"]
        fields = ["line", "code", "name", "warranty_months"]

    def before_import_row(self, row, **kwargs):
        # A new product line named in the file is created with a code derived from its name.
        name = str(row.get("line") or "").strip()
        if name and not ProductLine.objects.filter(name=name).exists():
            code = f"L{ProductLine.objects.count() + 1:03d}"
            ProductLine.objects.create(code=code, name=name)

    def get_export_queryset(self, request=None):
        return ProductModel.objects.select_related("line")


class EquipmentResource(MasterDataResource):
    product_model = fields.Field(
        attribute="product_model",
        widget=LookupWidget(ProductModel, "code", gettext_lazy("Product model")),
    )
    serial_no = fields.Field(attribute="serial_no")
    customer = fields.Field(
        attribute="customer", widget=LookupWidget(Customer, "code", gettext_lazy("Customer"))
    )
    install_address = fields.Field(attribute="install_address")
    install_date = fields.Field(attribute="install_date", widget=DateWidget())
    purchase_date = fields.Field(attribute="purchase_date", widget=DateWidget())
    warranty_end = fields.Field(attribute="warranty_end", widget=DateWidget())
    status = fields.Field(attribute="status", widget=ChoiceWidget(Equipment.Status))

    titles = {
        "customer": gettext_lazy("customer code"),
        "product_model": gettext_lazy("model code"),
    }

    class Meta(MasterDataResource.Meta):
        model = Equipment
        import_id_fields = ["product_model", "serial_no"]
        fields = [
            "product_model",
            "serial_no",
            "customer",
            "install_address",
            "install_date",
            "purchase_date",
            "warranty_end",
            "status",
        ]

    def before_save_instance(self, instance, row, **kwargs):
        if not instance.warranty_end:
            instance.warranty_end = instance.default_warranty_end()
        if not instance.status:
            instance.status = Equipment.Status.IN_USE

    def get_export_queryset(self, request=None):
        return Equipment.objects.select_related("product_model", "customer").order_by("pk")


RESOURCES = {
    "customers": (gettext_lazy("Customers"), CustomerResource),
    "contacts": (gettext_lazy("Contacts"), ContactResource),
    "products": (gettext_lazy("Products"), ProductModelResource),
    "equipment": (gettext_lazy("Equipment"), EquipmentResource),
}


def rename_headers(dataset, resource):
    """Map the file's column titles to field names; unknown columns are reported."""
    aliases = resource.header_aliases()
    headers, unknown = [], []
    for title in dataset.headers or []:
        key = str(title or "").strip()
        name = aliases.get(key.lower()) or aliases.get(key)
        if name is None:
            unknown.append(key)
            name = key
        headers.append(name)
    dataset.headers = headers
    missing = [
        str(resource.title_for(n)) for n in resource._meta.import_id_fields if n not in headers
    ]
    if missing:
        raise ValidationError(
            _("The file lacks the column(s): %(columns)s.") % {"columns": "、".join(missing)}
        )
    return unknown
