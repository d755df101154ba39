import pytest
from django.urls import reverse


def test_healthz_answers_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


def test_whoami_sends_anonymous_visitors_to_the_login(client, db):
    response = client.get(reverse("whoami"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_whoami_names_the_user_with_the_session_and_user_queries_only(
    dispatcher, dispatcher_client, django_assert_num_queries
):
    with django_assert_num_queries(2):
        response = dispatcher_client.get(reverse("whoami"))
    assert response.status_code == 200
    assert response.content.decode() == dispatcher.username


def test_the_media_folder_is_not_served_even_in_debug(settings):
    """Imported and exported files live under MEDIA_ROOT with guessable folders: only their own
    access-checked views may answer for them, in development too."""
    import importlib

    from django.urls import Resolver404, clear_url_caches, resolve

    from aftersales import urls

    settings.DEBUG = True
    try:
        importlib.reload(urls)
        clear_url_caches()
        for path in ("/media/exports/a.csv", "/media/imports/a.xlsx"):
            with pytest.raises(Resolver404):
                resolve(path, urlconf=urls)
    finally:
        settings.DEBUG = False
        importlib.reload(urls)
        clear_url_caches()
