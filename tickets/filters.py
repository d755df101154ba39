import operator
from datetime import datetime, time, timedelta
from functools import reduce

import django_filters
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.caching import per_language, remembered
from aftersales.lib.phones import phone_search
from aftersales.models import ServicePoint, User
from aftersales.roles import Role
from customers.models import Customer, Equipment, Priority

from .models import ProblemType, ServiceType, State, Ticket
from .sla import Light, light_filter


def engineers():
    return (
        User.objects.filter(groups__name=Role.ENGINEER, is_active=True)
        .select_related("engineer_profile__service_point")
        .order_by("engineer_profile__service_point__name", "username")
    )


# The cache entry of the desk's short lists; aftersales.signals and tickets.apps forget it when
# an engineer, a service point or a problem type changes.
SHORT_LISTS = "desk-choices"


def short_lists():
    """{"engineer" | "service_point" | "problem_type": [(pk as text, label), ...]}, cached."""
    return remembered(per_language(SHORT_LISTS), _read_short_lists)


def _read_short_lists():
    # The option labels are the engineers' names: no profiles needed (they triple the rows).
    return {
        "engineer": [(str(u.pk), str(u)) for u in engineers().select_related(None)],
        "service_point": [(str(p.pk), str(p)) for p in ServicePoint.objects.all()],
        "problem_type": [(str(p.pk), str(p)) for p in ProblemType.objects.all()],
    }


# Up to this many matching customers (or units) go to the ticket query as a list of ids: then
# PostgreSQL combines the ticket indexes (a bitmap OR) and reads only the matching tickets. A
# broader name ("有限公司") stays a subquery, and the list walks the newest tickets instead.
SEARCH_MAX_IDS = 5000


def search_tickets(qs, text):
    """Number, customer (name, code, phone, a contact's name or mobile), the contact's phone or
    name as entered, or the unit's serial number.

    Customers and units are looked up first, each on its own index: in one OR across the joined
    tables the database would read every ticket. The indexes on the customer and unit columns
    are PostgreSQL's (tickets migration 0003, customers 0009): trigram indexes for the substring
    searches of names and phone numbers, expression indexes for the case-insensitive code and
    serial number.

    Where the database allows (PostgreSQL), the result is a `TicketSearch`: each way of matching
    reads its own index in the list's order, so a page costs the same whether a phone number
    has ten tickets or ten thousand. A part of a number is the exception: its trigram index
    finds the matches in no order, and they are sorted (four digits are in about one number in
    a thousand). Elsewhere it is one query with an OR.
    """
    text = (text or "").strip()
    if not text:
        return qs
    criteria = _search_criteria(text)
    if connection.features.supports_slicing_ordering_in_compound:
        return TicketSearch(qs, criteria)
    return qs.filter(reduce(operator.or_, criteria))


def _search_criteria(text):
    # Customers by name, code, phone or a contact's name or mobile (Customer.objects.matching).
    customers = Customer.objects.matching(text)
    units = Equipment.objects.filter(serial_no__iexact=text).order_by().values_list("pk", flat=True)
    # Numbers are generated upper-case (SR20261122-0001): the unique index answers.
    criteria = [Q(number=text.upper())]
    # The contact's phone in any spelling, whole or a part of at least four digits
    # (aftersales.lib.phones); any other text may be the contact's name as entered, compared
    # whole: ticket_contact_name_created reads a name's tickets newest first (a part of a
    # two-character name could use no index).
    phone = phone_search("contact_phone_digits", text)
    criteria.append(phone or Q(contact_name__iexact=text))
    for field, pks in (("equipment", units), ("customer", customers)):
        found = list(pks[: SEARCH_MAX_IDS + 1])
        if len(found) > SEARCH_MAX_IDS:
            criteria.append(Q(**{f"{field}__in": pks}))
        elif found:
            criteria.append(Q(**{f"{field}_id__in": found}))
    return criteria


class TicketSearch:
    """The tickets of `base` (filtered and ordered) that match any of `criteria`, read as a
    union: each criterion's matches come from its own index (ticket_phone_digits_created or
    ticket_contact_name_created, ticket_unit_created, ticket_customer_created, the number's;
    ticket_phone_digits_trgm for a part of a number), newest first, no more of them
    than the page needs. One OR instead makes PostgreSQL read every match to sort them, or
    walk the newest tickets of the whole table until it has found a page.

    It is what the desk's paginator (aftersales.lib.pagination.CappedPaginator) pages through:
    `capped_count(cap)` and slices.
    """

    model = Ticket
    ordered = True

    def __init__(self, base, criteria):
        self.base = base
        self.criteria = criteria

    def _ids(self, limit, ordered=True):
        branches = [
            (self.base if ordered else self.base.order_by()).filter(c).values("pk")[:limit]
            for c in self.criteria
        ]
        return branches[0].union(*branches[1:], all=ordered)

    def capped_count(self, cap):
        """How many tickets match, counted up to `cap` + 1."""
        return self._ids(cap + 1, ordered=False).count()

    def __getitem__(self, window):
        if not isinstance(window, slice) or window.stop is None:
            raise TypeError("a TicketSearch is read a page (a slice) at a time")
        return self.base.filter(pk__in=self._ids(window.stop))[window]


