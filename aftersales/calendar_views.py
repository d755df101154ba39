"""The business calendars' pages (organisation settings): the list, a year's month grids, and
the edits of hours, days, copies and completions (aftersales.calendars does the work)."""

from datetime import date
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS as MONTH_NAMES
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from . import calendars
from .access import (
    PermissionMixin,
)
from .forms import (
    FIRST_YEAR,
    LAST_YEAR,
    CalendarCopyForm,
    CalendarCreateForm,
    CalendarDaysForm,
    CalendarHoursForm,
    CalendarYearForm,
    CalendarYearParams,
)
from .lib.business_time import WEEKDAYS
from .lib.pagination import CappedPaginator
from .models import (
    BusinessCalendar,
)


def _visible_uses(user, found):
    """The calendar's `Use`s, their names left out for people who may not see those objects."""
    return [use if user.has_perm(use.permission) else use._replace(samples=[]) for use in found]


class CalendarListView(PermissionMixin, ListView):
    """Every business calendar: its hours, how far its years reach, and who counts in it."""

    permission_required = "aftersales.view_businesscalendar"
    template_name = "aftersales/calendar_list.html"
    paginator_class = CappedPaginator

    def get_paginate_by(self, queryset):
        return settings.PAGE_SIZE

    def get_queryset(self):
        return BusinessCalendar.objects.order_by("name", "pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        shown = list(ctx["object_list"])
        found = calendars.uses(shown, today)
        ctx["rows"] = [
            {
                "calendar": calendar,
                "coverage": calendar.coverage(today),
                "uses": _visible_uses(self.request.user, found.get(calendar.pk, [])),
                "hours": calendars.weekly_summary(calendar),
                "years": calendars.year_spans(calendar.years),
            }
            for calendar in shown
        ]
        ctx["warn_days"] = settings.CALENDAR_WARN_DAYS
        return ctx


# The month grids' column heads, Monday first.
WEEKDAY_HEADS = [
    pgettext_lazy("calendar column: Monday", "Mo"),
    pgettext_lazy("calendar column: Tuesday", "Tu"),
    pgettext_lazy("calendar column: Wednesday", "We"),
    pgettext_lazy("calendar column: Thursday", "Th"),
    pgettext_lazy("calendar column: Friday", "Fr"),
    pgettext_lazy("calendar column: Saturday", "Sa"),
    pgettext_lazy("calendar column: Sunday", "Su"),
]


@login_required
@permission_required("aftersales.add_businesscalendar", raise_exception=True)
def calendar_create(request):
    """A new calendar (for a region or customer with other hours), then its year page."""
    form = CalendarCreateForm(request.POST or None)
    if form.is_valid():
        calendar = form.save()
        messages.success(request, _("Calendar “%(name)s” created.") % {"name": calendar.name})
        return redirect(calendar.get_absolute_url())
    return render(
        request,
        "aftersales/form_page.html",
        {"form": form, "title": _("New business calendar"), "back": reverse("org:calendar_list")},
    )


def _calendar(code):
    return get_object_or_404(BusinessCalendar, code=code)


def _months(calendar, year):
    return [(MONTH_NAMES[month], weeks) for month, weeks in calendars.month_grids(calendar, year)]


def _year_page(request, calendar, year, *, days_form=None, copy_form=None, status=200):
    today = timezone.localdate()
    can_change = request.user.has_perm("aftersales.change_businesscalendar")
    found = calendars.uses([calendar], today, samples=20).get(calendar.pk, [])
    days_form = days_form or CalendarDaysForm(
        initial={"kind": calendars.HOLIDAY, "first": date(year, 1, 1)}
    )
    copy_form = copy_form or CalendarCopyForm(initial={"source": year, "target": year + 1})
    weekly = [
        (label, calendar.weekly_hours.get(code, []))
        for code, label in zip(WEEKDAYS, WEEKDAY_NAMES.values(), strict=True)
    ]
    context = {
        "calendar": calendar,
        "year": year,
        "previous_year": year - 1 if year > FIRST_YEAR else None,
        "next_year": year + 1 if year < LAST_YEAR else None,
        "complete": year in calendar.years,
        "coverage": calendar.coverage(today),
        # Called by the template only when its cached grids are missing.
        "months": partial(_months, calendar, year),
        "weekday_heads": WEEKDAY_HEADS,
        "runs": calendars.runs(calendar, year),
        "weekly": weekly,
        "years": calendars.year_spans(calendar.years),
        "uses": _visible_uses(request.user, found),
        "today": today,
        "can_change": can_change,
        "days_form": days_form,
        "copy_form": copy_form,
        "HOLIDAY": calendars.HOLIDAY,
        "WORKDAY": calendars.WORKDAY,
    }
    return render(request, "aftersales/calendar_year.html", context, status=status)


@login_required
@permission_required("aftersales.view_businesscalendar", raise_exception=True)
def calendar_year(request, code):
    """One year of a calendar as twelve month grids, with its holidays and make-up days (and,
    for people who may change it, the forms that change them)."""
    calendar = _calendar(code)
    year = CalendarYearParams(request.GET).values().get("year") or timezone.localdate().year
    return _year_page(request, calendar, year)


def _refused(request, message):
    messages.error(request, message)


@require_POST
@login_required
@permission_required("aftersales.change_businesscalendar", raise_exception=True)
def calendar_days(request, code):
    """Add (with a name) or remove holidays or make-up working days over a range of dates."""
    calendar = _calendar(code)
    form = CalendarDaysForm(request.POST)
    year = CalendarYearParams(request.POST).values().get("year") or timezone.localdate().year
    if not form.is_valid():
        _refused(request, _("Please correct the errors below; nothing was changed."))
        return _year_page(request, calendar, year, days_form=form, status=400)
    data = form.cleaned_data
    holiday = data["kind"] == calendars.HOLIDAY
    try:
        if data["action"] == form.ADD:
            calendar, count = calendars.mark_days(
                calendar,
                request.user,
                kind=data["kind"],
                first=data["first"],
                last=data["last"],
                name=data["name"],
            )
            message = (
                ngettext(
                    "%(count)d holiday marked: %(name)s.",
                    "%(count)d holidays marked: %(name)s.",
                    count,
                )
                if holiday
                else ngettext(
                    "%(count)d make-up working day marked: %(name)s.",
                    "%(count)d make-up working days marked: %(name)s.",
                    count,
                )
            )
        else:
            calendar, count = calendars.clear_days(
                calendar, request.user, kind=data["kind"], first=data["first"], last=data["last"]
            )
            message = (
                ngettext("%(count)d holiday removed.", "%(count)d holidays removed.", count)
                if holiday
                else ngettext(
                    "%(count)d make-up working day removed.",
                    "%(count)d make-up working days removed.",
                    count,
                )
            )
    except calendars.CalendarRefused as refused:
        _refused(request, str(refused))
        return _year_page(request, calendar, year, days_form=form, status=400)
    messages.success(request, message % {"count": count, "name": data["name"]})
    return redirect(calendars.year_url(calendar, data["first"].year))


@require_POST
@login_required
@permission_required("aftersales.change_businesscalendar", raise_exception=True)
def calendar_copy(request, code):
    """Copy a year's holidays and make-up days to another year, as a start."""
    calendar = _calendar(code)
    form = CalendarCopyForm(request.POST)
    year = CalendarYearParams(request.POST).values().get("source") or timezone.localdate().year
    if not form.is_valid():
        _refused(request, _("Please correct the errors below; nothing was changed."))
        return _year_page(request, calendar, year, copy_form=form, status=400)
    source, target = form.cleaned_data["source"], form.cleaned_data["target"]
    try:
        calendar, copied = calendars.copy_year(
            calendar,
            request.user,
            source=source,
            target=target,
            replace=form.cleaned_data["replace"],
        )
    except calendars.CalendarRefused as refused:
        _refused(request, str(refused))
        return _year_page(request, calendar, year, copy_form=form, status=400)
    messages.success(
        request,
        _(
            "%(holidays)s holidays and %(workdays)s make-up working days copied from %(source)s "
            "to %(target)s. Move the holidays that follow the lunar calendar, check the "
            "make-up days against the State Council's notice, then mark %(target)s complete."
        )
        % {
            "holidays": copied.holidays,
            "workdays": copied.workdays,
            "source": source,
            "target": target,
        },
    )
    if copied.skipped:
        messages.warning(
            request,
            _("Not copied (29 February, or make-up days on working days of %(year)s): %(days)s.")
            % {"year": target, "days": calendars.names_of_days(copied.skipped, limit=10)},
        )
    return redirect(calendars.year_url(calendar, target))


@require_POST
@login_required
@permission_required("aftersales.change_businesscalendar", raise_exception=True)
def calendar_complete(request, code):
    """Mark a year complete (all its days entered from its notice), or not complete."""
    calendar = _calendar(code)
    form = CalendarYearForm(request.POST)
    if not form.is_valid():
        _refused(
            request,
            _("Choose a year from %(first)s to %(last)s; nothing was changed.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
        return redirect(calendar)
    year, complete = form.cleaned_data["year"], form.cleaned_data["complete"]
    try:
        calendar = calendars.set_year_complete(calendar, request.user, year=year, complete=complete)
    except calendars.CalendarRefused as refused:
        _refused(request, str(refused))
        return redirect(calendars.year_url(calendar, year))
    if complete:
        messages.success(request, _("%(year)s marked complete.") % {"year": year})
    else:
        messages.success(request, _("%(year)s marked not complete.") % {"year": year})
    return redirect(calendars.year_url(calendar, year))


@login_required
@permission_required("aftersales.change_businesscalendar", raise_exception=True)
def calendar_hours(request, code):
    """The weekly working hours and those of make-up working days."""
    calendar = _calendar(code)
    form = CalendarHoursForm(request.POST or None, calendar=calendar)
    if request.method == "POST":
        if form.is_valid():
            try:
                calendar = calendars.save_hours(
                    calendar,
                    request.user,
                    weekly=form.weekly(),
                    workday_hours=form.cleaned_data["workday_hours"],
                )
            except calendars.CalendarRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request, _("Working hours of %(name)s saved.") % {"name": calendar}
                )
                return redirect(calendar)
        messages.error(request, _("Please correct the errors below; nothing was changed."))
    return render(
        request,
        "aftersales/form_page.html",
        {
            "form": form,
            "title": _("Working hours of %(name)s") % {"name": calendar},
            "back": calendar.get_absolute_url(),
        },
        status=400 if form.errors else 200,
    )
