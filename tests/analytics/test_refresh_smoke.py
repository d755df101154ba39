import pytest
from django.utils import timezone

from analytics import figures, refresh
from analytics.figures import Scope
from tests.factories import ticket_in_state


@pytest.mark.django_db
def test_smoke(dispatcher, engineer):
    ticket_in_state("closed", dispatcher=dispatcher, engineer=engineer)
    ticket_in_state("pending_assignment", dispatcher=dispatcher, engineer=engineer)
    assert refresh.refresh_all() == 2
    today = timezone.localdate()
    rows = figures.totals(Scope(today, today))
    print(rows)
    assert rows[0]["opened"] == 2 and rows[0]["closed"] == 1
    print(figures.series(Scope(today.replace(day=1), today)))
    print(figures.totals(Scope(today, today), by=["service_type", "engineer_id"]))
    r = refresh.rebuild(log=print)
    assert figures.totals(Scope(today, today)) == rows
