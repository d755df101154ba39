from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import notifications
from .models import (
    ApiKey,
    BusinessCalendar,
    Delivery,
    EngineerProfile,
    Heartbeat,
    Notification,
    ProductLine,
    Region,
    ServicePoint,
    User,
    WebhookChannel,
)
from .signals import calendar_changed


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "mobile", "email", "roles", "is_active", "is_staff"]
    list_filter = ["groups", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "display_name", "mobile", "email"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Service department"), {"fields": ["display_name", "mobile"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("Roles"))
    def roles(self, obj):
        return "、".join(str(r) for r in obj.roles_display)


@admin.register(ProductLine)
class ProductLineAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent"]
    list_select_related = ["parent"]
    list_filter = ["parent"]
    search_fields = ["code", "name"]


class WebhookChannelInline(admin.TabularInline):
    model = WebhookChannel
    fields = ["kind", "url", "secret", "events", "is_active"]
    extra = 0


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "address", "phone", "manager", "is_active"]
    list_select_related = ["region", "manager"]
    list_filter = ["is_active", "region"]
    search_fields = ["code", "name", "address"]
    autocomplete_fields = ["region", "manager"]
    inlines = [WebhookChannelInline]


@admin.register(EngineerProfile)
class EngineerProfileAdmin(admin.ModelAdmin):
    list_display = ["employee_no", "user", "phone", "service_point", "level", "availability"]
    list_select_related = ["user", "service_point"]
    list_filter = ["availability", "level", "service_point", "skills"]
    search_fields = ["employee_no", "user__username", "user__display_name", "phone"]
    autocomplete_fields = ["user", "service_point"]
    filter_horizontal = ["skills"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run", "runs"]
    readonly_fields = ["name", "last_run", "runs"]


@admin.register(WebhookChannel)
class WebhookChannelAdmin(admin.ModelAdmin):
    list_display = ["service_point", "kind", "events", "is_active"]
    list_select_related = ["service_point"]
    list_filter = ["kind", "is_active"]
    search_fields = ["service_point__name", "service_point__code", "events"]
    autocomplete_fields = ["service_point"]
    actions = ["send_test_message"]

    @admin.action(description=_("Send a test message"))
    def send_test_message(self, request, queryset):
        with transaction.atomic():
            for channel in queryset.select_related("service_point"):
                notifications.send_test_message(channel)
        self.message_user(request, _("Test messages queued."))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "event", "title", "read_at"]
    list_select_related = ["user"]
    list_filter = ["event", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "key", "user__username", "user__display_name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["key", "created_at", "about_type", "about_id"]
    date_hierarchy = "created_at"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "masked_target",
        "key",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["key", "target"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "channel",
        "masked_target",
        "webhook",
        "payload",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
    ]
    exclude = ["target"]
    actions = ["send_again"]

    @admin.display(description=_("to"))
    def masked_target(self, obj):
        return obj.masked_target

    @admin.action(description=_("Send failed deliveries again"))
    def send_again(self, request, queryset):
        ids = list(queryset.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True))
        with transaction.atomic():
            notifications.retry_failed(ids)
        message = ngettext(
            "%(count)d delivery queued again.", "%(count)d deliveries queued again.", len(ids)
        )
        self.message_user(request, message % {"count": len(ids)})

    def has_add_permission(self, request):
        return False


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """A new calendar is named here (its hours as JSON, checked by business_time on save); its
    hours, days and complete years are then kept on its page (org/calendars/<code>/), whose
    edits lock the row and re-plan the SLA clocks counting in it."""

    list_display = ["name", "code", "time_zone"]
    search_fields = ["name", "code"]
    KEPT_ON_THE_PAGE = ["weekly_hours", "holidays", "workdays", "workday_hours", "years"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["years"]
        return [*self.KEPT_ON_THE_PAGE, "day_names", "calendar_page"]

    def get_exclude(self, request, obj=None):
        return ["day_names"] if obj is None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "time_zone" in form.changed_data:
            # Hours are wall-clock times of the zone: the clocks counting in it move.
            calendar_changed.send(
                sender=BusinessCalendar, calendar_id=obj.pk, actor_id=request.user.pk
            )

    @admin.display(description=_("calendar page"))
    def calendar_page(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.name)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are issued, rotated and revoked on their page (org/api-keys/), which
    shows a new key once; the admin has no secret to show and makes none."""

    list_display = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["created_by"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "note"]
    fields = [
        "name",
        "note",
        "prefix",
        "scopes",
        "created_by",
        "created_at",
        "rotated_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # what a key created keeps naming it
