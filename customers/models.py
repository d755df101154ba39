from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from phonenumber_field.modelfields import PhoneNumberField

from aftersales.lib.phones import PhoneDigitsField, phone_search
from aftersales.lib.validators import validate_cn_mobile
from aftersales.models import Region, new_token

# A warranty or agreement ending within this many days is shown as "expiring soon".
EXPIRING_SOON_DAYS = 30
# A plan search reads at most this many matching units (and agreements) as a list of ids.
SEARCH_MAX_IDS = 5000


class Priority(models.TextChoices):
    """Ticket priority; agreements set SLA targets per priority."""

    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=30, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.has_perm("customers.view_customer"):
            return self
        return self.none()

    def search(self, text):
        """Name (a part of it), code, phone, or a contact's name or mobile (`matching`)."""
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(pk__in=self.model._default_manager.matching(text))

    def matching(self, text):
        """The ids of the customers that `text` finds, as one query: the customers' own
        columns and their contacts' are the two halves of a UNION, each read on its own
        indexes (an OR across the join reads every customer and needs a DISTINCT).

        A phone, whole or a part of at least four digits, in any spelling, is compared with
        the digits of the customer's phone and the contacts' mobiles (aftersales.lib.phones);
        such a text is no name. On PostgreSQL, customers migration 0009 and tickets 0003 hold
        the indexes: trigrams for the parts of names and numbers, UPPER(code) for the code.
        """
        text = (text or "").strip()
        own = Q(name__icontains=text) | Q(code__iexact=text)
        phone = phone_search("phone_digits", text)
        if phone:
            own |= phone
            people = phone_search("mobile", text)
        else:
            people = Q(name__icontains=text)
        contacts = Contact.objects.filter(people).order_by().values_list("customer_id", flat=True)
        own = self.filter(own).order_by().values_list("pk", flat=True)
        return own.union(contacts).order_by()


class Customer(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    class Level(models.TextChoices):
        REGULAR = "regular", _("Regular")
        VIP = "vip", _("VIP")
        STRATEGIC = "strategic", _("Strategic")

    code = models.CharField(_("customer code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120, db_index=True)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.COMPANY)
    level = models.CharField(
        _("level"), max_length=12, choices=Level.choices, default=Level.REGULAR, db_index=True
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="customers"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True, db_index=True)
    # The phone as the searches compare it (aftersales.lib.phones): 021 6488 1234 is stored
    # as +862164881234 and searched as 02164881234.
    phone_digits = PhoneDigitsField(source="phone")
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("import_masterdata", _("Can import master data")),
            ("export_masterdata", _("Can export master data")),
        ]
        indexes = [models.Index(fields=["region", "level"], name="customer_region_level")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.pk])

    @property
    def primary_contact(self):
        # Uses the prefetched contacts when a list has them.
        contacts = list(self.contacts.all())
        return next((c for c in contacts if c.is_primary), contacts[0] if contacts else None)


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=60)
    title = models.CharField(_("title"), max_length=60, blank=True)
    mobile = models.CharField(
        _("mobile"), max_length=11, validators=[validate_cn_mobile], db_index=True
    )
    email = models.EmailField(_("e-mail"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
                violation_error_message=_("A customer can have only one primary contact."),
            ),
        ]

    def __str__(self):
        return self.name


