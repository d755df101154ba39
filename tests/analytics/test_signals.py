"""A change of a request queues one refresh after its commit, however many it changed."""

import pytest

from analytics.models import Dirty
from analytics.tasks import refresh
from tests.factories import enter_ticket


@pytest.mark.django_db
def test_one_refresh_per_transaction(dispatcher, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("analytics.signals.publish", lambda task: sent.append(task.name))
    with django_capture_on_commit_callbacks(execute=True):
        tickets = [enter_ticket(dispatcher) for _ in range(3)]
    assert sent == ["analytics.refresh"]
    assert set(Dirty.objects.values_list("ticket_id", flat=True)) == {t.pk for t in tickets}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_while_a_refresh_waits_in_the_queue_changes_queue_no_other(dispatcher, monkeypatch):
    """An API that enters a request per alarm would queue a refresh per request; one waiting
    refresh takes them all. Once it starts, the next change queues the next one."""
    sent = []
    monkeypatch.setattr("analytics.signals.publish", lambda task: sent.append(task.name) or True)
    for _ in range(3):
        enter_ticket(dispatcher)  # each in its own committed transaction
    assert sent == ["analytics.refresh"]
    assert Dirty.objects.count() == 3

    refresh.run()  # the worker takes the queued task
    assert not Dirty.objects.exists()
    enter_ticket(dispatcher)
    assert sent == ["analytics.refresh"] * 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_refresh_the_broker_refused_does_not_hold_back_the_next(dispatcher, monkeypatch):
    sent = []
    monkeypatch.setattr("analytics.signals.publish", lambda task: sent.append(task.name) and False)
    for _ in range(2):
        enter_ticket(dispatcher)
    assert sent == ["analytics.refresh"] * 2
