"""What every filtered, paginated list page shares: styled filters, pager links that keep them."""

from django import forms
from django.conf import settings


def style_filter_form(form):
    """Bootstrap's small controls on a filter form; choosing in a select submits the form."""
    for field in form.fields.values():
        css = (
            "form-select form-select-sm"
            if isinstance(field.widget, forms.Select)
            else "form-control form-control-sm"
        )
        field.widget.attrs.setdefault("class", css)
        if isinstance(field.widget, forms.Select):
            field.widget.attrs["data-autosubmit"] = ""
    return form


def query_string(request, param="page"):
    """The page's GET query without `param` (the page number), urlencoded: what the pager's
    links carry along (a page with two lists keeps the other list's page)."""
    query = request.GET.copy()
    query.pop(param, None)
    return query.urlencode()


class FilteredListMixin:
    """For a list view (django-filter's FilterView or a ListView): pages of
    settings.PAGE_SIZE, the filter form styled, and `query_string` in the context (for
    templates/includes/pagination.html).
    """

    def get_paginate_by(self, queryset):
        # Read per request, not at import time (settings can change under tests).
        return self.paginate_by or settings.PAGE_SIZE

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if "filter" in ctx:
            style_filter_form(ctx["filter"].form)
        ctx["query_string"] = query_string(self.request)
        return ctx
