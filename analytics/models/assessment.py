"""The engineer assessment (工程师考核): the weights a manager sets, and the score they make.

One set of weights for the whole company (a single row; until a manager saves one, the
defaults below). `score` is the one definition of the score; the ranking report and each
engineer's own page both call it.
"""

import operator
from functools import reduce

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models, transaction
from django.db.models import F
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from .. import metrics

# The parts of the score, in the order the weights form lists them, with their default weight.
PARTS = {
    "jobs": 15,
    "hours": 5,
    "response": 10,
    "arrival": 10,
    "resolution": 15,
    "first_time_fix": 15,
    "rounds": 10,
    "satisfaction": 20,
}
assert sum(PARTS.values()) == 100
ROW = 1  # the primary key of the single row


def _weight(label, help_text):
    return models.PositiveSmallIntegerField(
        label, default=0, validators=[MaxValueValidator(100)], help_text=help_text
    )


class AssessmentWeights(models.Model):
    """How much each part of the engineer assessment score counts (whole numbers, 0–100,
    summing to 100)."""

    jobs = _weight(_("jobs done"), _("Requests closed, against the most any engineer closed."))
    hours = _weight(_("labour hours"), _("Labour hours, against the most any engineer logged."))
    response = _weight(_("response in time"), _("Share of response targets met in time."))
    arrival = _weight(_("arrival in time"), _("Share of on-site arrival targets met in time."))
    resolution = _weight(_("resolved in time"), _("Share of resolution targets met in time."))
    first_time_fix = _weight(_("first-time fix"), _("Share of closed requests fixed in one visit."))
    rounds = _weight(
        _("rounds per request"), _("One round per request counts fully, two rounds half.")
    )
    satisfaction = _weight(
        _("satisfaction"), _("The customers' average revisit score: 5 counts fully, 1 nothing.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assessment weights")
        verbose_name_plural = _("assessment weights")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=ROW), name="assessment_weights_one_row"),
            models.CheckConstraint(
                condition=Exact(reduce(operator.add, (F(part) for part in PARTS)), 100),
                name="assessment_weights_sum_100",
            ),
        ]

    def __str__(self):
        return ", ".join(f"{part} {getattr(self, part)}" for part in PARTS)

    @classmethod
    def current(cls):
        """The weights in force: the saved row, or the defaults (unsaved) before anyone saved."""
        return cls.objects.filter(pk=ROW).first() or cls(pk=ROW, **PARTS)

    @classmethod
    def set(cls, values, by):
        """Save the weights {part: weight} (checked by the form: each ≥ 0, summing to 100)."""
        with transaction.atomic():
            weights, _created = cls.objects.update_or_create(
                pk=ROW, defaults={**{part: values[part] for part in PARTS}, "updated_by": by}
            )
        return weights

    set.alters_data = True

    def as_dict(self):
        return {part: getattr(self, part) for part in PARTS}


def parts(row, most):
    """Each part of the score of `row` (summed figures, analytics.figures) as a number from
    0 to 1, or None when it has nothing to go by; `most` = {"closed": …, "labour_hours": …},
    the largest of the table's rows."""
    rounds = metrics.rounds(row)
    satisfaction = metrics.satisfaction(row)
    return {
        "jobs": metrics.ratio(row["closed"], most["closed"]),
        "hours": metrics.ratio(float(row["labour_hours"]), float(most["labour_hours"])),
        "response": metrics.sla_rate(row, "response"),
        "arrival": metrics.sla_rate(row, "arrival"),
        "resolution": metrics.sla_rate(row, "resolution"),
        "first_time_fix": metrics.first_time_fix(row),
        "rounds": min(1 / rounds, 1.0) if rounds else None,
        "satisfaction": (satisfaction - 1) / 4 if satisfaction is not None else None,
    }


def score(row, weights, most):
    """The assessment score, 0–100, of one row of summed figures.

    Each part is a number from 0 (worst) to 1 (best):

    - jobs: requests closed / the most closed by a row of the same table;
    - hours: labour hours / the most logged by a row of the same table;
    - response, arrival, resolution: that SLA target's compliance (met in time / decided);
    - first_time_fix: closed requests fixed in one visit without an unresolved round / closed;
    - rounds: 1 / processing rounds per closed request (one round each: 1, two: 0.5);
    - satisfaction: (average revisit score − 1) / 4 (an average of 5: 1, of 1: 0).

    score = 100 × Σ(weight × part) / Σ(weight), both sums over the parts that have a value: a
    part with nothing to go by (no target decided, nothing closed, no score given) is left out
    with its weight, neither rewarding nor penalising. None when no weighted part has a value.
    `weights` is {part: weight}; `most` is {"closed": …, "labour_hours": …}.
    """
    total = weighed = 0.0
    for part, value in parts(row, most).items():
        weight = weights.get(part, 0)
        if value is None or not weight:
            continue
        total += weight * value
        weighed += weight
    return 100 * total / weighed if weighed else None
