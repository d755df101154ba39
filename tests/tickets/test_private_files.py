"""Visit photos and signatures are served only to people who may see their request."""

import pytest
from django.urls import reverse

from tests.factories import ticket_in_state
from tests.tickets.test_mobile import job_url, jpeg, signature_data_url, visit_post
from tickets.models import State, Visit


@pytest.fixture
def finished(engineer_client, dispatcher, engineer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    data = visit_post(ticket, signature=signature_data_url())
    data["photos"] = [jpeg()]
    engineer_client.post(job_url(ticket, "visit"), data)
    visit = Visit.objects.get(ticket=ticket)
    return visit.photos.get().image.url, visit.signature.url


def test_the_office_and_the_engineer_see_the_files(finished, dispatcher_client, engineer_client):
    photo, signature = finished
    for client in (dispatcher_client, engineer_client):
        for url in (photo, signature):
            response = client.get(url)
            assert response.status_code == 200, url
            assert b"".join(response.streaming_content)[:4] in (b"\xff\xd8\xff\xe0", b"\x89PNG")


def test_strangers_and_other_engineers_do_not(finished, client, make_user):
    from aftersales.roles import Role

    photo, signature = finished
    assert client.get(photo).status_code == 302  # to sign in
    other = make_user(Role.ENGINEER, username="engineer9")
    client.force_login(other)
    assert client.get(photo).status_code == 404
    assert client.get(signature).status_code == 404


def test_the_web_server_sends_them_when_told(finished, dispatcher_client, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"
    photo, _signature = finished
    response = dispatcher_client.get(photo)
    assert response["X-Accel-Redirect"] == "/protected-media/" + photo.removeprefix("/media/")
    assert response.content == b""


def test_a_path_outside_the_files_is_not_found(dispatcher_client):
    assert dispatcher_client.get("/media/visits/../../settings.py").status_code == 404
    assert reverse("visit_file", args=["visits/x.jpg"]) == "/media/visits/x.jpg"