class ProductModel(models.Model):
    line = models.ForeignKey(
        "aftersales.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="models",
    )
    code = models.CharField(_("model code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), default=12)
    # Service requests entered for this model; raised with an UPDATE … + 1 by the ticket entry.
    ticket_count = models.PositiveIntegerField(_("service requests"), default=0, editable=False)

    class Meta:
        ordering = ["line__code", "code"]
        verbose_name = _("product model")
        verbose_name_plural = _("product models")

    def __str__(self):
        return f"{self.name} {self.code}"


class WarrantyStatus(models.TextChoices):
    IN_WARRANTY = "in", _("In warranty")
    EXPIRING = "expiring", _("Expiring soon")
    EXPIRED = "expired", _("Out of warranty")
    UNKNOWN = "unknown", _("Unknown")


def warranty_status(end, today=None):
    if end is None:
        return WarrantyStatus.UNKNOWN
    today = today or timezone.localdate()
    if end < today:
        return WarrantyStatus.EXPIRED
    if end <= today + timedelta(days=EXPIRING_SOON_DAYS):
        return WarrantyStatus.EXPIRING
    return WarrantyStatus.IN_WARRANTY


class EquipmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.has_perm("customers.view_equipment"):
            return self
        return self.none()

    def search(self, text):
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(
            Q(serial_no__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(customer__code__iexact=text)
            | Q(product_model__code__icontains=text)
        )

    def with_warranty(self, status, today=None):
        today = today or timezone.localdate()
        soon = today + timedelta(days=EXPIRING_SOON_DAYS)
        if status == WarrantyStatus.EXPIRED:
            return self.filter(warranty_end__lt=today)
        if status == WarrantyStatus.EXPIRING:
            return self.filter(warranty_end__gte=today, warranty_end__lte=soon)
        if status == WarrantyStatus.IN_WARRANTY:
            return self.filter(warranty_end__gt=soon)
        if status == WarrantyStatus.UNKNOWN:
            return self.filter(warranty_end__isnull=True)
        return self


class Equipment(models.Model):
    """One unit in the equipment archive (产品档案), with its own QR code (一物一码)."""

    class Status(models.TextChoices):
        IN_USE = "in_use", _("In use")
        IN_STOCK = "in_stock", _("Not installed")
        UNDER_REPAIR = "under_repair", _("Under repair")
        SCRAPPED = "scrapped", _("Scrapped")

    serial_no = models.CharField(_("serial number"), max_length=60)
    product_model = models.ForeignKey(
        ProductModel,
        verbose_name=_("product model"),
        on_delete=models.PROTECT,
        related_name="equipment",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="equipment"
    )
    install_address = models.CharField(_("install address"), max_length=200, blank=True)
    install_date = models.DateField(_("install date"), null=True, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.IN_USE, db_index=True
    )
    qr_token = models.CharField(
        _("QR token"), max_length=32, unique=True, default=new_token, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = EquipmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        constraints = [
            models.UniqueConstraint(
                fields=["product_model", "serial_no"],
                name="equipment_serial_unique_per_model",
                violation_error_message=_(
                    "This product already has a unit with this serial number."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["serial_no"], name="equipment_serial"),
            # The equipment list's default order, newest first (a sort of every unit without it).
            models.Index(fields=["-created_at", "-id"], name="equipment_newest"),
        ]

    def __str__(self):
        return f"{self.product_model.code} #{self.serial_no}"

    def get_absolute_url(self):
        return reverse("customers:equipment_detail", args=[self.pk])

    @property
    def warranty_status(self):
        return warranty_status(self.warranty_end)

    def default_warranty_end(self):
        """Warranty runs the model's months from purchase (else installation)."""
        start = self.purchase_date or self.install_date
        if start is None or self.product_model_id is None:
            return None
        return start + relativedelta(months=self.product_model.warranty_months) - timedelta(days=1)


class AgreementQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.has_perm("customers.view_serviceagreement"):
            return self
        return self.none()

    def active_on(self, day):
        return self.filter(start_date__lte=day, end_date__gte=day)


class ServiceAgreement(models.Model):
    """A service agreement / maintenance contract (服务协议 / 维保合同) with SLA targets."""

    class Type(models.TextChoices):
        WARRANTY = "warranty", _("Warranty service")
        MAINTENANCE = "maintenance", _("Maintenance contract")
        FULL_SERVICE = "full_service", _("Full-service contract")
        EXTENDED = "extended", _("Extended warranty")

    class Charging(models.TextChoices):
        WARRANTY_FREE = "warranty_free", _("Free under warranty")
        PER_VISIT = "per_visit", _("Per visit")
        HOURS_PARTS = "hours_parts", _("Hours + parts")
        ANNUAL_FEE = "annual_fee", _("Annual fee")

    number = models.CharField(_("agreement number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="agreements",
        null=True,
        blank=True,
        help_text=_("Leave empty only for the default policy."),
    )
    equipment = models.ManyToManyField(
        Equipment, verbose_name=_("covered equipment"), blank=True, related_name="agreements"
    )
    type = models.CharField(_("type"), max_length=15, choices=Type.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), db_index=True)
    service_items = models.TextField(_("service items"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    charging_method = models.CharField(
        _("charging method"), max_length=15, choices=Charging.choices
    )
    annual_fee = models.DecimalField(
        _("annual fee (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    calendar = models.ForeignKey(
        "aftersales.BusinessCalendar",
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements",
        help_text=_("SLA clocks count in this calendar; empty: China's statutory working days."),
    )
    is_default = models.BooleanField(
        _("default policy"),
        default=False,
        help_text=_("Applies to customers and equipment that no agreement covers."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "number"]
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="agreement_ends_after_start",
                violation_error_message=_("An agreement cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="agreement_single_default",
                violation_error_message=_("Only one agreement can be the default policy."),
            ),
            models.CheckConstraint(
                condition=Q(is_default=True) | Q(customer__isnull=False),
                name="agreement_has_customer_unless_default",
                violation_error_message=_("Choose the customer this agreement belongs to."),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"

    def get_absolute_url(self):
        return reverse("customers:agreement_detail", args=[self.pk])

    def days_left(self, today=None):
        today = today or timezone.localdate()
        return (self.end_date - today).days

    @property
    def is_active(self):
        return self.start_date <= timezone.localdate() <= self.end_date

    def target_for(self, priority):
        return next((t for t in self.targets.all() if t.priority == priority), None)


class SlaTarget(models.Model):
    """Per priority: response, on-site arrival and resolution targets in minutes."""

    agreement = models.ForeignKey(
        ServiceAgreement,
        verbose_name=_("agreement"),
        on_delete=models.CASCADE,
        related_name="targets",
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(_("response (minutes)"))
    arrival_minutes = models.PositiveIntegerField(_("on-site arrival (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"))

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "priority"], name="sla_target_one_per_priority"
            ),
            models.CheckConstraint(
                condition=Q(response_minutes__gt=0)
                & Q(arrival_minutes__gte=models.F("response_minutes"))
                & Q(resolution_minutes__gte=models.F("arrival_minutes")),
                name="sla_target_ordered",
                violation_error_message=_(
                    "Targets must be positive and ordered: response ≤ arrival ≤ resolution."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.agreement.number} {self.get_priority_display()}"


class MaintenancePlanQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The office (who may open customers) sees every plan; an engineer, the plans their
        own service point carries out."""
        if not user.has_perm("customers.view_maintenanceplan"):
            return self.none()
        if user.has_perm("customers.view_customer"):
            return self
        return self.filter(service_point__engineers__user=user)

    def of_customer(self, customer_id):
        """Plans on the customer's units and agreements. Their ids are read first (two small
        queries): then the plan table's foreign-key indexes answer, where an OR across the
        joined tables would read every plan."""
        units = Equipment.objects.filter(customer_id=customer_id).order_by()
        agreements = ServiceAgreement.objects.filter(customer_id=customer_id).order_by()
        return self.filter(equipment_id__in=list(units.values_list("pk", flat=True))) | self.filter(
            agreement_id__in=list(agreements.values_list("pk", flat=True))
        )

    def of_unit(self, unit):
        """Plans on the unit, and on the agreements that list it (their ids read first)."""
        agreements = list(unit.agreements.order_by().values_list("pk", flat=True))
        return self.filter(equipment_id=unit.pk) | self.filter(agreement_id__in=agreements)

    def due_within(self, days, today=None):
        """Active plans whose next date is today or in the next `days` days."""
        today = today or timezone.localdate()
        return self.filter(
            active=True, next_date__gte=today, next_date__lte=today + timedelta(days=days)
        )

    def overdue(self, today=None):
        """Active plans whose next date has passed with no work created for it: entered with
        a past date, or the daily job has not run (it moves every plan on once its work is
        created)."""
        return self.filter(active=True, next_date__lt=today or timezone.localdate())

    def search(self, text):
        """The plan's name, the unit's serial number, the agreement's number, or the customer's
        name or code. The matching units and agreements are looked up first, each on its own
        indexes, and up to SEARCH_MAX_IDS of each go to the plan query as ids; a broader name
        stays a subquery."""
        text = (text or "").strip()
        if not text:
            return self
        customers = Customer.objects.filter(Q(name__icontains=text) | Q(code__iexact=text))
        customers = customers.order_by().values("pk")
        units = Equipment.objects.filter(
            Q(serial_no__iexact=text) | Q(customer__in=customers)
        ).order_by()
        agreements = ServiceAgreement.objects.filter(
            Q(number__iexact=text) | Q(customer__in=customers)
        ).order_by()
        found = self.filter(name__icontains=text)
        for field, related in (("equipment", units), ("agreement", agreements)):
            pks = related.values_list("pk", flat=True)
            first = list(pks[: SEARCH_MAX_IDS + 1])
            if len(first) > SEARCH_MAX_IDS:
                found |= self.filter(**{f"{field}__in": pks})
            elif first:
                found |= self.filter(**{f"{field}_id__in": first})
        return found


class MaintenancePlan(models.Model):
    """A maintenance plan (维保计划): preventive work on a unit, or on everything an agreement
    covers, every so many days or months; its tickets are created `lead_days` ahead.

    Managed on its own pages (customers.views.plans); the daily job (customers.timers) announces
    each planned date once and moves the plan on to its next date.
    """

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("Preventive maintenance")
        INSPECTION = "inspection", _("Inspection")
        CONSUMABLES = "consumables", _("Consumable replacement")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    equipment = models.ForeignKey(
        "customers.Equipment",
        verbose_name=_("equipment"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_plans",
    )
    agreement = models.ForeignKey(
        "customers.ServiceAgreement",
        verbose_name=_("agreement"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_plans",
    )
    interval_days = models.PositiveSmallIntegerField(_("every (days)"), null=True, blank=True)
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), null=True, blank=True)
    next_date = models.DateField(_("next date"))
    lead_days = models.PositiveSmallIntegerField(_("created days ahead"), default=7)
    # next_date − lead_days, kept by save(): the daily job reads it through an index.
    create_on = models.DateField(editable=False, db_index=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    active = models.BooleanField(_("active"), default=True)
    service_point = models.ForeignKey(
        "aftersales.ServicePoint",
        verbose_name=_("service point"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="maintenance_plans",
        help_text=_("The branch that carries out the work; its engineers see the plan."),
        db_index=False,  # plan_point_next leads with it
    )
    # The planned date whose work the daily job created last (None: none yet).
    last_date = models.DateField(_("last planned date"), null=True, blank=True, editable=False)

    objects = MaintenancePlanQuerySet.as_manager()

    class Meta:
        ordering = ["next_date", "id"]
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")
        indexes = [
            # The plan list, by next date: all active plans (its default), a due window, the
            # overdue ones; and per service point, per kind. Customers and units go through
            # the foreign keys' own indexes (equipment, agreement).
            models.Index(fields=["active", "next_date", "id"], name="plan_active_next"),
            models.Index(fields=["service_point", "active", "next_date"], name="plan_point_next"),
            models.Index(fields=["kind", "active", "next_date"], name="plan_kind_next"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(equipment__isnull=False, agreement__isnull=True)
                | Q(equipment__isnull=True, agreement__isnull=False),
                name="plan_for_unit_or_agreement",
                violation_error_message=_("A plan is for one unit or for one agreement."),
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gt=0, interval_months__isnull=True)
                | Q(interval_days__isnull=True, interval_months__gt=0),
                name="plan_interval_days_or_months",
                violation_error_message=_("Give the interval in days or in months."),
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.create_on = self.next_date - timedelta(days=self.lead_days)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("customers:plan_detail", args=[self.pk])

    @property
    def customer(self):
        """The customer of the unit or of the agreement (joined by the caller)."""
        return self.equipment.customer if self.equipment_id else self.agreement.customer

    @property
    def interval_display(self):
        if self.interval_months:
            return ngettext("every %(n)s month", "every %(n)s months", self.interval_months) % {
                "n": self.interval_months
            }
        return ngettext("every %(n)s day", "every %(n)s days", self.interval_days or 0) % {
            "n": self.interval_days
        }

    def days_left(self, today=None):
        return (self.next_date - (today or timezone.localdate())).days

    def days_overdue(self, today=None):
        return -self.days_left(today)

    def following_date(self, after=None):
        """The planned date after `after` (default: the next date)."""
        after = after or self.next_date
        if self.interval_months:
            return after + relativedelta(months=self.interval_months)
        return after + timedelta(days=self.interval_days)

    def upcoming_dates(self, count=4):
        """The next `count` planned dates, from the next date on."""
        dates = [self.next_date]
        while len(dates) < count:
            dates.append(self.following_date(dates[-1]))
        return dates


PRIORITY_ORDER = [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]


# The import and export jobs live in their own module (customers.jobs); they are this app's
# models all the same.
from .jobs import ExportJob, ImportJob  # noqa: E402, F401
