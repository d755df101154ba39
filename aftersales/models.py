import hashlib
import json
import secrets
from datetime import date, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .lib.business_time import CalendarError, WorkCalendar
from .lib.validators import validate_cn_mobile
from .roles import Role


class User(AbstractUser):
    """A person who signs in. Roles are auth groups named after `Role` values."""

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    mobile = models.CharField(
        _("mobile"), max_length=11, blank=True, validators=[validate_cn_mobile]
    )
    # The language the person last chose for the pages; notifications are written in it.
    # Empty: the site's (LANGUAGE_CODE).
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return user_name(self.display_name, self.first_name, self.last_name, self.username)

    @property
    def role_codes(self):
        # Cached per instance (templates and access checks ask many times per request) and, for
        # active users, between requests with their permissions (aftersales.caching).
        if not hasattr(self, "_role_codes"):
            if self.is_active and self.pk:
                from .caching import auth_facts

                self._role_codes = auth_facts(self)["roles"]
            else:
                self._role_codes = frozenset(self.groups.values_list("name", flat=True))
        return self._role_codes

    def has_role(self, *roles):
        if self.is_superuser:
            return True
        return bool(self.role_codes & {str(r) for r in roles})

    @property
    def roles_display(self):
        return [Role(code).label for code in sorted(self.role_codes) if code in Role.values]


def user_name(display_name, first_name, last_name, username):
    """How pages name a user (User.__str__), from the four columns: for lists that read them
    without building users."""
    return display_name or f"{first_name} {last_name}".strip() or username


class Region(models.Model):
    """A sales/service region (大区 / 省 / 市), a managed short list used by filters."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name


class ServicePoint(models.Model):
    """A service point (服务网点): a branch that engineers work from."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="service_points"
    )
    address = models.CharField(_("address"), max_length=200)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    manager = models.ForeignKey(
        User,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_service_points",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service point")
        verbose_name_plural = _("service points")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:servicepoint_edit", args=[self.pk])


