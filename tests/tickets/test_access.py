"""Which tickets a person may see or act on (tickets.access): every tickets page asks it."""

import pytest
from django.http import Http404

from aftersales.roles import Role
from tests.factories import ticket_in_state
from tickets import access
from tickets.models import State, Ticket


@pytest.fixture
def other_engineer(make_user):
    return make_user(Role.ENGINEER, username="engineer2")


def test_office_roles_see_every_ticket_engineers_their_own(
    dispatcher, engineer, other_engineer, make_user
):
    mine = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    theirs = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=other_engineer)
    assert access.visible_ticket(dispatcher, theirs.pk) == theirs
    assert access.visible_ticket(engineer, mine.pk) == mine
    with pytest.raises(Http404):
        access.visible_ticket(engineer, theirs.pk)
    with pytest.raises(Http404):
        access.visible_ticket(make_user(None, username="clerk"), mine.pk)


def test_engineer_jobs_are_only_ones_own_even_for_office_roles(dispatcher, engineer):
    job = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    assert access.engineer_job(engineer, job.pk) == job
    assert list(access.engineer_jobs(engineer)) == [job]
    with pytest.raises(Http404):
        access.engineer_job(dispatcher, job.pk)


def test_a_queryset_given_narrows_but_never_widens(dispatcher, engineer, other_engineer):
    theirs = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=other_engineer)
    with pytest.raises(Http404):
        access.engineer_job(engineer, theirs.pk, Ticket.objects.select_related("customer"))
    with pytest.raises(Http404):
        access.visible_ticket(engineer, theirs.pk, Ticket.objects.all())


def test_public_ticket_by_token_only(dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    assert access.public_ticket(ticket.public_token) == ticket
    with pytest.raises(Http404):
        access.public_ticket("not-a-token")
