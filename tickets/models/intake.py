"""What comes in from outside: the photos customers attach from their phones, the requests from
the portal that name no unit the system could find ("needs matching") until a dispatcher links
them to a customer and unit (`tickets.intake`), and the requests other systems reported through
the JSON API (`IntakeEvent`, tickets.api)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.lib.choices import ChoiceLabels
from aftersales.models import new_token

from .choices import TimeWindow
from .ticket import ProblemType, Ticket


class Intake(ChoiceLabels, models.Model):
    """A request from the customer portal that is not yet a service request: the customer proved
    their mobile number, but the serial number and mobile named no known unit and contact.

    Its token is the customer's tracking link from the start; matching gives the new service
    request the same token, so the link the customer holds keeps working."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Needs matching")
        MATCHED = "matched", _("Matched")
        REJECTED = "rejected", _("Rejected")

    token = models.CharField(max_length=43, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    contact_name = models.CharField(_("contact name"), max_length=60)
    mobile = models.CharField(_("mobile"), max_length=11)
    company = models.CharField(_("company"), max_length=100, blank=True)
    serial_no = models.CharField(_("serial number (as given)"), max_length=60, blank=True)
    product = models.CharField(_("product (as described)"), max_length=100, blank=True)
    address = models.CharField(_("service address"), max_length=200, blank=True)
    problem_type = models.ForeignKey(
        ProblemType,
        verbose_name=_("problem type"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.TextField(_("problem description"))
    requested_date = models.DateField(_("customer's requested date"), null=True, blank=True)
    requested_window = models.CharField(
        _("preferred time"), max_length=10, choices=TimeWindow.choices, blank=True
    )
    ticket = models.OneToOneField(
        Ticket,
        verbose_name=_("service request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="intake",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("portal request")
        verbose_name_plural = _("portal requests")
        indexes = [
            # The dispatcher's "needs matching" queue, oldest first.
            models.Index(
                fields=["created_at", "id"],
                name="intake_waiting",
                condition=Q(status="waiting"),
            )
        ]

    def __str__(self):
        return f"{self.contact_name} · {self.created_at:%Y-%m-%d %H:%M}"


class CustomerPhoto(models.Model):
    """A photo the customer attached when reporting (to a request, or to a portal request until
    it is matched)."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("service request"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="customer_photos",
    )
    intake = models.ForeignKey(
        Intake,
        verbose_name=_("portal request"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photos",
    )
    image = models.ImageField(_("photo"), upload_to="customer-photos/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("customer's photo")
        verbose_name_plural = _("customer's photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(ticket__isnull=False) | Q(intake__isnull=False),
                name="customerphoto_belongs",
            )
        ]

    def __str__(self):
        return self.image.name


class IntakeEvent(models.Model):
    """One request created through the API: which key created it and, when the caller gave
    one, the caller's `event_id` (an alarm's id), which makes a repeated call return the
    request while it is open instead of creating a second (`services.enter_api_ticket`)."""

    api_key = models.ForeignKey(
        "aftersales.ApiKey",
        verbose_name=_("API key"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    event_id = models.CharField(_("event id"), max_length=100, blank=True)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("service request"),
        on_delete=models.CASCADE,
        related_name="intake_events",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("API intake")
        verbose_name_plural = _("API intakes")
        indexes = [
            # The repeated call's look-up: this key's event, the newest request first.
            models.Index(
                fields=["api_key", "event_id", "-id"],
                name="intake_key_event",
                condition=~Q(event_id=""),
            ),
        ]

    def __str__(self):
        return f"{self.event_id or '—'} → {self.ticket_id}"
