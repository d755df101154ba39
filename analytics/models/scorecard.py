"""The service self-assessment modelled on GB/T 27922 (商品售后服务评价体系).

`ScoreItem` is the configurable scorecard: items in the standard's three areas (服务体系, 商品服务,
顾客服务) whose points add up to 100; an item is scored by hand or measured from the system's own
figures (full points at or above a target, none at or below a floor, linear between).

An `Assessment` scores every item for a period. Its `ItemScore` rows copy what the item was when
the assessment was made (area, name, points, metric, target, floor), so that a later change of
weights leaves past assessments as they were scored; each carries the evidence note and its
attachments (`Evidence`, files under private media served through an access-checked view).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The items' points always add up to this (the standard's 100-point scale).
TOTAL_POINTS = Decimal(100)


class Area(models.TextChoices):
    SYSTEM = "system", _("Service system")
    GOODS = "goods", _("Goods service")
    CUSTOMER = "customer", _("Customer service")


class Level(models.TextChoices):
    NONE = "", _("Below the standard")
    QUALIFIED = "qualified", _("Qualified")
    THREE_STARS = "three_stars", _("Three stars")
    FOUR_STARS = "four_stars", _("Four stars")
    FIVE_STARS = "five_stars", _("Five stars")


# The standard's levels: the lowest total that reaches each (达标 ≥ 70, 三星 ≥ 80, 四星 ≥ 90,
# 五星 ≥ 95), highest first.
LEVEL_THRESHOLDS = (
    (Decimal(95), Level.FIVE_STARS),
    (Decimal(90), Level.FOUR_STARS),
    (Decimal(80), Level.THREE_STARS),
    (Decimal(70), Level.QUALIFIED),
)


def level_for(total):
    """The level a total reaches (Level.NONE below 70)."""
    for threshold, level in LEVEL_THRESHOLDS:
        if total >= threshold:
            return level
    return Level.NONE


class Metric(models.TextChoices):
    """How an item is scored: by hand, or from one of the system's figures (a rate in per cent,
    or the satisfaction average 1–5)."""

    MANUAL = "", _("Scored by hand")
    RESPONSE = "response", _("Response in time")
    ARRIVAL = "arrival", _("On-site arrival in time")
    RESOLUTION = "resolution", _("Resolved in time")
    FIRST_TIME_FIX = "first_time_fix", _("First-time fix")
    REVISIT_COVERAGE = "revisit_coverage", _("Revisit coverage")
    REVISITS_ON_TIME = "revisits_on_time", _("Revisits in time")
    SATISFACTION = "satisfaction", _("Satisfaction (1–5)")


class Awaits(models.TextChoices):
    """A figure the system does not record yet: the item is scored by hand until it does."""

    NOTHING = "", _("Nothing")
    COMPLAINTS = "complaints", _("Complaint handling on time")
    PARTS = "parts", _("Parts availability")
    TRAINING = "training", _("Engineers' training records")


class ScoreItem(models.Model):
    area = models.CharField(_("area"), max_length=10, choices=Area.choices)
    code = models.CharField(_("code"), max_length=10, unique=True)
    # Seeded in Chinese, as the standard names them; kept as data (like problem types).
    name = models.CharField(_("name"), max_length=60)
    criteria = models.TextField(_("what earns the points"), blank=True)
    max_points = models.DecimalField(_("points"), max_digits=4, decimal_places=1)
    metric = models.CharField(
        _("measured by"), max_length=20, choices=Metric.choices, default=Metric.MANUAL, blank=True
    )
    # In the metric's unit: per cent for rates, 1–5 for satisfaction.
    target = models.DecimalField(
        _("full points at"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    floor = models.DecimalField(
        _("no points at"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    awaits = models.CharField(
        _("awaits"), max_length=20, choices=Awaits.choices, default=Awaits.NOTHING, blank=True
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_points__gte=0, max_points__lte=100),
                name="scoreitem_points_range",
            ),
            # A measured item has its target above its floor; a manual one has neither.
            models.CheckConstraint(
                condition=(
                    models.Q(metric="", target__isnull=True, floor__isnull=True)
                    | (~models.Q(metric="") & models.Q(floor__lt=models.F("target"), floor__gte=0))
                ),
                name="scoreitem_measure",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def measured(self):
        return bool(self.metric)


class AssessmentQuerySet(models.QuerySet):
    def final(self):
        return self.filter(state=Assessment.State.FINAL)


class Assessment(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINAL = "final", _("Final")

    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.DRAFT, editable=False
    )
    total = models.DecimalField(_("total"), max_digits=4, decimal_places=1, default=0)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finalized by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("self-assessment")
        verbose_name_plural = _("self-assessments")
        permissions = [("assess_service", _("Can score the service self-assessment"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="assessment_period",
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0, total__lte=100), name="assessment_total_range"
            ),
            models.CheckConstraint(
                condition=models.Q(state="draft") | models.Q(finalized_at__isnull=False),
                name="assessment_final_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "period_end"], name="assessment_state_end")]

    def __str__(self):
        return f"{self.period_start} – {self.period_end}"

    def get_absolute_url(self):
        return reverse("analytics:scorecard_detail", args=[self.pk])

    @property
    def is_draft(self):
        return self.state == self.State.DRAFT


class ItemScore(models.Model):
    """One item of an assessment, as the item was then, and its points (None: not scored yet)."""

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="scores"
    )
    item = models.ForeignKey(
        ScoreItem,
        verbose_name=_("item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    area = models.CharField(_("area"), max_length=10, choices=Area.choices)
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=60)
    criteria = models.TextField(_("what earns the points"), blank=True)
    max_points = models.DecimalField(_("points"), max_digits=4, decimal_places=1)
    metric = models.CharField(
        _("measured by"), max_length=20, choices=Metric.choices, default="", blank=True
    )
    target = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    floor = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    awaits = models.CharField(max_length=20, choices=Awaits.choices, default="", blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # The figure over the period (per cent or 1–5); None when the period has nothing to measure.
    value = models.DecimalField(_("measured"), max_digits=6, decimal_places=2, null=True)
    points = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True, blank=True)
    note = models.TextField(_("evidence"), blank=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "code"], name="itemscore_code"),
            models.CheckConstraint(
                condition=models.Q(points__isnull=True)
                | models.Q(points__gte=0, points__lte=models.F("max_points")),
                name="itemscore_points_range",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.points}/{self.max_points}"

    @property
    def measured(self):
        """Scored from the figures: a measured item whose period had something to measure."""
        return bool(self.metric) and self.value is not None

    @property
    def lost(self):
        return self.max_points - (self.points or 0)


def evidence_path(instance, filename):
    # The name is the server's own (scorecard_forms), under the month it was uploaded.
    return timezone.now().strftime("scorecard/%Y/%m/") + filename


class Evidence(models.Model):
    """A file backing an item's score: a re-encoded photo or a checked PDF."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        PDF = "pdf", _("PDF file")

    score = models.ForeignKey(
        ItemScore, verbose_name=_("item score"), on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    # The name the file had on the uploader's computer, shown as the link's text only.
    original_name = models.CharField(_("file name"), max_length=120)
    size = models.PositiveIntegerField(_("size"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("analytics:scorecard_file", args=[self.pk])
