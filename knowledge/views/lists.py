"""The knowledge base's managed lists: fault codes per product line, the synonym list that
search applies to queries, and repair templates. Everyone on staff reads fault codes and
repair templates; service managers keep all three (create, edit, delete)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aftersales.lib.filters import query_string, style_filter_form
from aftersales.lib.pagination import CappedPaginator
from aftersales.models import ProductLine

from ..forms import FaultCodeForm, FaultCodeListParams, RepairTemplateForm, SynonymForm
from ..models import FaultCode, RepairTemplate, Synonym


def _require(user, permission):
    if not user.has_perm(permission):
        raise PermissionDenied


def _page(request, rows):
    paginator = CappedPaginator(rows, settings.PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return {
        "rows": list(page_obj.object_list),
        "page_obj": page_obj,
        "paginator": paginator,
        "query_string": query_string(request),
    }


def _form_page(request, title, form, back):
    return render(
        request,
        "aftersales/form_page.html",
        {"title": title, "form": form, "back": back},
    )


def _edit(request, *, form_class, instance, permission, title, back, saved, before_save=None):
    _require(request.user, permission)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        if before_save is not None:
            before_save(obj)
        obj.save()
        messages.success(request, saved % {"name": str(obj)})
        return redirect(back)
    if request.method == "POST":
        messages.error(request, _("Please correct the errors below; nothing was saved."))
    return _form_page(request, title, form, back)


# -- Fault codes -------------------------------------------------------------------------------


@login_required
def faultcode_list(request):
    _require(request.user, "knowledge.view_faultcode")
    lines = list(ProductLine.objects.values_list("pk", "name"))
    form = FaultCodeListParams(request.GET, lines=lines)
    params = form.values()
    codes = FaultCode.objects.select_related("product_line").annotate(
        article_count=Count("articles")
    )
    if line := params.get("product_line"):
        codes = codes.filter(product_line=line)
    if q := params.get("q"):
        codes = codes.filter(Q(code__icontains=q) | Q(meaning__icontains=q))
    style_filter_form(form)
    return render(
        request,
        "knowledge/faultcode_list.html",
        {"form": form, **_page(request, codes.order_by("product_line__code", "code"))},
    )


@login_required
def faultcode_create(request):
    return _edit(
        request,
        form_class=FaultCodeForm,
        instance=None,
        permission="knowledge.add_faultcode",
        title=_("New fault code"),
        back=reverse("knowledge:faultcode_list"),
        saved=_("Fault code %(name)s saved."),
    )


@login_required
def faultcode_edit(request, pk):
    return _edit(
        request,
        form_class=FaultCodeForm,
        instance=get_object_or_404(FaultCode, pk=pk),
        permission="knowledge.change_faultcode",
        title=_("Edit fault code"),
        back=reverse("knowledge:faultcode_list"),
        saved=_("Fault code %(name)s saved."),
    )


@require_POST
@login_required
def faultcode_delete(request, pk):
    _require(request.user, "knowledge.delete_faultcode")
    with transaction.atomic():
        code = get_object_or_404(FaultCode.objects.select_for_update(), pk=pk)
        # Articles name it: deleting it would silently change them.
        if code.articles.exists():
            messages.error(
                request,
                _("Fault code %(code)s is named by articles; remove it from them first.")
                % {"code": code.code},
            )
        else:
            code.delete()
            messages.success(request, _("Fault code %(code)s deleted.") % {"code": code.code})
    return redirect("knowledge:faultcode_list")


# -- Synonyms ----------------------------------------------------------------------------------


@login_required
def synonym_list(request):
    _require(request.user, "knowledge.view_synonym")
    return render(
        request,
        "knowledge/synonym_list.html",
        _page(request, Synonym.objects.select_related("updated_by").order_by("word")),
    )


def _stamp(request):
    def stamp(synonym):
        synonym.updated_by = request.user
        synonym.updated_at = timezone.now()

    return stamp


@login_required
def synonym_create(request):
    return _edit(
        request,
        form_class=SynonymForm,
        instance=None,
        permission="knowledge.add_synonym",
        title=_("New synonym"),
        back=reverse("knowledge:synonym_list"),
        saved=_("Synonym %(name)s saved."),
        before_save=_stamp(request),
    )


@login_required
def synonym_edit(request, pk):
    return _edit(
        request,
        form_class=SynonymForm,
        instance=get_object_or_404(Synonym, pk=pk),
        permission="knowledge.change_synonym",
        title=_("Edit synonym"),
        back=reverse("knowledge:synonym_list"),
        saved=_("Synonym %(name)s saved."),
        before_save=_stamp(request),
    )


@require_POST
@login_required
def synonym_delete(request, pk):
    _require(request.user, "knowledge.delete_synonym")
    synonym = get_object_or_404(Synonym, pk=pk)
    synonym.delete()
    messages.success(request, _("Synonym %(name)s deleted.") % {"name": synonym.word})
    return redirect("knowledge:synonym_list")


# -- Repair templates --------------------------------------------------------------------------

TEMPLATE_SAVED = gettext_lazy("Repair template %(name)s saved.")


@login_required
def template_list(request):
    _require(request.user, "knowledge.view_repairtemplate")
    templates = RepairTemplate.objects.select_related("product_line").order_by("-active", "name")
    return render(request, "knowledge/template_list.html", _page(request, templates))


@login_required
def template_create(request):
    return _edit(
        request,
        form_class=RepairTemplateForm,
        instance=None,
        permission="knowledge.add_repairtemplate",
        title=_("New repair template"),
        back=reverse("knowledge:template_list"),
        saved=str(TEMPLATE_SAVED),
    )


@login_required
def template_edit(request, pk):
    return _edit(
        request,
        form_class=RepairTemplateForm,
        instance=get_object_or_404(RepairTemplate, pk=pk),
        permission="knowledge.change_repairtemplate",
        title=_("Edit repair template"),
        back=reverse("knowledge:template_list"),
        saved=str(TEMPLATE_SAVED),
    )


@require_POST
@login_required
def template_delete(request, pk):
    _require(request.user, "knowledge.delete_repairtemplate")
    template = get_object_or_404(RepairTemplate, pk=pk)
    template.delete()
    messages.success(request, _("Repair template %(name)s deleted.") % {"name": template.name})
    return redirect("knowledge:template_list")
