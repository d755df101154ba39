"""What happens at the customer's: engineers' visits with their parts and photos, revisit calls."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.lib.choices import ChoiceLabels

from .ticket import Ticket


class VerifiedRecordError(ValidationError):
    """A visit record of a verified (核销) request was to be changed: it is frozen."""


def refuse_if_verified(**ticket):
    """The model-level guard under every way of writing a visit record (services, the admin,
    a shell): after 核销 the hours, fees and parts stay as verified. `ticket`: a lookup of the
    record's ticket (pk=…, or visits=… for a visit's part)."""
    from .choices import State

    if Ticket.objects.filter(state=State.VERIFIED, **ticket).exists():
        raise VerifiedRecordError(
            _("This service request is verified: its visit records can no longer be changed.")
        )


class ChargeType(models.TextChoices):
    CHARGED = "charged", _("Charged")
    WARRANTY = "warranty", _("Free under warranty")
    AGREEMENT = "agreement", _("Free under agreement")


class Visit(ChoiceLabels, models.Model):
    """An engineer's visit in one processing round: check-in, the work done and its cost."""

    class Result(models.TextChoices):
        OPEN = "", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        UNRESOLVED = "unresolved", _("Not resolved")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="visits"
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    round = models.PositiveSmallIntegerField(_("processing round"))
    checked_in_at = models.DateTimeField(_("checked in at"))
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    work_done = models.TextField(_("work done"), blank=True)
    result = models.CharField(
        _("result"), max_length=12, choices=Result.choices, default=Result.OPEN, blank=True
    )
    labour_hours = models.DecimalField(
        _("labour hours"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("99"))],
    )
    labour_fee = models.DecimalField(
        _("labour fee"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    travel_fee = models.DecimalField(
        _("travel fee"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    other_fee = models.DecimalField(
        _("other fees"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    charge = models.CharField(
        _("charging"), max_length=10, choices=ChargeType.choices, default=ChargeType.CHARGED
    )
    signature = models.ImageField(
        _("customer's signature"), upload_to="signatures/%Y/%m/", blank=True
    )

    class Meta:
        ordering = ["checked_in_at", "id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")

    def __str__(self):
        return f"{self.ticket_id} #{self.round}"

    def save(self, *args, **kwargs):
        if self.pk:  # a new visit belongs to an open request
            refuse_if_verified(pk=self.ticket_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        refuse_if_verified(pk=self.ticket_id)
        return super().delete(*args, **kwargs)

    @property
    def total_fee(self):
        return self.labour_fee + self.travel_fee + self.other_fee

    @property
    def amount_due(self):
        return self.total_fee if self.charge == ChargeType.CHARGED else Decimal("0")


class PartLine(models.Model):
    """A part used on a visit (free text for now; the parts issue connects it to stock)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="parts"
    )
    name = models.CharField(_("part"), max_length=100)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")

    def __str__(self):
        return f"{self.name} × {self.quantity}"

    def save(self, *args, **kwargs):
        refuse_if_verified(visits=self.visit_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        refuse_if_verified(visits=self.visit_id)
        return super().delete(*args, **kwargs)


class VisitPhoto(models.Model):
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to="visits/%Y/%m/")
    taken_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return self.image.name


class Revisit(ChoiceLabels, models.Model):
    """A revisit call (回访) after the work was reported done."""

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        UNSATISFIED = "unsatisfied", _("Not satisfied")
        UNREACHABLE = "unreachable", _("Could not reach the customer")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="revisits"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revisit agent"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    # The revisit due time in force when the call was made (the ticket's own is cleared when the
    # revisit closes or reopens it): whether revisits are made in time (analytics).
    due = models.DateTimeField(_("revisit due"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="revisit_score_1_to_5",
            )
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.outcome}"
