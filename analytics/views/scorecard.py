"""The GB/T 27922 self-assessment pages: the assessments and the trend of their totals, a new
assessment for a period, scoring a draft (evidence notes and files), finalizing, an assessment's
page (level, areas, the items losing the most points; printable), and the items' weights.

Everyone with the reports' permission sees the assessments; scoring and changing the weights
needs analytics.assess_service.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from aftersales.lib.pagination import CappedPaginator
from aftersales.lib.private_media import private_file_response

from .. import scorecard
from ..models import Assessment, Evidence, ScoreItem
from ..models.scorecard import LEVEL_THRESHOLDS, Area, Awaits, Level, Metric
from ..reports import PALETTE, ReportForm, chart, query_of
from ..scorecard_forms import ItemForm, PeriodForm, ScoreForm, last_twelve_months
from .base import REPORTS, report_tabs

VIEW = "analytics.view_reports"
ASSESS = "analytics.assess_service"
# The trend shows this many of the latest final assessments.
TREND = 24
# Why an item that the system cannot measure yet is scored by hand.
AWAITS_NOTES = {
    Awaits.COMPLAINTS: _(
        "Scored by hand until the complaints module records when each complaint was handled."
    ),
    Awaits.PARTS: _("Scored by hand until the spare-parts module records stock and shortages."),
    Awaits.TRAINING: _(
        "Scored by hand: the engineers' profiles hold no training records yet (attach them)."
    ),
}
LEVEL_TONES = {
    Level.NONE: "danger",
    Level.QUALIFIED: "info",
    Level.THREE_STARS: "primary",
    Level.FOUR_STARS: "success",
    Level.FIVE_STARS: "success",
}


def _tabs(request):
    """The reports' tabs, keeping the period the other reports were showing."""
    return report_tabs(query_of(ReportForm(request.GET).scope()), "analytics:scorecard")


def _period(assessment):
    return "%s – %s" % (  # noqa: UP031 (two dates, no words to translate)
        date_format(assessment.period_start, "SHORT_DATE_FORMAT"),
        date_format(assessment.period_end, "SHORT_DATE_FORMAT"),
    )


def _levels():
    """[(label, threshold)] lowest first, for the scale and the chart's lines."""
    return [(Level(level).label, threshold) for threshold, level in reversed(LEVEL_THRESHOLDS)]


def _trend_chart():
    rows = list(
        Assessment.objects.final()
        .order_by("-period_end", "-id")
        .values("pk", "period_start", "period_end", "total")[:TREND]
    )
    rows.reverse()
    if not rows:
        return None
    labels = [date_format(r["period_end"], "YEAR_MONTH_FORMAT") for r in rows]
    spec = chart(
        "line",
        labels,
        [(_("Total"), [r["total"] for r in rows])],
        links=[reverse("analytics:scorecard_detail", args=[r["pk"]]) for r in rows],
    )
    options = spec["options"]
    # From 50 when every total is above it: the levels' lines (70 to 95) then stand apart.
    lowest = min(r["total"] for r in rows)
    options["yAxis"].update({"min": 50 if lowest >= 50 else 0, "max": 100})
    options["series"][0]["markLine"] = {
        "silent": True,
        "symbol": "none",
        "lineStyle": {"type": "dashed", "color": PALETTE[5]},
        "label": {"formatter": "{b}", "position": "insideEndTop"},
        "data": [{"name": str(label), "yAxis": float(t)} for label, t in _levels()],
    }
    return spec


@login_required
@permission_required(VIEW, raise_exception=True)
def assessment_list(request):
    assessments = Assessment.objects.select_related("created_by").order_by("-period_end", "-id")
    paginator = CappedPaginator(assessments, settings.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        {
            "assessment": a,
            "period": _period(a),
            "tone": LEVEL_TONES[Level(a.level)],
            "level": Level(a.level).label,
        }
        for a in page.object_list
    ]
    return render(
        request,
        "analytics/scorecard/assessment_list.html",
        {
            "tabs": _tabs(request),
            "rows": rows,
            "page_obj": page,
            "paginator": paginator,
            "trend": _trend_chart(),
            "levels": _levels(),
            "can_assess": request.user.has_perm(ASSESS),
        },
    )


@login_required
@permission_required(ASSESS, raise_exception=True)
def assessment_new(request):
    if request.method == "POST":
        form = PeriodForm(request.POST)
        if form.is_valid():
            try:
                assessment = scorecard.start_assessment(
                    request.user, form.cleaned_data["start"], form.cleaned_data["end"]
                )
            except scorecard.ScorecardError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("Assessment started; the measured items are scored. Score the others."),
                )
                return redirect("analytics:scorecard_edit", assessment.pk)
    else:
        start, end = last_twelve_months()
        form = PeriodForm(initial={"start": start, "end": end})
    items = list(ScoreItem.objects.filter(max_points__gt=0))
    return render(
        request,
        "analytics/scorecard/assessment_new.html",
        {"form": form, "items": _items_table(items), "tabs": _tabs(request)},
    )


def _how(row):
    """How an item (or an item's score) is scored, in words."""
    if row.metric:
        return Metric(row.metric).label
    return Metric.MANUAL.label


def _items_table(items):
    return [
        {
            "item": item,
            "area": Area(item.area).label,
            "how": _how(item),
            "awaits": AWAITS_NOTES.get(item.awaits, ""),
            "unit": _unit(item.metric),
        }
        for item in items
    ]


def _unit(metric):
    if not metric:
        return ""
    return "" if metric == Metric.SATISFACTION else "%"


def _scores(assessment):
    return list(
        assessment.scores.prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.order_by("id"))
        )
    )


