"""What the analytics app brings to the whole (read by `aftersales.registry`)."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from aftersales.registry import HomePage, MenuItem
from aftersales.roles import Role

URLS = [path("analytics/", include("analytics.urls"))]

MENU = [
    MenuItem(_("Statistics"), "analytics:overview", "analytics.view_reports", "bar-chart", 700),
    MenuItem(
        _("My figures"),
        "analytics:mine",
        "analytics.view_own_figures",
        "graph-up",
        rank=140,
        unless="analytics.view_reports",
    ),
]

HOME = [
    HomePage(
        "analytics:overview",
        rank=90,
        who=lambda user: (
            user.has_perm("analytics.view_reports") and not user.has_perm("tickets.dispatch_ticket")
        ),
    )
]

REPORTS = ["analytics.view_reports"]
# Scoring the GB/T 27922 self-assessment (and changing its items' weights).
ASSESS = ["analytics.assess_service"]

# Managers set the weights of the engineer assessment score.
ASSESSMENT = ["analytics.change_assessmentweights"]

ROLE_PERMISSIONS = {
    Role.SERVICE_MANAGER: REPORTS + ASSESS + ASSESSMENT,
    Role.MANAGER: REPORTS + ASSESS + ASSESSMENT,
    Role.ENGINEER: ["analytics.view_own_figures"],
}

BEAT_SCHEDULE = {
    # What the refresh after each change missed (a lost message, a stopped worker).
    "analytics-every-minute": {"task": "analytics.refresh", "schedule": 60.0},
}


def seed_demo(out):
    """The figures of the demo history (its requests were marked as the history was lived)."""
    from aftersales.demo import SummaryRow

    from .models import TicketFact
    from .refresh import refresh_all

    done = refresh_all()
    return [SummaryRow("requests in the statistics", TicketFact.objects.count(), done)]
