"""API keys (org/api-keys/): administrators issue, rotate and revoke them; a key is shown once,
kept only as a digest, limited to its scopes, and its last use is recorded."""

import hashlib
import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from aftersales import apikeys
from aftersales.models import ApiKey
from tests.factories import api_key
from tests.queries import capture_queries

pytestmark = pytest.mark.django_db

LIST = reverse("org:apikey_list")
CREATE = reverse("org:apikey_create")
# Any endpoint that needs a key: reading a request that does not exist (404 once let in).
PROBE = "/api/v1/requests/SR19990101-0001"


def probe(client, whole):
    return client.get(PROBE, headers={"Authorization": f"Bearer {whole}"}).status_code


def create(client, name="物联网平台", scopes=("requests:create",), note="设备部王工 13800138000"):
    return client.post(CREATE, {"name": name, "note": note, "scopes": list(scopes)})


def shown_key(response):
    """The whole key on the page that shows it once."""
    text = response.content.decode()
    start = text.index('value="ask_') + len('value="')
    return text[start : text.index('"', start)]


# Who may ------------------------------------------------------------------------------------------


def test_the_key_pages_are_for_administrators(client, dispatcher_client, manager_client):
    key, _whole = api_key()
    for someone in (dispatcher_client, manager_client):
        assert someone.get(LIST).status_code == 403
        assert someone.get(CREATE).status_code == 403
        assert create(someone).status_code == 403
        assert someone.post(reverse("org:apikey_rotate", args=[key.pk])).status_code == 403
        assert someone.post(reverse("org:apikey_revoke", args=[key.pk])).status_code == 403
    anonymous = client.get(LIST)
    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]
    assert client.post(reverse("org:apikey_revoke", args=[key.pk])).status_code == 302
    key.refresh_from_db()
    assert key.is_active
    assert ApiKey.objects.count() == 1


def test_administrators_find_the_keys_in_their_menu(administrator_client, dispatcher_client):
    assert LIST in administrator_client.get(reverse("org:user_list")).content.decode()
    assert LIST not in dispatcher_client.get(reverse("tickets:list")).content.decode()


# Issuing ------------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_kept_only_as_a_digest(administrator_client, administrator):
    response = create(administrator_client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    whole = shown_key(response)
    key = ApiKey.objects.get()
    assert (key.name, key.scopes, key.created_by) == (
        "物联网平台",
        ["requests:create"],
        administrator,
    )
    assert whole.startswith(f"ask_{key.prefix}_")
    assert key.secret_hash == hashlib.sha256(whole.encode()).hexdigest()
    secret = whole.split("_", 2)[2]
    assert len(secret) >= 43  # 256 bits
    stored = json.dumps(list(ApiKey.objects.values().get().values()), default=str)
    assert secret not in stored
    # Never again: not on the list, not on the form.
    listed = administrator_client.get(LIST).content.decode()
    assert secret not in listed
    assert f"ask_{key.prefix}_" in listed  # the prefix tells keys apart
    assert secret not in administrator_client.get(CREATE).content.decode()
    # The key works for its scope.
    assert probe(administrator_client, whole) == 403  # requests:read not given
    reader = shown_key(create(administrator_client, name="ERP", scopes=["requests:read"]))
    assert probe(administrator_client, reader) == 404


def test_a_key_needs_a_free_name_and_a_scope(administrator_client):
    create(administrator_client, name="ERP")
    again = create(administrator_client, name="erp")
    assert again.status_code == 200
    assert "ask_" not in again.content.decode()
    assert "已有同名的密钥。" in again.content.decode()
    no_scope = create(administrator_client, name="微信服务号", scopes=())
    assert "ask_" not in no_scope.content.decode()
    unknown = create(administrator_client, name="微信服务号", scopes=["everything"])
    assert "ask_" not in unknown.content.decode()
    assert ApiKey.objects.count() == 1


def test_the_service_refuses_unknown_scopes():
    with pytest.raises(apikeys.KeyRefused):
        apikeys.issue_key(name="x", note="", scopes=["requests:delete"], actor=None)


# Rotating and revoking ----------------------------------------------------------------------------


def test_rotating_shows_a_new_key_and_the_old_one_stops_working(client, administrator_client):
    key, old = api_key("requests:read")
    assert probe(client, old) == 404
    response = administrator_client.post(
        reverse("org:apikey_rotate", args=[key.pk]), {"prefix": key.prefix}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = shown_key(response)
    assert new != old
    assert probe(client, old) == 401
    assert probe(client, new) == 404
    key.refresh_from_db()
    assert key.rotated_at is not None
    assert key.scopes == ["requests:read"]


def test_a_second_rotation_from_the_same_page_is_refused(client, administrator_client):
    key, _old = api_key()
    url = reverse("org:apikey_rotate", args=[key.pk])
    new = shown_key(administrator_client.post(url, {"prefix": key.prefix}))
    again = administrator_client.post(url, {"prefix": key.prefix}, follow=True)
    assert "此密钥在此期间已被轮换，未做任何更改。" in again.content.decode()
    assert probe(client, new) == 404  # still the key shown after the first click


def test_a_revoked_key_stops_working_and_cannot_be_rotated(client, administrator_client):
    key, whole = api_key()
    response = administrator_client.post(reverse("org:apikey_revoke", args=[key.pk]), follow=True)
    assert f"密钥“{key.name}”已吊销" in response.content.decode()
    assert probe(client, whole) == 401
    key.refresh_from_db()
    assert key.revoked_at is not None
    rotated = administrator_client.post(
        reverse("org:apikey_rotate", args=[key.pk]), {"prefix": key.prefix}, follow=True
    )
    assert "此密钥已吊销，请改为新建一个密钥。" in rotated.content.decode()
    assert probe(client, whole) == 401
    # Listed after the keys in use, without buttons.
    listed = administrator_client.get(LIST).content.decode()
    assert reverse("org:apikey_revoke", args=[key.pk]) not in listed


# Using a key --------------------------------------------------------------------------------------


def test_the_last_use_is_kept_and_written_at_most_once_a_minute(client):
    key, whole = api_key("requests:read")
    assert key.last_used_at is None
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        probe(client, whole)
        key.refresh_from_db()
        assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        with capture_queries() as queries:
            probe(client, whole)
        assert not [q for q in queries if q["sql"].startswith("UPDATE")]
        key.refresh_from_db()
        assert key.last_used_at == start
    later = start + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        probe(client, whole)
        key.refresh_from_db()
        assert key.last_used_at == later


def test_something_that_cannot_be_a_key_costs_no_query(client):
    with capture_queries() as queries:
        assert probe(client, "not-a-key") == 401
    assert not [q for q in queries if "apikey" in q["sql"]]


# The description and its page ---------------------------------------------------------------------


def test_the_openapi_description_lists_the_endpoints_and_how_to_authenticate(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= {
        "/api/v1/requests",
        "/api/v1/requests/{number}",
        "/api/v1/customers/{customer_code}/requests",
    }
    create = schema["paths"]["/api/v1/requests"]["post"]
    assert {"201", "200", "401", "403", "404", "422"} <= set(create["responses"])
    assert create["security"] == [{"BearerKey": []}, {"HeaderKey": []}]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {"type": "http", "scheme": "bearer"}
    assert schemes["HeaderKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_the_docs_page_loads_everything_from_the_site(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert "script-src 'self'" in response["Content-Security-Policy"]
