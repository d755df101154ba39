from datetime import datetime, time, timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.models import ServicePoint, User
from aftersales.roles import Role
from customers.models import Customer, Equipment, Priority

from .models import ProblemType, ServiceType, State, Ticket


def engineers():
    return (
        User.objects.filter(groups__name=Role.ENGINEER, is_active=True)
        .select_related("engineer_profile__service_point")
        .order_by("engineer_profile__service_point__name", "username")
    )


def search_tickets(qs, text):
    """Number, customer (name, code, phone), contact phone or the unit's serial number.

    Each way of matching reads its own index, and the list keeps the union of the matches: one
    OR across the joined tables would read every ticket. The indexes on the customer and unit
    columns are PostgreSQL's (tickets migration 0003): a trigram index for the name's substring
    search, expression indexes for the case-insensitive code and serial number.
    """
    text = (text or "").strip()
    if not text:
        return qs
    customers = Customer.objects.filter(
        Q(name__icontains=text) | Q(code__iexact=text) | Q(phone=text)
    ).values("pk")
    units = Equipment.objects.filter(serial_no__iexact=text).values("pk")
    matches = (
        # Numbers are generated upper-case (SR20261122-0001): the unique index answers.
        Ticket.objects.filter(number=text.upper())
        .values("pk")
        .union(
            Ticket.objects.filter(contact_phone=text).values("pk"),
            Ticket.objects.filter(equipment__in=units).values("pk"),
            Ticket.objects.filter(customer__in=customers).values("pk"),
        )
    )
    return qs.filter(pk__in=matches)


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    state = django_filters.ChoiceFilter(label=_("State"), choices=State.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    service_type = django_filters.ChoiceFilter(label=_("Service type"), choices=ServiceType.choices)
    problem_type = django_filters.ModelChoiceFilter(
        label=_("Problem type"), queryset=ProblemType.objects.all()
    )
    # The option labels are the engineers' names: no profiles needed (they triple the rows).
    engineer = django_filters.ModelChoiceFilter(
        label=_("Engineer"), queryset=engineers().select_related(None)
    )
    service_point = django_filters.ModelChoiceFilter(
        label=_("Service point"), queryset=ServicePoint.objects.all()
    )
    customer = django_filters.CharFilter(
        label=_("Customer code"), field_name="customer__code", lookup_expr="iexact"
    )
    requested = django_filters.DateFromToRangeFilter(
        label=_("Requested date"),
        field_name="requested_date",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Entered"),
        method="filter_created",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=[
            ("created_at", "created"),
            ("requested_date", "requested"),
            ("number", "number"),
        ],
        field_labels={
            "created": _("Entered"),
            "requested": _("Requested date"),
            "number": _("Number"),
        },
    )

    class Meta:
        model = Ticket
        fields = []

    def filter_q(self, qs, name, value):
        return search_tickets(qs, value)

    def filter_created(self, qs, name, value):
        # Whole local days, compared on the indexed column (no date() of every row).
        if value and value.start:
            qs = qs.filter(created_at__gte=_day_start(value.start))
        if value and value.stop:
            qs = qs.filter(created_at__lt=_day_start(value.stop + timedelta(days=1)))
        return qs


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))
