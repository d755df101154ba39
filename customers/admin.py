from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from .models import (
    Contact,
    Customer,
    Equipment,
    ExportJob,
    ImportJob,
    MaintenancePlan,
    ProductModel,
    ServiceAgreement,
    SlaTarget,
    Tag,
)
from .resources import ContactResource, CustomerResource, EquipmentResource, ProductModelResource


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0
    max_num = 4


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Customer)
class CustomerAdmin(ImportExportModelAdmin):
    resource_classes = [CustomerResource]
    list_display = ["code", "name", "kind", "level", "region", "phone", "created_at"]
    list_select_related = ["region"]
    list_filter = ["level", "kind", "region", "tags"]
    search_fields = ["code", "name", "phone", "contacts__name", "contacts__mobile"]
    autocomplete_fields = ["region", "tags"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(ImportExportModelAdmin):
    resource_classes = [ContactResource]
    list_display = ["name", "customer", "title", "mobile", "email", "is_primary"]
    list_select_related = ["customer"]
    list_filter = ["is_primary"]
    search_fields = ["name", "mobile", "customer__name", "customer__code"]
    autocomplete_fields = ["customer"]


@admin.register(ProductModel)
class ProductModelAdmin(ImportExportModelAdmin):
    resource_classes = [ProductModelResource]
    list_display = ["code", "name", "line", "warranty_months"]
    list_select_related = ["line"]
    list_filter = ["line"]
    search_fields = ["code", "name"]


@admin.register(Equipment)
class EquipmentAdmin(ImportExportModelAdmin):
    resource_classes = [EquipmentResource]
    list_display = [
        "serial_no",
        "product_model",
        "customer",
        "install_date",
        "warranty_end",
        "status",
    ]
    list_select_related = ["product_model", "customer"]
    list_filter = ["status", "product_model__line"]
    search_fields = ["serial_no", "customer__name", "customer__code", "product_model__code"]
    autocomplete_fields = ["customer", "product_model"]
    readonly_fields = ["qr_token"]
    date_hierarchy = "install_date"


@admin.register(ServiceAgreement)
class ServiceAgreementAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "name",
        "customer",
        "type",
        "charging_method",
        "start_date",
        "end_date",
        "is_default",
    ]
    list_select_related = ["customer"]
    list_filter = ["type", "charging_method", "is_default"]
    search_fields = ["number", "name", "customer__name", "customer__code"]
    autocomplete_fields = ["customer", "equipment"]
    inlines = [SlaTargetInline]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Jobs are created by uploads and moved by the worker: read-only here."""

    list_display = ["created_at", "user", "kind", "file_name", "state", "total_rows", "bad_rows"]
    list_select_related = ["user"]
    list_filter = ["state", "kind"]
    search_fields = ["file_name", "user__username"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MaintenancePlan)
class MaintenancePlanAdmin(admin.ModelAdmin):
    """The office manages plans on their own pages (customers.views.plans); this is the
    administrators' view of the table."""

    list_display = [
        "name",
        "kind",
        "equipment",
        "agreement",
        "service_point",
        "next_date",
        "lead_days",
        "active",
    ]
    list_filter = ["kind", "active", "service_point"]
    search_fields = ["name", "equipment__serial_no", "agreement__number"]
    list_select_related = ["equipment", "agreement", "service_point"]
    raw_id_fields = ["equipment", "agreement"]
    date_hierarchy = "next_date"


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Jobs are created by the export page and moved by the worker: read-only here."""

    list_display = ["created_at", "user", "kind", "format", "state", "total_rows", "expires_at"]
    list_select_related = ["user"]
    list_filter = ["state", "kind", "format"]
    search_fields = ["user__username"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
