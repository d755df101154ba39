"""The service knowledge base (SPEC §4 knowledge/): articles of symptoms, causes and solutions per
product line, their revisions, fault codes, the synonym list that search applies to queries,
repair templates for the visit record, and what tickets tell about the articles (feedback).

Search (knowledge.search) reads the segmented `search_*` columns that `knowledge.search.index`
fills on save: in PostgreSQL a generated `tsvector` column over them (added by migration, GIN
index); in SQLite an FTS5 table kept by triggers. Resolved tickets get the same in `TicketText`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from aftersales.lib.choices import ChoiceLabels
from tickets.models import ServiceType


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class FaultCode(models.Model):
    """A product line's fault code (故障代码): the code as the unit shows it, normalised (`E1`,
    never `e-1` or `Ｅ１`: knowledge.search.normalise_code) and its meaning."""

    product_line = models.ForeignKey(
        "aftersales.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="fault_codes",
    )
    code = models.CharField(_("fault code"), max_length=20)
    meaning = models.CharField(_("meaning"), max_length=200)

    class Meta:
        ordering = ["product_line__code", "code"]
        verbose_name = _("fault code")
        verbose_name_plural = _("fault codes")
        constraints = [
            models.UniqueConstraint(
                fields=["product_line", "code"],
                name="fault_code_unique_per_line",
                violation_error_message=_("This product line has this fault code already."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.meaning}"


class Article(ChoiceLabels, ConcurrentTransitionMixin, models.Model):
    """A knowledge article: what the customer sees (symptom), why (cause), what to do (solution,
    one step per line), with fault codes, parts, tools and the hours it takes."""

    product_line = models.ForeignKey(
        "aftersales.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="articles",
        null=True,
        blank=True,
        help_text=_("Empty: applies to every product line."),
    )
    product_models = models.ManyToManyField(
        "customers.ProductModel",
        verbose_name=_("product models"),
        blank=True,
        related_name="articles",
    )
    problem_type = models.ForeignKey(
        "tickets.ProblemType",
        verbose_name=_("problem type"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
    )
    title = models.CharField(pgettext_lazy("knowledge article", "title"), max_length=200)
    symptom = models.TextField(_("symptom"))
    cause = models.TextField(_("cause"), blank=True)
    solution = models.TextField(_("solution"), help_text=_("One step per line."))
    fault_codes = models.ManyToManyField(
        FaultCode, verbose_name=_("fault codes"), blank=True, related_name="articles"
    )
    parts = models.TextField(_("required parts"), blank=True, help_text=_("One per line."))
    tools = models.TextField(_("required tools"), blank=True, help_text=_("One per line."))
    labour_hours = models.DecimalField(
        _("estimated labour hours"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    tags = models.CharField(
        _("tags"), max_length=200, blank=True, help_text=_("Separated by spaces or commas.")
    )
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="articles",
    )
    source_ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("from service request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The number of the latest revision (ArticleRevision); raised on every save of the content.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    # Counters, raised with UPDATE … + 1: opened, used on a request, helped, did not help.
    views = models.PositiveIntegerField(_("views"), default=0, editable=False)
    uses = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    helped = models.PositiveIntegerField(_("helped"), default=0, editable=False)
    failed = models.PositiveIntegerField(_("did not help"), default=0, editable=False)
    # Segmented text for search (knowledge.search.index): words separated by spaces. Title,
    # fault codes and models weigh most, then the symptom, then the rest.
    search_title = models.TextField(default="", editable=False)
    search_symptom = models.TextField(default="", editable=False)
    search_body = models.TextField(default="", editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        permissions = [
            ("propose_article", _("Can write and propose knowledge articles")),
            ("review_article", _("Can review, publish and archive knowledge articles")),
        ]
        indexes = [
            models.Index(
                fields=["state", "product_line", "-updated_at"], name="article_state_line"
            ),
            models.Index(fields=["state", "-updated_at"], name="article_state_updated"),
            models.Index(
                fields=["-failed"],
                condition=Q(failed__gt=0),
                name="article_often_failing",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("knowledge:detail", args=[self.pk])

    @property
    def steps(self):
        return [line.strip() for line in self.solution.splitlines() if line.strip()]

    @property
    def success_rate(self):
        """Share of "helped" among the feedback, or None without feedback."""
        total = self.helped + self.failed
        return self.helped / total if total else None

    # Lifecycle (knowledge.services performs these and logs them) -----------------------------

    @transition(field=state, source=State.DRAFT, target=State.REVIEW)
    def submit(self):
        pass

    @transition(field=state, source=State.REVIEW, target=State.DRAFT)
    def send_back(self):
        pass

    @transition(field=state, source=[State.DRAFT, State.REVIEW], target=State.PUBLISHED)
    def publish(self):
        self.published_at = timezone.now()

    @transition(
        field=state, source=[State.DRAFT, State.REVIEW, State.PUBLISHED], target=State.ARCHIVED
    )
    def archive(self):
        pass

    @transition(field=state, source=State.ARCHIVED, target=State.DRAFT)
    def restore_draft(self):
        pass


class ArticleRevision(models.Model):
    """Every saved version of an article's content, kept: `data` holds the fields as saved
    (knowledge.services.REVISED_FIELDS), so any two can be compared and an old one restored."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("version"))
    data = models.JSONField(_("content"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(_("saved at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["article", "-number"]
        verbose_name = _("article revision")
        verbose_name_plural = _("article revisions")
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_number_unique"),
        ]

    def __str__(self):
        return f"{self.article_id} v{self.number}"


class ArticleTransition(ChoiceLabels, models.Model):
    """The article's lifecycle log: who moved it from where to where, when and why."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="log"
    )
    action = models.CharField(_("action"), max_length=20)
    source = models.CharField(_("from"), max_length=12, choices=State.choices, blank=True)
    target = models.CharField(_("to"), max_length=12, choices=State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        ordering = ["article", "at", "id"]
        verbose_name = _("article log entry")
        verbose_name_plural = _("article log")

    def __str__(self):
        return f"{self.article_id} {self.action}"


class Attachment(models.Model):
    """An image or PDF manual of an article (checked by content, not by name)."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        PDF = "pdf", _("PDF")

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="knowledge/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["article", "uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.name


class Synonym(models.Model):
    """A word of the managed synonym list: the words customers and engineers type for the same
    thing (渗水, 滴水) are searched as `word` (漏水) too."""

    word = models.CharField(_("word"), max_length=40, unique=True)
    variants = models.CharField(
        _("said also as"), max_length=400, help_text=_("Separated by spaces or commas.")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["word"]
        verbose_name = _("synonym")
        verbose_name_plural = _("synonyms")

    def __str__(self):
        return self.word


class RepairTemplate(models.Model):
    """A repair template (维修模板): the usual work steps and parts of a service type on a
    product line; the engineer picks one on the visit record and it fills the work and parts."""

    name = models.CharField(_("name"), max_length=100)
    service_type = models.CharField(
        _("service type"),
        max_length=20,
        choices=ServiceType.choices,
        blank=True,
        help_text=_("Empty: every service type."),
    )
    product_line = models.ForeignKey(
        "aftersales.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="repair_templates",
        null=True,
        blank=True,
        help_text=_("Empty: every product line."),
    )
    steps = models.TextField(_("work steps"), help_text=_("One step per line."))
    parts = models.TextField(
        _("typical parts"), blank=True, help_text=_("One per line: name, then × and a quantity.")
    )
    labour_hours = models.DecimalField(
        _("labour hours"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("repair template")
        verbose_name_plural = _("repair templates")

    def __str__(self):
        return self.name


class Feedback(models.Model):
    """Whether an article solved a request's problem, said by the engineer or dispatcher."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="feedback"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("service request"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    helped = models.BooleanField(_("solved it"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [
            # One say per person and request (changing one's mind updates it).
            models.UniqueConstraint(
                fields=["article", "user", "ticket"],
                condition=Q(ticket__isnull=False),
                name="feedback_once_per_ticket",
            ),
        ]

    def __str__(self):
        return f"{self.article_id} {self.helped}"


class TicketText(models.Model):
    """A resolved request's segmented problem and work done, for "similar past requests": one
    row per request (written when it is processed), so the search is an index lookup in
    this table rather than a scan of the requests."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("service request"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    product_line = models.ForeignKey(
        "aftersales.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"))
    search_problem = models.TextField(default="")
    search_work = models.TextField(default="")

    class Meta:
        verbose_name = _("resolved request text")
        verbose_name_plural = _("resolved request texts")

    def __str__(self):
        return str(self.ticket_id)
