"""Requests that other systems reported through the JSON API (tickets.api)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ticket import Ticket


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
