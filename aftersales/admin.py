from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import EngineerProfile, Heartbeat, Region, ServicePoint, User


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


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent"]
    list_select_related = ["parent"]
    list_filter = ["parent"]
    search_fields = ["code", "name"]


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "address", "phone", "manager", "is_active"]
    list_select_related = ["region", "manager"]
    list_filter = ["is_active", "region"]
    search_fields = ["code", "name", "address"]
    autocomplete_fields = ["region", "manager"]


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