def _score_rows(scores, forms=None):
    """[(area label, [row])] of an assessment's items in the standard's order."""
    by_area = {}
    for k, score in enumerate(scores):
        by_area.setdefault(score.area, []).append(
            {
                "score": score,
                "form": forms[k] if forms else None,
                "how": _how(score),
                "awaits": AWAITS_NOTES.get(score.awaits, ""),
                "unit": _unit(score.metric),
                # A measured item with nothing to measure in the period: scored by hand.
                "unmeasured": bool(score.metric) and score.value is None,
            }
        )
    return [(Area(area).label, by_area[area]) for area in Area if area in by_area]


def _assessment(pk):
    return get_object_or_404(Assessment.objects.select_related("created_by", "finalized_by"), pk=pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def assessment_detail(request, pk):
    assessment = _assessment(pk)
    scores = _scores(assessment)
    level = Level(assessment.level)
    return render(
        request,
        "analytics/scorecard/assessment_detail.html",
        {
            "assessment": assessment,
            "period": _period(assessment),
            "level": level.label,
            "tone": LEVEL_TONES[level],
            "levels": [
                (label, threshold, assessment.total >= threshold) for label, threshold in _levels()
            ],
            "areas": _score_rows(scores),
            "subtotals": scorecard.subtotals(scores),
            "next_steps": scorecard.next_steps(scores),
            "unscored": [s for s in scores if s.points is None],
            "can_assess": request.user.has_perm(ASSESS),
            "tabs": _tabs(request),
        },
    )


@login_required
@permission_required(ASSESS, raise_exception=True)
def assessment_edit(request, pk):
    assessment = _assessment(pk)
    if not assessment.is_draft:
        messages.info(request, _("This assessment is final; it can no longer be changed."))
        return redirect(assessment)
    scores = _scores(assessment)
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    forms = [ScoreForm(*data, score=score) for score in scores]
    if request.method == "POST":
        if all(form.is_valid() for form in forms):
            entries = {form.score.pk: form.entry() for form in forms}
            try:
                scorecard.save_draft(assessment.pk, request.user, entries)
            except scorecard.ScorecardError as error:
                messages.error(request, error.message)
                if not Assessment.objects.filter(pk=pk, state=Assessment.State.DRAFT).exists():
                    return redirect("analytics:scorecard_detail", pk)
            else:
                return _after_saving(request, assessment)
        else:
            messages.error(request, _("Please correct the errors below; nothing was saved."))
    return render(
        request,
        "analytics/scorecard/assessment_edit.html",
        {
            "assessment": assessment,
            "period": _period(assessment),
            "level": Level(assessment.level).label,
            "areas": _score_rows(scores, forms),
            "tabs": _tabs(request),
        },
    )


def _after_saving(request, assessment):
    """A saved draft: finalized when asked (if every item is scored), else back to it."""
    if "finalize" in request.POST:
        try:
            scorecard.finalize(assessment.pk, request.user)
        except scorecard.ScorecardError as error:
            messages.success(request, _("Draft saved."))
            messages.error(request, error.message)
        else:
            messages.success(request, _("The assessment is final."))
            return redirect(assessment)
    else:
        messages.success(request, _("Draft saved."))
    return redirect("analytics:scorecard_edit", assessment.pk)


@login_required
@permission_required(ASSESS, raise_exception=True)
@require_POST
def assessment_finalize(request, pk):
    assessment = _assessment(pk)
    try:
        scorecard.finalize(assessment.pk, request.user)
    except scorecard.ScorecardError as error:
        messages.error(request, error.message)
        if assessment.is_draft:
            return redirect("analytics:scorecard_edit", assessment.pk)
        return redirect(assessment)
    messages.success(request, _("The assessment is final."))
    return redirect(assessment)


@login_required
@permission_required(ASSESS, raise_exception=True)
@require_POST
def assessment_delete(request, pk):
    assessment = _assessment(pk)
    try:
        scorecard.delete_draft(assessment.pk, request.user)
    except scorecard.ScorecardError as error:
        messages.error(request, error.message)
        return redirect(assessment)
    messages.success(request, _("The draft was deleted."))
    return redirect("analytics:scorecard")


@login_required
@permission_required(VIEW, raise_exception=True)
@cache_control(private=True, max_age=3600)
def evidence_file(request, pk):
    """An evidence file, to those who may see the assessments: photos shown, PDFs downloaded
    (never rendered inline from our origin)."""
    evidence = get_object_or_404(Evidence, pk=pk)
    if evidence.kind == Evidence.Kind.PDF:
        return private_file_response(
            evidence.file.name,
            download_as=evidence.original_name,
            content_type="application/pdf",
        )
    return private_file_response(evidence.file.name, content_type="image/jpeg")


@login_required
@permission_required(ASSESS, raise_exception=True)
def item_list(request):
    """The items' points and targets; the points must add up to 100."""
    items = list(ScoreItem.objects.all())
    forms = [ItemForm(request.POST or None, item=item) for item in items]
    if request.method == "POST":
        if all(form.is_valid() for form in forms):
            try:
                scorecard.save_items(request.user, {f.item.pk: f.row() for f in forms})
            except scorecard.ScorecardError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("The scorecard's items were saved."))
                return redirect("analytics:scorecard_items")
        else:
            messages.error(request, _("Please correct the errors below; nothing was saved."))
    rows = _items_table(items)
    for row, form in zip(rows, forms, strict=True):
        row["form"] = form
    if request.method == "POST" and all(form.is_valid() for form in forms):
        total = sum(form.cleaned_data["max_points"] for form in forms)  # what was asked for
    else:
        total = sum(item.max_points for item in items)
    return render(
        request,
        "analytics/scorecard/item_list.html",
        {"rows": rows, "total": total, "tabs": _tabs(request)},
    )


REPORTS.append(("analytics:scorecard", _("Self-assessment")))