class ProductLine(models.Model):
    """A line of the company's products (空调, 净水器, 电梯 …): engineers are skilled in lines,
    and every product model (customers) belongs to one."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")

    def __str__(self):
        return self.name


class EngineerProfile(models.Model):
    """What dispatch needs to know about a field engineer."""

    class Level(models.IntegerChoices):
        JUNIOR = 1, _("Junior")
        INTERMEDIATE = 2, _("Intermediate")
        SENIOR = 3, _("Senior")
        EXPERT = 4, _("Expert")

    class Availability(models.TextChoices):
        ON_DUTY = "on_duty", _("On duty")
        ON_LEAVE = "on_leave", _("On leave")

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="engineer_profile"
    )
    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    phone = models.CharField(_("mobile"), max_length=11, validators=[validate_cn_mobile])
    service_point = models.ForeignKey(
        ServicePoint,
        verbose_name=_("service point"),
        on_delete=models.PROTECT,
        related_name="engineers",
    )
    skills = models.ManyToManyField(
        ProductLine,
        verbose_name=_("skills (product lines)"),
        blank=True,
        related_name="engineers",
    )
    level = models.PositiveSmallIntegerField(
        _("level"), choices=Level.choices, default=Level.JUNIOR
    )
    availability = models.CharField(
        _("availability"),
        max_length=10,
        choices=Availability.choices,
        default=Availability.ON_DUTY,
        db_index=True,
    )

    class Meta:
        ordering = ["employee_no"]
        verbose_name = _("engineer")
        verbose_name_plural = _("engineers")

    def __str__(self):
        return str(self.user)

    def get_absolute_url(self):
        return reverse("org:engineer_edit", args=[self.pk])


def _check_time_zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(tz)s” is not a known time zone."), params={"tz": value}
        ) from None


class Coverage(NamedTuple):
    """How far a calendar's holidays reach from a given day (`BusinessCalendar.coverage`).

    state: ALWAYS (no dated days: the same every year), OK, SOON (within
        CALENDAR_WARN_DAYS of its end) or OUT (the day's own year is not complete).
    until: the last day of the complete years that run on from the day's year (None: OUT).
    next_year: the first year to enter (None: ALWAYS).
    """

    ALWAYS = "always"
    OK = "ok"
    SOON = "soon"
    OUT = "out"

    state: str
    until: date | None = None
    days_left: int | None = None
    next_year: int | None = None

    @property
    def needs_work(self):
        return self.state in (self.SOON, self.OUT)


class BusinessCalendar(models.Model):
    """Working hours, holidays and make-up days that SLA clocks count in (SPEC §3).

    Holidays and make-up days are dated, so a calendar that has them covers the years that are
    entered in full (`years`, marked on its page once the State Council's notice is in) and
    runs out after the last of them: the status page and a daily check warn before it does.
    Edited through `aftersales.calendars` (its pages: org/calendars/).
    """

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=40, default="Asia/Shanghai", validators=[_check_time_zone]
    )
    # {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...}; a missing day is closed.
    weekly_hours = models.JSONField(_("weekly hours"), default=dict)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    workdays = models.JSONField(_("make-up working days"), default=list, blank=True)
    workday_hours = models.JSONField(_("hours on make-up days"), default=list, blank=True)
    # [2025, 2026]: the years whose holidays and make-up days are all entered.
    years = models.JSONField(_("complete years"), default=list, blank=True)
    # {"2027-02-06": "春节"}: what each holiday or make-up day is for.
    day_names = models.JSONField(_("names of the days"), default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:calendar_year", args=[self.code])

    @property
    def is_default(self):
        """The calendar of agreements that name none (settings.SLA_DEFAULT_CALENDAR)."""
        return self.code == settings.SLA_DEFAULT_CALENDAR

    @property
    def is_perpetual(self):
        """No dated days and no complete year: the same every year, nothing runs out."""
        return not (self.holidays or self.workdays or self.years)

    def _valid_time_zone(self):
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return False
        return True

    @property
    def fingerprint(self):
        """A digest of the days and hours: what cached renderings of the calendar depend on."""
        content = json.dumps([self.as_dict(), self.day_names, self.years], sort_keys=True)
        return hashlib.sha256(content.encode()).hexdigest()[:20]

    def as_dict(self):
        return {
            "tz": self.time_zone,
            "weekly": self.weekly_hours,
            "holidays": self.holidays,
            "workdays": self.workdays,
            "workday_hours": self.workday_hours,
        }

    @cached_property
    def calendar(self):
        """The `WorkCalendar` for business-time arithmetic (built once per instance: an edit
        reaches every request that loads the row afterwards)."""
        return WorkCalendar.from_dict(self.as_dict())

    def coverage(self, today):
        """Whether the complete years reach far enough past `today` (a `Coverage`)."""
        if self.is_perpetual:
            return Coverage(Coverage.ALWAYS)
        years = {int(year) for year in self.years}
        if today.year not in years:
            return Coverage(Coverage.OUT, next_year=today.year)
        last = today.year
        while last + 1 in years:
            last += 1
        until = date(last, 12, 31)
        days_left = (until - today).days
        state = Coverage.SOON if days_left <= settings.CALENDAR_WARN_DAYS else Coverage.OK
        return Coverage(state, until, days_left, last + 1)

    def clean(self):
        if not self._valid_time_zone():
            return  # the field's own message says so (_check_time_zone)
        try:
            WorkCalendar.from_dict(self.as_dict())
        except (CalendarError, ValueError, TypeError, AttributeError) as error:
            raise ValidationError(
                _("The calendar is not valid: %(error)s"), params={"error": error}
            ) from None


class Heartbeat(models.Model):
    """The last time a periodic background job ran; shows the timers are alive."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    last_run = models.DateTimeField(_("last run"))
    runs = models.PositiveBigIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return self.name

    @property
    def is_recent(self):
        return timezone.now() - self.last_run < timedelta(minutes=3)


def new_token():
    """An unguessable URL token (128 bits)."""
    return secrets.token_urlsafe(16)


# Notifications (in-app, e-mail, group-robot webhooks, SMS). `aftersales.notifications` writes
# them; `aftersales.tasks.deliver` sends the outbox.


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One in-app message for one person (the bell). `key` makes writing it idempotent."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(_("event"), max_length=50)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # What it is about (a service request, a complaint …), whatever app it belongs to.
    about_type = models.ForeignKey(
        ContentType,
        verbose_name=_("about"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    about_id = models.PositiveBigIntegerField(_("about (id)"), null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    # What happened, once: "breach:42:response". The same key never reaches a person twice.
    key = models.CharField(_("key"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user"),
        ]
        indexes = [
            # The bell's unread count and the list page, newest first.
            models.Index(
                fields=["user", "read_at", "-created_at"], name="notification_user_unread"
            ),
            models.Index(fields=["user", "-created_at"], name="notification_user_newest"),
        ]

    def __str__(self):
        return self.title


class WebhookChannel(models.Model):
    """A group robot (企业微信 / 钉钉 / 飞书) that hears about one service point's events."""

    class Kind(models.TextChoices):
        WECOM = "wecom", _("WeChat Work group robot")
        DINGTALK = "dingtalk", _("DingTalk group robot")
        FEISHU = "feishu", _("Feishu group robot")

    service_point = models.ForeignKey(
        ServicePoint,
        verbose_name=_("service point"),
        on_delete=models.CASCADE,
        related_name="webhook_channels",
    )
    kind = models.CharField(_("platform"), max_length=10, choices=Kind.choices)
    url = models.URLField(
        _("webhook address"),
        max_length=500,
        help_text=_("The robot's webhook address, as the group settings show it."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk and Feishu only, when the robot's signature check is on."),
    )
    events = models.CharField(
        _("events"),
        max_length=500,
        blank=True,
        help_text=_("Event codes separated by commas or spaces; empty: every event."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["service_point", "pk"]
        verbose_name = _("webhook channel")
        verbose_name_plural = _("webhook channels")

    def __str__(self):
        return f"{self.service_point} · {self.get_kind_display()}"

    @property
    def event_codes(self):
        return frozenset(self.events.replace(",", " ").replace("，", " ").split())

    def wants(self, event):
        codes = self.event_codes
        return not codes or event in codes


class DeliveryQuerySet(models.QuerySet):
    def due(self, before):
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=before)


class Delivery(models.Model):
    """The outbox: one message to one address over one channel, sent by a worker, once."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # The e-mail address, the webhook address or the mobile number.
    target = models.CharField(_("to"), max_length=500)
    webhook = models.ForeignKey(
        WebhookChannel,
        verbose_name=_("webhook channel"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    # What is sent: {"subject", "body"} for e-mail, the platform's JSON body for a webhook,
    # {"text"} for SMS.
    payload = models.JSONField(_("message"), default=dict)
    key = models.CharField(_("key"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            # Never twice to the same address for the same event. The key leads, so that
            # looking rows up by key uses this index too.
            models.UniqueConstraint(
                fields=["key", "channel", "target"], name="delivery_once_per_target"
            ),
        ]
        indexes = [
            # The every-minute sweep for pending rows whose worker message was lost.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="delivery_pending_due",
            ),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.masked_target}"

    @property
    def masked_target(self):
        """The address without a webhook's query string, which carries the robot's token."""
        if self.channel != self.Channel.WEBHOOK:
            return self.target
        parts = urlsplit(self.target)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "…" if parts.query else "", ""))


# The customer's doors (public pages): counted attempts and SMS verification codes.


class Throttle(models.Model):
    """How many times a key (a hashed IP or mobile number with its purpose) was used in one fixed
    window: counted by one atomic upsert (`aftersales.throttle.hit`), in the database, so the
    limits hold with Redis stopped and across every web process."""

    key = models.CharField(max_length=80)
    period_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "period_start"], name="throttle_once")
        ]
        indexes = [models.Index(fields=["period_start"], name="throttle_period")]

    def __str__(self):
        return f"{self.key} @ {self.period_start:%Y-%m-%d %H:%M}: {self.hits}"


class PhoneCode(models.Model):
    """A one-time code sent by SMS to prove a person holds a mobile number
    (`aftersales.verification`). Only a keyed hash of the code is stored."""

    mobile = models.CharField(_("mobile"), max_length=11)
    purpose = models.CharField(max_length=20)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["mobile", "purpose", "-created_at"], name="phonecode_mobile")
        ]
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")

    def __str__(self):
        return f"{self.purpose} {self.mobile[:3]}****{self.mobile[-4:]}"


# Keys of the JSON API (/api/v1/): `aftersales.apikeys` issues, rotates and checks them.


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """The key of one outside system (an IoT platform, the ERP, a WeChat service account) to the
    JSON API, limited to its scopes.

    The key itself (`ask_<prefix>_<secret>`) is shown once, when it is issued or rotated; only
    its SHA-256 digest is kept. The prefix is not secret: it finds the row and tells keys apart
    in lists and logs. A revoked key stays, so that what it created still names it.
    """

    name = models.CharField(_("name"), max_length=60, unique=True)
    note = models.TextField(
        _("integration note"),
        blank=True,
        help_text=_("Which system uses the key, who runs it, how to reach them."),
    )
    prefix = models.CharField(_("key prefix"), max_length=8, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    # Scope codes ("requests:create"); the apps name theirs (their plugin.py: API_SCOPES).
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    rotated_at = models.DateTimeField(_("rotated at"), null=True, blank=True)
    # Kept to the minute: written at most once a minute however often the key is used.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return self.name

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def masked(self):
        """How lists show the key: its prefix, the secret left out."""
        return f"ask_{self.prefix}_…"
