from datetime import timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.models import ProductLine, Region

from .models import (
    EXPIRING_SOON_DAYS,
    Customer,
    Equipment,
    ServiceAgreement,
    Tag,
    WarrantyStatus,
)


class SearchFilter(django_filters.CharFilter):
    """Free text through the queryset's own `search()`."""

    def filter(self, qs, value):
        return qs.search(value) if value else qs


class CustomerFilter(django_filters.FilterSet):
    q = SearchFilter(label=_("Search"))
    level = django_filters.ChoiceFilter(label=_("Level"), choices=Customer.Level.choices)
    region = django_filters.ModelChoiceFilter(label=_("Region"), queryset=Region.objects.all())
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), field_name="tags", queryset=Tag.objects.all()
    )

    class Meta:
        model = Customer
        fields = ["q", "level", "region", "tag"]


class EquipmentFilter(django_filters.FilterSet):
    q = SearchFilter(label=_("Search"))
    line = django_filters.ModelChoiceFilter(
        label=_("Product line"),
        field_name="product_model__line",
        queryset=ProductLine.objects.all(),
    )
    warranty = django_filters.ChoiceFilter(
        label=_("Warranty"), choices=WarrantyStatus.choices, method="filter_warranty"
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Equipment.Status.choices)
    region = django_filters.ModelChoiceFilter(
        label=_("Region"), field_name="customer__region", queryset=Region.objects.all()
    )

    class Meta:
        model = Equipment
        fields = ["q", "line", "warranty", "status", "region"]

    def filter_warranty(self, qs, name, value):
        return qs.with_warranty(value)


class AgreementFilter(django_filters.FilterSet):
    ACTIVE, EXPIRING, EXPIRED, FUTURE = "active", "expiring", "expired", "future"
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    charging_method = django_filters.ChoiceFilter(
        label=_("Charging method"), choices=ServiceAgreement.Charging.choices
    )
    type = django_filters.ChoiceFilter(label=_("Type"), choices=ServiceAgreement.Type.choices)
    validity = django_filters.ChoiceFilter(
        label=_("Validity"),
        method="filter_validity",
        choices=[
            (ACTIVE, _("In force")),
            (EXPIRING, _("Ending within 30 days")),
            (EXPIRED, _("Ended")),
            (FUTURE, _("Not started")),
        ],
    )

    class Meta:
        model = ServiceAgreement
        fields = ["q", "charging_method", "type", "validity"]

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(
            Q(number__icontains=value)
            | Q(name__icontains=value)
            | Q(customer__name__icontains=value)
        )

    def filter_validity(self, qs, name, value):
        today = timezone.localdate()
        if value == self.ACTIVE:
            return qs.active_on(today)
        if value == self.EXPIRING:
            return qs.filter(
                end_date__gte=today, end_date__lte=today + timedelta(days=EXPIRING_SOON_DAYS)
            )
        if value == self.EXPIRED:
            return qs.filter(end_date__lt=today)
        if value == self.FUTURE:
            return qs.filter(start_date__gt=today)
        return qs
