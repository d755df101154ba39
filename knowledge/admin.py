"""The knowledge base in Django's admin: articles are read here and changed on their own pages
(knowledge.services keeps revisions, the log and the search columns); the managed lists are
plain CRUD."""

from django.contrib import admin

from .models import (
    Article,
    ArticleRevision,
    ArticleTransition,
    Attachment,
    FaultCode,
    Feedback,
    RepairTemplate,
    Synonym,
)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransitionInline(_ReadOnlyInline):
    model = ArticleTransition
    fields = ["at", "action", "source", "target", "actor", "reason"]
    readonly_fields = fields


class RevisionInline(_ReadOnlyInline):
    model = ArticleRevision
    fields = ["number", "saved_at", "author", "note"]
    readonly_fields = fields


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    fields = ["name", "kind", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "product_line", "state", "version", "views", "helped", "failed"]
    list_filter = ["state", "product_line"]
    list_select_related = ["product_line"]
    search_fields = ["title", "symptom"]
    inlines = [AttachmentInline, RevisionInline, TransitionInline]

    # Saved through knowledge.services only (revisions, log, search columns).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FaultCode)
class FaultCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "meaning", "product_line"]
    list_filter = ["product_line"]
    list_select_related = ["product_line"]
    search_fields = ["code", "meaning"]


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ["word", "variants", "updated_at"]
    search_fields = ["word", "variants"]
    readonly_fields = ["updated_by", "updated_at"]


@admin.register(RepairTemplate)
class RepairTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "service_type", "product_line", "active"]
    list_filter = ["active", "service_type", "product_line"]
    list_select_related = ["product_line"]
    search_fields = ["name", "steps"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["article", "ticket", "user", "helped", "at"]
    list_filter = ["helped"]
    list_select_related = ["article", "ticket", "user"]
    raw_id_fields = ["article", "ticket", "user"]

    def has_change_permission(self, request, obj=None):
        return False
