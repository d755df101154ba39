"""A change of a request queues one refresh after its commit, however many it changed."""

import pytest

from analytics.models import Dirty
from tests.factories import enter_ticket


@pytest.mark.django_db
def test_one_refresh_per_transaction(dispatcher, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("analytics.signals.publish", lambda task: sent.append(task.name))
    with django_capture_on_commit_callbacks(execute=True):
        tickets = [enter_ticket(dispatcher) for _ in range(3)]
    assert sent == ["analytics.refresh"]
    assert set(Dirty.objects.values_list("ticket_id", flat=True)) == {t.pk for t in tickets}
