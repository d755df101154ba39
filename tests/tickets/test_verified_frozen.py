"""核销 holds: after verification a visit's hours, fees and parts change nowhere, not even in
the admin by a superuser (a fee was once changed to ¥999 there and the work order printed it)."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.models import User
from tests.factories import ticket_in_state
from tickets import services
from tickets.models import PartLine, State, VerifiedRecordError, Visit


@pytest.fixture
def verified(dispatcher, engineer, service_manager):
    ticket = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    PartLine.objects.create(visit=Visit.objects.get(ticket=ticket), name="压缩机电容", quantity=1)
    return services.perform(ticket, "verify", service_manager)


@pytest.fixture
def superuser_client(db):
    user = User.objects.create_superuser("root", "root@example.com", "x")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_a_visit_and_changes_nothing(superuser_client, verified):
    visit = Visit.objects.get(ticket=verified)
    url = reverse("admin:tickets_visit_change", args=[visit.pk])
    assert superuser_client.get(url).status_code == 200  # to read
    response = superuser_client.post(url, {"labour_fee": "999", "ticket": verified.pk})
    assert response.status_code == 403
    visit.refresh_from_db()
    assert visit.labour_fee != Decimal("999")
    delete = reverse("admin:tickets_visit_delete", args=[visit.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert Visit.objects.filter(pk=visit.pk).exists()


def test_no_code_path_changes_a_verified_record(verified):
    visit = Visit.objects.get(ticket=verified)
    visit.labour_fee = Decimal("999")
    with pytest.raises(VerifiedRecordError):
        visit.save()
    with pytest.raises(VerifiedRecordError):
        PartLine.objects.create(visit=visit, name="多报的配件", quantity=1)
    with pytest.raises(VerifiedRecordError):
        visit.parts.first().delete()
    visit.refresh_from_db()
    assert visit.labour_fee != Decimal("999")


def test_an_open_requests_visit_is_still_written(dispatcher, engineer):
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    visit = Visit.objects.get(ticket=ticket)
    visit.work_done = "更换滤芯"
    visit.save()
    assert Visit.objects.get(pk=visit.pk).work_done == "更换滤芯"
