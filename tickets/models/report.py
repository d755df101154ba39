"""The electronic service report (电子服务报告) as stored: one PDF per request and audience."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .ticket import Ticket


class ServiceReport(models.Model):
    """The last rendered PDF of a request's service report for one audience.

    `digest` sums up everything that copy shows (tickets.reports.report_facts): the PDF is
    rendered again only when it changes (a corrected visit record, 核销 showing the customer the
    fees), never for a change the report does not show. The file is private (under MEDIA_ROOT,
    sent only by the report views).
    """

    class Audience(models.TextChoices):
        STAFF = "staff", _("Staff")
        CUSTOMER = "customer", _("Customer")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("service request"), on_delete=models.CASCADE, related_name="reports"
    )
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices)
    digest = models.CharField(_("content digest"), max_length=64)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/", max_length=200)
    rendered_at = models.DateTimeField(_("rendered at"))
    render_ms = models.PositiveIntegerField(_("rendering time (ms)"))

    class Meta:
        verbose_name = _("service report")
        verbose_name_plural = _("service reports")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "audience"], name="service_report_once")
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.audience}"
