"""The overview page: its numbers, the export of them, garbage parameters, a fixed number of
queries whatever the data, the cache that is never stale, and who may see it."""

import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics import refresh
from analytics.figures import next_generation
from analytics.views.overview import OverviewView
from tests.factories import ticket_in_state

OVERVIEW = reverse("analytics:overview")
GARBAGE = [
    "?start=garbage&end=2026-13-01",
    "?start=2027-01-01&end=2026-01-01",
    "?start=1900-01-01",
    "?service_point=x&product_line=%00&customer_level=king&agreement=" + "9" * 80,
    "?agreement=NO-SUCH",
    "?event=x&outcome=y&engineer_id=abc&priority=" + "x" * 50,
    "?page=-1&export=pdf",
]


def some_requests(dispatcher, engineer, n):
    for k in range(n):
        ticket_in_state(
            ["closed", "pending_assignment", "processed"][k % 3],
            dispatcher=dispatcher,
            engineer=engineer,
        )
    refresh.refresh_all()
    next_generation()  # what the refresh's commit does (a test's transaction never commits)


def card(html, label):
    match = re.search(
        r'report-card-label">'
        + re.escape(label)
        + r'</div>\s*<div class="report-card-value">(?:<a [^>]*>)?([^<]+)',
        html,
    )
    return match.group(1)


@pytest.mark.django_db
def test_overview_numbers_and_their_export(manager_client, dispatcher, engineer):
    some_requests(dispatcher, engineer, 3)
    html = manager_client.get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (card(html, "Opened"), card(html, "Processed"), card(html, "Closed")) == ("3", "2", "1")
    assert card(html, "First-time fix") == "100.0 %"
    book = load_workbook(io.BytesIO(manager_client.get(OVERVIEW + "?export=xlsx").content))
    per_day = book.worksheets[0]
    today = list(per_day.iter_rows(values_only=True))[-1]
    assert today[1:] == (3, 2, 1)  # opened, processed, closed today: the page's cards
    backlog = {row[0]: row[-1] for row in book.worksheets[2].iter_rows(min_row=2, values_only=True)}
    assert sum(backlog.values()) == 2  # the pending and the processed one are open
    csv = manager_client.get(OVERVIEW + "?export=csv").content.decode("utf-8-sig")
    assert csv.splitlines()[-1] == "" and ",3,2,1" in csv


@pytest.mark.django_db
@pytest.mark.parametrize("query", GARBAGE)
def test_garbage_parameters_never_break_a_page(manager_client, query):
    for url in (OVERVIEW, reverse("analytics:requests")):
        assert manager_client.get(url + query).status_code == 200


@pytest.mark.django_db
def test_a_fixed_number_of_queries(manager_client, dispatcher, engineer):
    def queries():
        next_generation()  # no cached report
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(OVERVIEW + "?start=2023-01-01").status_code == 200
        return len(captured)

    some_requests(dispatcher, engineer, 2)
    queries()  # the first also fills the caches of the filters' choices and the user's roles
    few = queries()
    some_requests(dispatcher, engineer, 9)  # (new revisit agents: the roles' cache again)
    queries()
    assert queries() == few


@pytest.mark.django_db
def test_a_cached_report_is_never_stale(manager_client, dispatcher, engineer, monkeypatch):
    """The report is kept in the cache until the next refresh of the figures changes them."""
    some_requests(dispatcher, engineer, 1)

    def opened():
        html = manager_client.get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        return card(html, "Opened")

    assert opened() == "1"
    built = []
    real = OverviewView.report
    monkeypatch.setattr(
        OverviewView, "report", lambda view, scope: built.append(1) or real(view, scope)
    )
    assert opened() == "1" and built == []  # from the cache
    some_requests(dispatcher, engineer, 1)
    assert opened() == "2" and built == [1]


@pytest.mark.django_db
def test_a_period_shows_only_its_days(manager_client, dispatcher, engineer):
    some_requests(dispatcher, engineer, 1)
    last_week = (timezone.localdate() - timedelta(days=7)).isoformat()
    html = manager_client.get(
        OVERVIEW + f"?start={last_week}&end={last_week}", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert card(html, "Opened") == "0"


@pytest.mark.django_db
def test_who_may_see_the_statistics(client_for, make_user, engineer_client, dispatcher_client):
    from aftersales.roles import Role

    for role in (Role.MANAGER, Role.SERVICE_MANAGER):
        assert client_for(make_user(role)).get(OVERVIEW).status_code == 200
    for client in (engineer_client, dispatcher_client):
        assert client.get(OVERVIEW).status_code == 403
        assert client.get(reverse("analytics:requests")).status_code == 403