def _descending_label(label):
    return gettext("%s (descending)") % label


_descending = lazy(_descending_label, str)


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Sorting by next due puts the tickets without a running SLA clock last, both ways; every
    sort ends with the id, so that tickets with the same date keep their place from page to
    page."""

    nulls_last = {"sla_due"}

    def build_choices(self, fields, labels):
        # django-filter writes "%s (descending)" once, when the class is made, in the language
        # active then: every later page showed it so. Each label is written when shown.
        ascending = [(param, labels.get(field, param)) for field, param in fields.items()]
        return [
            choice
            for param, label in ascending
            for choice in ((param, label), (f"-{param}", _descending(label)))
        ]

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "-id")
        return qs

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        name = param[1:] if descending else param
        field_name = self.param_map.get(name, name)
        if field_name not in self.nulls_last:
            return super().get_ordering_value(param)
        field = F(field_name)
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)


class TicketFilter(django_filters.FilterSet):
    # Applied last, by filter_queryset (search_tickets), after every other filter and the sort.
    q = django_filters.CharFilter(label=_("Search"))
    state = django_filters.ChoiceFilter(label=_("State"), choices=State.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    service_type = django_filters.ChoiceFilter(label=_("Service type"), choices=ServiceType.choices)
    # The short lists come from the cache (`short_lists`): choosing one is checked against
    # them with no query, and the filter copies no querysets for every request.
    problem_type = django_filters.ChoiceFilter(
        label=_("Problem type"),
        field_name="problem_type_id",
        choices=lambda: short_lists()["problem_type"],
    )
    engineer = django_filters.ChoiceFilter(
        label=_("Engineer"), field_name="engineer_id", choices=lambda: short_lists()["engineer"]
    )
    service_point = django_filters.ChoiceFilter(
        label=_("Service point"),
        field_name="service_point_id",
        choices=lambda: short_lists()["service_point"],
    )
    light = django_filters.ChoiceFilter(
        label=_("SLA"), choices=list(Light.LABELS.items()), method="filter_light"
    )
    customer = django_filters.CharFilter(
        label=_("Customer code"), field_name="customer__code", lookup_expr="iexact"
    )
    requested = django_filters.DateFromToRangeFilter(
        label=_("Requested date"),
        field_name="requested_date",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Entered"),
        method="filter_created",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    sort = NullsLastOrderingFilter(
        label=_("Sort"),
        fields=[
            ("created_at", "created"),
            ("sla_due", "due"),
            ("requested_date", "requested"),
            ("number", "number"),
        ],
        # Keyed by the model's field names (django-filter's rule), not by the parameters.
        field_labels={
            "created_at": _("Entered"),
            "sla_due": _("Next due"),
            "requested_date": _("Requested date"),
            "number": _("Number"),
        },
    )

    class Meta:
        model = Ticket
        fields = []

    def filter_light(self, qs, name, value):
        return qs.filter(light_filter(value))

    def filter_queryset(self, queryset):
        """Every filter and the sort first, the search last: it may turn the queryset into a
        `TicketSearch`, which reads each way of matching with all the other filters."""
        text = None
        for name, value in self.form.cleaned_data.items():
            if name == "q":
                text = value
            else:
                queryset = self.filters[name].filter(queryset, value)
        return search_tickets(queryset, text)

    def filter_created(self, qs, name, value):
        # Whole local days, compared on the indexed column (no date() of every row).
        if value and value.start:
            qs = qs.filter(created_at__gte=_day_start(value.start))
        if value and value.stop:
            qs = qs.filter(created_at__lt=_day_start(value.stop + timedelta(days=1)))
        return qs


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class RevisitFilter(django_filters.FilterSet):
    """The revisit queue's search box: the desk's search (`search_tickets`: number, customer,
    phone …) over the tickets waiting for their call, in the queue's order."""

    q = django_filters.CharFilter(label=_("Search"))

    class Meta:
        model = Ticket
        fields = []

    def filter_queryset(self, queryset):
        return search_tickets(queryset, self.form.cleaned_data.get("q"))
