"""The customer's own rating of the service, given on the tracking page (/t/<token>/)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ticket import Ticket

# A rating at or below this asks for a call: the revisit queue puts the request first (需回电).
NEEDS_CALL_SCORE = 2


class Rating(models.Model):
    """The customer's score (1–5) and comment for one processing round: the revisit's first
    answer (the revisit queue and form show it). Not a `Revisit`: nobody called, and the
    revisit figures count calls."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="ratings"
    )
    round = models.PositiveSmallIntegerField(_("processing round"))
    score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("customer's rating")
        verbose_name_plural = _("customers' ratings")
        constraints = [
            # Once per round, however many times the form is sent (tickets.services.rate_ticket
            # checks first, under the ticket's lock; this is the last word).
            models.UniqueConstraint(fields=["ticket", "round"], name="rating_once_per_round"),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.ticket_id} #{self.round}: {self.score}"

    @property
    def needs_call(self):
        return self.score <= NEEDS_CALL_SCORE
