from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    IntakeEvent,
    PartLine,
    ProblemType,
    Rating,
    Revisit,
    ServiceReport,
    Ticket,
    TicketTransition,
    Visit,
    VisitPhoto,
)


class TransitionInline(admin.TabularInline):
    """The ticket's history, read-only: the log is written by the service layer only."""

    model = TicketTransition
    extra = 0
    can_delete = False
    fields = ["at", "action", "source", "target", "actor", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VisitInline(admin.StackedInline):
    model = Visit
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["round", "engineer", "checked_in_at", "finished_at", "result", "work_done"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class IntakeInline(admin.TabularInline):
    """Which API key reported the request, for which of the caller's events (read-only)."""

    model = IntakeEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "api_key", "event_id"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "state",
        "priority",
        "service_type",
        "customer",
        "engineer",
        "requested_date",
        "created_at",
    ]
    list_filter = ["state", "priority", "service_type", "channel", "problem_type", "service_point"]
    search_fields = ["number", "contact_phone", "customer__name", "customer__code"]
    list_select_related = ["customer", "engineer"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    # The state changes only through the closed loop's actions, never by editing it here.
    readonly_fields = [
        "number",
        "state",
        "round",
        "unresolved_rounds",
        "state_reason",
        "engineer",
        "assigned_at",
        "accepted_at",
        "checked_in_at",
        "processed_at",
        "closed_at",
        "verified_at",
        "locked_at",
        "cancelled_at",
        "created_by",
        "created_at",
    ]
    raw_id_fields = ["customer", "contact", "equipment", "product"]
    inlines = [TransitionInline, VisitInline, IntakeInline]

    def has_add_permission(self, request):
        return False  # requests are entered on the dispatcher desk (numbering, counters, log)


class ReadOnly:
    """Records of the closed loop, written only by tickets.services with a log row (a correction
    after a send-back, never after 核销): the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PartLineInline(ReadOnly, admin.TabularInline):
    model = PartLine
    extra = 0


class VisitPhotoInline(ReadOnly, admin.TabularInline):
    model = VisitPhoto
    extra = 0


@admin.register(Visit)
class VisitAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["ticket", "round", "engineer", "checked_in_at", "result", "labour_hours"]
    list_filter = ["result", "charge"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "engineer"]
    raw_id_fields = ["ticket"]
    inlines = [PartLineInline, VisitPhotoInline]


@admin.register(ProblemType)
class ProblemTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "lines", "active", "ticket_count"]
    list_filter = ["active", "product_lines"]
    search_fields = ["code", "name"]
    readonly_fields = ["ticket_count"]
    filter_horizontal = ["product_lines"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("product_lines")

    @admin.display(description=_("product lines"))
    def lines(self, obj):
        return ", ".join(str(line) for line in obj.product_lines.all()) or _("All")


@admin.register(Revisit)
class RevisitAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["ticket", "at", "agent", "outcome", "score"]
    list_filter = ["outcome", "score"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "agent"]
    raw_id_fields = ["ticket"]


@admin.register(Rating)
class RatingAdmin(ReadOnly, admin.ModelAdmin):
    """Customers' ratings from the tracking page, as given: nobody edits them."""

    list_display = ["ticket", "round", "score", "at"]
    list_filter = ["score"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]


@admin.register(IntakeEvent)
class IntakeEventAdmin(ReadOnly, admin.ModelAdmin):
    """Requests other systems reported through the API: find one by the caller's event id."""

    list_display = ["created_at", "api_key", "event_id", "ticket"]
    list_select_related = ["api_key", "ticket"]
    list_filter = ["api_key"]
    search_fields = ["event_id", "ticket__number"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(ServiceReport)
class ServiceReportAdmin(ReadOnly, admin.ModelAdmin):
    """The stored PDFs of service reports, rendered by the worker or a download (tickets.reports);
    the files themselves are sent by the report pages, after their access checks."""

    list_display = ["ticket", "audience", "rendered_at", "render_ms"]
    list_filter = ["audience"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]
    fields = ["ticket", "audience", "digest", "rendered_at", "render_ms"]
