"""The GB/T 27922 self-assessment: measuring items from the figures, totals and levels, and its
writes (start an assessment, save a draft, finalize, delete a draft, change the items' weights).

Measured items read the period's figures through `analytics.figures` and `analytics.metrics`,
never the raw tables: a rate in per cent (response, arrival and resolution in time, first-time
fix, revisit coverage, revisits in time) or the satisfaction average (1–5). An item earns its
full points at or above its target, none at or below its floor, and a straight-line share
between (rounded to 0.1 point). A period with nothing to measure leaves the item to be scored by
hand.

Each write runs in one transaction on the assessment's row, locked (two managers saving the same
draft at once: the second waits and sees the first's state); a refused action raises
`ScorecardError` with a translated message and changes nothing.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import figures, metrics
from .models import Assessment, Evidence, ItemScore, ScoreItem
from .models.scorecard import TOTAL_POINTS, Area, Metric, level_for

TENTH = Decimal("0.1")
# The metrics given in per cent (the others, satisfaction, on their own 1–5 scale).
PERCENT = {
    Metric.RESPONSE,
    Metric.ARRIVAL,
    Metric.RESOLUTION,
    Metric.FIRST_TIME_FIX,
    Metric.REVISIT_COVERAGE,
    Metric.REVISITS_ON_TIME,
}
# How many items a page lists as the next steps.
NEXT_STEPS = 5


class ScorecardError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def measure(start, end):
    """{metric: value over the period (Decimal, per cent or 1–5), or None when there is nothing
    to measure}: one read of the figures."""
    total = figures.totals(figures.Scope(start, end))[0]
    values = {
        Metric.RESPONSE: metrics.sla_rate(total, "response"),
        Metric.ARRIVAL: metrics.sla_rate(total, "arrival"),
        Metric.RESOLUTION: metrics.sla_rate(total, "resolution"),
        Metric.FIRST_TIME_FIX: metrics.first_time_fix(total),
        Metric.REVISIT_COVERAGE: metrics.revisit_coverage(total),
        Metric.REVISITS_ON_TIME: metrics.revisits_on_time(total),
        Metric.SATISFACTION: metrics.satisfaction(total),
    }
    out = {}
    for metric, value in values.items():
        if value is not None and metric in PERCENT:
            value *= 100
        out[metric] = None if value is None else Decimal(str(round(value, 2)))
    return out


def points_for(value, target, floor, max_points):
    """The points a measured value earns: all at or above `target`, none at or below `floor`,
    linear between; None for no value."""
    if value is None:
        return None
    if value >= target:
        return Decimal(max_points)
    if value <= floor:
        return Decimal(0)
    share = (Decimal(value) - floor) / (target - floor)
    return (max_points * share).quantize(TENTH, rounding=ROUND_HALF_UP)


def points_text(value):
    """Points as people write them: 85.5, 100 (no trailing .0)."""
    text = f"{Decimal(value).quantize(TENTH):f}"
    return text.removesuffix(".0")


def total_of(scores):
    """The total of the scores (not yet scored: 0) and the level it reaches."""
    total = sum((s.points or Decimal(0) for s in scores), Decimal(0)).quantize(TENTH)
    return total, level_for(total)


def subtotals(scores):
    """[(area label, points, max points)] in the standard's order, for the areas scored."""
    out = []
    for area in Area:
        rows = [s for s in scores if s.area == area]
        if rows:
            points = sum((s.points or Decimal(0) for s in rows), Decimal(0))
            out.append((area.label, points, sum((s.max_points for s in rows), Decimal(0))))
    return out


def next_steps(scores, count=NEXT_STEPS):
    """The items that lose the most points, most first (those scored in full are left out)."""
    losing = [s for s in scores if s.lost > 0]
    losing.sort(key=lambda s: (-s.lost, s.position, s.code))
    return losing[:count]


def _remeasure(assessment, scores):
    """Score the measured items again from the period's figures (they may have changed since:
    a late revisit, a refresh)."""
    if not any(s.metric for s in scores):
        return
    values = measure(assessment.period_start, assessment.period_end)
    for score in scores:
        if not score.metric:
            continue
        value = values.get(score.metric)
        if value is None:
            # Nothing to measure (any more): scored by hand, no longer from the old figure.
            if score.value is not None:
                score.value, score.points = None, None
            continue
        score.value = value
        score.points = points_for(value, score.target, score.floor, score.max_points)


def _update_total(assessment, scores):
    assessment.total, assessment.level = total_of(scores)
    assessment.updated_at = timezone.now()
    assessment.save(update_fields=["total", "level", "updated_at"])


def _locked_draft(assessment_id):
    assessment = Assessment.objects.select_for_update().filter(pk=assessment_id).first()
    if assessment is None:
        raise ScorecardError(_("This assessment no longer exists."))
    if not assessment.is_draft:
        raise ScorecardError(_("This assessment is final; it can no longer be changed."))
    return assessment


def start_assessment(user, start, end):
    """A new draft for the period: every item with points, the measured ones scored."""
    with transaction.atomic():
        items = list(ScoreItem.objects.filter(max_points__gt=0).select_for_update().order_by("pk"))
        if sum((i.max_points for i in items), Decimal(0)) != TOTAL_POINTS:
            raise ScorecardError(
                _("The scorecard's items do not add up to 100 points; correct them first.")
            )
        assessment = Assessment.objects.create(period_start=start, period_end=end, created_by=user)
        scores = ItemScore.objects.bulk_create(
            ItemScore(
                assessment=assessment,
                item=item,
                area=item.area,
                code=item.code,
                name=item.name,
                criteria=item.criteria,
                max_points=item.max_points,
                metric=item.metric,
                target=item.target,
                floor=item.floor,
                awaits=item.awaits,
                position=item.position,
            )
            for item in items
        )
        _remeasure(assessment, scores)
        ItemScore.objects.bulk_update(scores, ["value", "points"])
        _update_total(assessment, scores)
    return assessment


