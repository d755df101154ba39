"""The background jobs of master-data files: imports (checked, confirmed, then imported by a
Celery task) and exports (written by one); models of the customers app (customers.models
imports them)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.roles import Role


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Importers see their own jobs; administrators see everyone's."""
        if not user.has_perm("customers.import_masterdata"):
            return self.none()
        if user.has_role(Role.ADMINISTRATOR):
            return self
        return self.filter(user=user)


class ImportJob(models.Model):
    """A large master-data import, checked and then imported by a Celery task.

    States: queued → checking → checked → (confirmed by the user) importing → done; checking
    and importing may end in failed. Tasks move a job with compare-and-set updates
    (`filter(pk=..., state=old).update(...)`), so a task delivered twice does nothing the
    second time; the progress counters are written with plain updates from the worker.
    The hourly cleanup (imports.expire_import_jobs) fails a job whose worker stopped making
    progress, and expires a checked job nobody confirmed (its file deleted).
    """

    class Kind(models.TextChoices):
        # The keys of customers.kinds.RESOURCES.
        CUSTOMERS = "customers", _("Customers")
        CONTACTS = "contacts", _("Contacts")
        PRODUCTS = "products", _("Products")
        EQUIPMENT = "equipment", _("Equipment")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        # Checked but not confirmed in time (settings.IMPORT_UNCONFIRMED_HOURS): file deleted.
        EXPIRED = "expired", _("Expired")

    # States in which a worker still has something to do: the job page keeps polling.
    RUNNING_STATES = [State.QUEUED, State.CHECKING, State.IMPORTING]
    FINISHED_STATES = [State.DONE, State.FAILED, State.EXPIRED]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    kind = models.CharField(_("data"), max_length=20, choices=Kind.choices)
    file_name = models.CharField(_("file"), max_length=200)
    # Path in default_storage, chosen by the server; the file is deleted when the job ends.
    file_path = models.CharField(_("stored file"), max_length=200, editable=False)
    # The uploader's language: the worker writes the report's messages in it.
    language = models.CharField(_("language"), max_length=10, default="zh-hans", editable=False)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.QUEUED, editable=False
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    bad_rows = models.PositiveIntegerField(_("rows with problems"), default=0)
    # ImportReport.as_dict(): counts, the bad rows (at most MAX_LISTED_PROBLEMS), a preview.
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The last sign of life: creation, a worker taking the job or writing progress, the check's
    # end, the confirmation. The hourly cleanup measures staleness from it.
    progress_at = models.DateTimeField(_("last progress"), default=timezone.now, editable=False)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="importjob_user_created"),
            # The hourly cleanup's scan: only jobs not finished yet.
            models.Index(
                fields=["progress_at"],
                condition=Q(state__in=["queued", "checking", "checked", "importing"]),
                name="importjob_unfinished_progress",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name}"

    def get_absolute_url(self):
        return reverse("customers:import_job", args=[self.pk])

    @property
    def is_running(self):
        """A worker still has work to do (including a confirmed import not yet started)."""
        return self.state in self.RUNNING_STATES or (
            self.state == self.State.CHECKED and self.confirmed_at is not None
        )

    @property
    def can_confirm(self):
        return self.state == self.State.CHECKED and not self.bad_rows and not self.confirmed_at

    @property
    def percent(self):
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.rows_done / self.total_rows))


class ExportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Exporters see their own exports; administrators see everyone's."""
        if not user.has_perm("customers.export_masterdata"):
            return self.none()
        if user.has_role(Role.ADMINISTRATOR):
            return self
        return self.filter(user=user)


class ExportJob(models.Model):
    """A master-data export written to a file by a Celery task, downloaded when ready.

    States: queued → running → done (the file kept until `expires_at`) → expired (the file
    deleted); queued or running may end in failed. The task takes a job with a compare-and-set
    update (`filter(pk=..., state=QUEUED).update(...)`), so a task delivered twice does nothing
    the second time. The hourly cleanup (customers.exports.expire_export_jobs) fails a job
    whose worker stopped making progress and expires done ones.
    """

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel"
        CSV = "csv", "CSV"

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Exporting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        # Downloadable for settings.EXPORT_KEEP_HOURS; then the file is deleted.
        EXPIRED = "expired", _("Expired")

    # States in which a worker still has something to do: the job page keeps polling.
    RUNNING_STATES = [State.QUEUED, State.RUNNING]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="export_jobs",
    )
    kind = models.CharField(_("data"), max_length=20, choices=ImportJob.Kind.choices)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # The language of the person who asked: the file's column titles and labels are in it.
    language = models.CharField(_("language"), max_length=10, default="zh-hans", editable=False)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.QUEUED, editable=False
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    # Path in default_storage, chosen by the server; set when the file is complete.
    file_path = models.CharField(_("stored file"), max_length=200, blank=True, editable=False)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When the file is deleted (set when it is done).
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # The last sign of life: creation, the worker taking the job or writing progress. The
    # hourly cleanup measures staleness from it.
    progress_at = models.DateTimeField(_("last progress"), default=timezone.now, editable=False)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="exportjob_user_created"),
            # The hourly cleanup's scans: jobs a worker should be moving, files to delete.
            models.Index(
                fields=["progress_at"],
                condition=Q(state__in=["queued", "running"]),
                name="exportjob_running_progress",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(state="done"), name="exportjob_done_expires"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.get_format_display()}"

    def get_absolute_url(self):
        return reverse("customers:export_job", args=[self.pk])

    @property
    def is_running(self):
        return self.state in self.RUNNING_STATES

    @property
    def percent(self):
        if self.state == self.State.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.rows_done / self.total_rows))

    @property
    def file_name(self):
        """The name the download is saved under: the data, the time it was asked for."""
        stamp = timezone.localtime(self.created_at).strftime("%Y%m%d-%H%M")
        return f"{self.kind}-{stamp}.{self.format}"
