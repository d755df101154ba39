import pytest
from django.urls import reverse

from analytics import refresh
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
