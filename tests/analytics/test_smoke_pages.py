import re

import pytest
from django.urls import reverse

from analytics import refresh
from analytics.figures import next_generation
from tests.factories import ticket_in_state


@pytest.mark.django_db
def test_pages(manager_client, dispatcher, engineer):
    ticket_in_state("closed", dispatcher=dispatcher, engineer=engineer)
    refresh.refresh_all()
    r = manager_client.get(reverse("analytics:overview"))
    assert r.status_code == 200, r.content[:3000]
    open("/tmp/overview.html", "wb").write(r.content)
    r = manager_client.get(reverse("analytics:overview") + "?export=xlsx")
    assert r.status_code == 200
    r = manager_client.get(reverse("analytics:requests") + "?event=closed")
    assert r.status_code == 200
    assert b"SR" in r.content
    for q in [
        "?start=garbage&end=2026-13-01",
        "?service_point=x&agreement=%00",
        "?event=x&outcome=y&engineer_id=abc",
        "?start=1900-01-01",
    ]:
        assert manager_client.get(reverse("analytics:overview") + q).status_code == 200
        assert manager_client.get(reverse("analytics:requests") + q).status_code == 200


def opened_card(client):
    html = client.get(reverse("analytics:overview")).content.decode()
    return re.search(r'report-card-value"><a [^>]*>([0-9,]+)</a>', html).group(1)


@pytest.mark.django_db
def test_a_cached_report_is_never_stale(manager_client, dispatcher, engineer, monkeypatch):
    """The report is kept in the cache until the next refresh of the figures changes them."""
    from analytics.views.overview import OverviewView

    ticket_in_state("pending_assignment", dispatcher=dispatcher, engineer=engineer)
    refresh.refresh_all()
    next_generation()  # what the refresh's commit does (a test's transaction never commits)
    assert opened_card(manager_client) == "1"
    built = []
    real = OverviewView.report
    monkeypatch.setattr(
        OverviewView, "report", lambda self, scope: built.append(1) or real(self, scope)
    )
    assert opened_card(manager_client) == "1"
    assert built == []  # from the cache
    ticket_in_state("pending_assignment", dispatcher=dispatcher, engineer=engineer)
    refresh.refresh_all()
    next_generation()
    assert opened_card(manager_client) == "2"
    assert built == [1]
