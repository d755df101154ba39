"""The log of a service request: one row per action, who, when, from, to, why."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.lib.choices import ChoiceLabels

from .choices import State
from .ticket import Ticket

# Labels of every logged action, for the timeline.
ACTION_LABELS = {
    "enter": _("Entered"),
    "suspend": _("Suspended"),
    "resume": _("Resumed"),
    "assign": _("Assigned"),
    "unlock": _("Unlocked and reassigned"),
    "accept": _("Accepted by the engineer"),
    "decline": _("Declined by the engineer"),
    "depart": _("On the way to the customer"),
    "check_in": _("Checked in on site"),
    "resolve": _("Reported resolved"),
    "not_resolved": _("Reported not resolved"),
    "miss_requested_date": _("Requested date missed"),
    "lock_unassigned": _("Locked: not assigned by the requested date"),
    "close_satisfied": _("Revisit: satisfied"),
    "reopen_unsatisfied": _("Revisit: not satisfied"),
    "revisit_attempt": _("Revisit: customer not reached"),
    "rate": _("Rated by the customer"),
    "change_priority": _("Priority changed"),
    "replan": _("SLA due times re-planned after an agreement change"),
    "replan_calendar": _("SLA due times re-planned after a business calendar change"),
    "verify": _("Verified"),
    "send_back": _("Sent back for correction"),
    "correct": _("Corrected by the engineer"),
    "cancel": _("Cancelled"),
    "cancel_locked": _("Cancelled"),
    "send_tracking": _("Tracking link sent by SMS"),
    "customer_info": _("Information added by the customer"),
}

# Actions the customer takes on the tracking page: their rows name no actor, and are the
# customer's rather than the system's.
CUSTOMER_ACTIONS = {"rate"}


class TicketTransition(ChoiceLabels, models.Model):
    """One row per action on a ticket: who (empty: the system), when, from, to, why."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="log"
    )
    action = models.CharField(_("action"), max_length=30)
    source = models.CharField(_("from"), max_length=20, choices=State.choices, blank=True)
    target = models.CharField(_("to"), max_length=20, choices=State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        indexes = [models.Index(fields=["ticket", "at"], name="transition_ticket_at")]

    def __str__(self):
        return f"{self.ticket_id}: {self.source} → {self.target}"

    @property
    def label(self):
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def by_customer(self):
        return self.action in CUSTOMER_ACTIONS