def save_draft(assessment_id, user, entries):
    """Save the scores of a draft. `entries`: {score id: {"points": Decimal or None, "note":
    str, "files": [(content, kind, original name, size)], "remove": [evidence id]}}.

    The measured items' points come from the figures (measured again here); the others take
    the points given, each at most the item's points. Nothing is saved when anything is
    refused. Files removed are deleted from storage once the transaction commits.
    """
    saved_files = []
    try:
        with transaction.atomic():
            assessment = _locked_draft(assessment_id)
            scores = list(assessment.scores.all())
            by_id = {s.pk: s for s in scores}
            unknown = set(entries) - set(by_id)
            if unknown:
                raise ScorecardError(_("Some items are not part of this assessment."))
            removed = []
            for score_id, entry in entries.items():
                score = by_id[score_id]
                score.note = entry.get("note", score.note)
                if not score.measured:
                    points = entry.get("points")
                    if points is not None and not (0 <= points <= score.max_points):
                        raise ScorecardError(
                            _("%(code)s: at most %(max)s points.")
                            % {"code": score.code, "max": points_text(score.max_points)}
                        )
                    score.points = points
                removed.extend(entry.get("remove", []))
            gone = list(Evidence.objects.filter(score__assessment=assessment, pk__in=removed))
            names = [e.file.name for e in gone]
            Evidence.objects.filter(pk__in=[e.pk for e in gone]).delete()
            _refuse_too_many_files(assessment, entries)
            for score_id, entry in entries.items():
                for content, kind, original, size in entry.get("files", []):
                    evidence = Evidence(
                        score_id=score_id,
                        kind=kind,
                        original_name=original,
                        size=size,
                        uploaded_by=user,
                    )
                    evidence.file.save(content.name, content, save=False)
                    saved_files.append(evidence.file.name)
                    evidence.save()
            _remeasure(assessment, scores)
            ItemScore.objects.bulk_update(scores, ["note", "points", "value"])
            _update_total(assessment, scores)
            transaction.on_commit(lambda: _delete_files(names))
    except Exception:
        # The files written for rows that were rolled back.
        _delete_files(saved_files)
        raise
    return assessment


# Evidence files an item may have (photos of a certificate's pages, a few reports).
MAX_FILES_PER_ITEM = 10


def _refuse_too_many_files(assessment, entries):
    adding = {sid: len(e.get("files", [])) for sid, e in entries.items() if e.get("files")}
    if not adding:
        return
    kept = dict(
        Evidence.objects.filter(score_id__in=adding)
        .values("score_id")
        .annotate(n=Sum(1))
        .values_list("score_id", "n")
    )
    codes = dict(assessment.scores.filter(pk__in=adding).values_list("pk", "code"))
    for score_id, count in adding.items():
        if kept.get(score_id, 0) + count > MAX_FILES_PER_ITEM:
            raise ScorecardError(
                _("%(code)s: at most %(limit)d files per item.")
                % {"code": codes[score_id], "limit": MAX_FILES_PER_ITEM}
            )


def _delete_files(names):
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


def finalize(assessment_id, user):
    """Close a draft: the measured items measured one last time, every item must have its
    points; the total and level are kept as they are then."""
    with transaction.atomic():
        assessment = _locked_draft(assessment_id)
        scores = list(assessment.scores.all())
        _remeasure(assessment, scores)
        missing = [s.code for s in scores if s.points is None]
        if missing:
            raise ScorecardError(
                _("Score every item before finalizing; not scored yet: %(items)s.")
                % {"items": ", ".join(missing)}
            )
        ItemScore.objects.bulk_update(scores, ["points", "value"])
        _update_total(assessment, scores)
        assessment.state = Assessment.State.FINAL
        assessment.finalized_by = user
        assessment.finalized_at = timezone.now()
        assessment.save(update_fields=["state", "finalized_by", "finalized_at"])
    return assessment


def delete_draft(assessment_id, user):
    with transaction.atomic():
        assessment = _locked_draft(assessment_id)
        names = list(
            Evidence.objects.filter(score__assessment=assessment).values_list("file", flat=True)
        )
        assessment.delete()
        transaction.on_commit(lambda: _delete_files(names))


def save_items(user, rows):
    """Change the items' points and targets: `rows` {item id: {"max_points", "target",
    "floor"}}. The points of all items must add up to 100 afterwards, else nothing changes."""
    with transaction.atomic():
        # Locked in one order, so two managers editing at once cannot deadlock; the sum is
        # checked over what is stored once both writes are in.
        items = list(ScoreItem.objects.select_for_update().order_by("pk"))
        by_id = {i.pk: i for i in items}
        if set(rows) - set(by_id):
            raise ScorecardError(_("Some items no longer exist; reload the page."))
        for item_id, row in rows.items():
            item = by_id[item_id]
            item.max_points = row["max_points"]
            if item.metric:
                item.target, item.floor = row["target"], row["floor"]
        total = sum((i.max_points for i in items), Decimal(0))
        if total != TOTAL_POINTS:
            raise ScorecardError(
                _("The items add up to %(total)s points; they must add up to exactly 100.")
                % {"total": points_text(total)}
            )
        ScoreItem.objects.bulk_update(items, ["max_points", "target", "floor"])
    return items
