"""The service requests' JSON API (/api/v1/): other systems report faults on units by serial
number, read a request, list a customer's open requests — each with its own key and scopes."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from aftersales import apikeys
from aftersales.roles import Role
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    ProblemTypeFactory,
    ProductLineFactory,
    ProductModelFactory,
    ServiceAgreementFactory,
    api_key,
    enter_ticket,
)
from tests.queries import capture_queries
from tickets import services
from tickets.models import Channel, IntakeEvent, Ticket, TicketTransition

pytestmark = pytest.mark.django_db

CREATE_URL = "/api/v1/requests"


def bearer(whole):
    return {"Authorization": f"Bearer {whole}"}


def post(client, body, whole=None, language=None, **headers):
    if whole:
        headers.update(bearer(whole))
    if language:
        headers["Accept-Language"] = language
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(CREATE_URL, data, content_type="application/json", headers=headers)


def get(client, url, whole=None, **headers):
    if whole:
        headers.update(bearer(whole))
    return client.get(url, headers=headers)


@pytest.fixture
def unit():
    """A unit under its customer's agreement (SLA targets: tests.factories.DEFAULT_SLA)."""
    unit = EquipmentFactory(install_address="上海市浦东新区张江路 88 号 3 号楼")
    ServiceAgreementFactory(customer=unit.customer, equipment=[unit])
    return unit


@pytest.fixture
def key():
    return api_key("requests:create", "requests:read")


def report(unit, **fields):
    return {"serial_no": unit.serial_no, "description": "设备告警 E4：压缩机过热", **fields}


# Keys and scopes ----------------------------------------------------------------------------------


def test_a_call_without_a_key_is_refused_with_401(client, unit):
    response = post(client, report(unit))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "API" in response.json()["detail"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ask_0000000_short",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer ask_00000000_" + "A" * 43,  # the right shape, no such key
    ],
)
def test_a_wrong_key_is_refused_with_401(client, unit, key, header):
    response = post(client, report(unit), Authorization=header)
    assert response.status_code == 401
    assert not Ticket.objects.exists()


def test_a_key_with_a_wrong_secret_is_refused(client, unit, key):
    _key, whole = key
    forged = whole[:-4] + ("AAAA" if not whole.endswith("AAAA") else "BBBB")
    assert post(client, report(unit), forged).status_code == 401


def test_revoked_and_rotated_keys_stop_working(client, unit, key):
    api, whole = key
    _api, new = apikeys.rotate_key(api, None, prefix=api.prefix)
    assert post(client, report(unit), whole).status_code == 401
    assert post(client, report(unit), new).status_code == 201
    apikeys.revoke_key(api, None)
    assert post(client, report(unit), new).status_code == 401
    assert Ticket.objects.count() == 1


def test_the_key_may_come_in_the_x_api_key_header(client, unit, key):
    _key, whole = key
    response = post(client, report(unit), **{"X-API-Key": whole})
    assert response.status_code == 201


def test_other_systems_need_no_csrf_token(unit, key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, report(unit), key[1]).status_code == 201


def test_each_endpoint_needs_its_scope(client, unit):
    _reader, read_only = api_key("requests:read")
    _creator, create_only = api_key("requests:create")
    refused = post(client, report(unit), read_only)
    assert refused.status_code == 403
    assert "requests:create" in refused.json()["detail"]
    assert not Ticket.objects.exists()
    number = post(client, report(unit), create_only).json()["number"]
    assert get(client, f"/api/v1/requests/{number}", create_only).status_code == 403
    customer_url = f"/api/v1/customers/{unit.customer.code}/requests"
    assert get(client, customer_url, create_only).status_code == 403
    assert get(client, f"/api/v1/requests/{number}", read_only).status_code == 200


def test_401_and_403_say_nothing_about_whether_a_serial_or_number_exists(client, unit):
    _reader, read_only = api_key("requests:read")
    existing = post(client, report(unit), api_key()[1]).json()["number"]
    answers = {}
    for name, serial, number in [("real", unit.serial_no, existing), ("none", "NO-SUCH", "SR0")]:
        answers[name] = [
            (r.status_code, r.content)
            for r in (
                post(client, {"serial_no": serial, "description": "x"}),
                post(client, {"serial_no": serial, "description": "x"}, "ask_1234abcd_" + "x" * 43),
                post(client, {"serial_no": serial, "description": "x"}, read_only),
                get(client, f"/api/v1/requests/{number}"),
                get(client, f"/api/v1/requests/{number}", _forged_of(read_only)),
            )
        ]
    assert [status for status, _body in answers["real"]] == [401, 401, 403, 401, 401]
    assert answers["real"] == answers["none"]


def _forged_of(whole):
    return whole[:-1] + ("A" if whole[-1] != "A" else "B")


def test_auth_and_scope_are_checked_before_the_body(client):
    """A caller without the scope gets 403 even for a body that is not valid."""
    _reader, read_only = api_key("requests:read")
    assert post(client, {"description": 5}, read_only).status_code == 403
    assert post(client, "{not json").status_code == 401


# Reporting a fault --------------------------------------------------------------------------------


def test_a_report_creates_a_request_for_the_unit_with_its_agreements_due_times(client, unit, key):
    api, whole = key
    problem = ProblemTypeFactory(code="E4", name="压缩机过热")
    response = post(
        client,
        report(unit, problem_type="E4", priority="urgent", event_id="alarm-7781"),
        whole,
    )
    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["number"] == ticket.number
    assert body["duplicate"] is False
    assert body["event_id"] == "alarm-7781"
    assert body["state"] == {"code": "pending_assignment", "label": "待分配"}
    assert body["channel"]["code"] == "api"
    assert body["serial_no"] == unit.serial_no
    assert body["customer_code"] == unit.customer.code
    assert body["tracking_url"] == f"http://testserver/t/{ticket.public_token}/"
    assert (ticket.channel, ticket.customer, ticket.equipment) == (
        Channel.API,
        unit.customer,
        unit,
    )
    assert ticket.product == unit.product_model
    assert ticket.problem_type == problem
    assert ticket.created_by is None
    assert ticket.address == unit.install_address
    assert ticket.agreement.customer == unit.customer
    # Urgent under the agreement: 30 working minutes to respond (DEFAULT_SLA).
    assert ticket.response_due is not None
    assert body["due"]["response"] == timezone.localtime(ticket.response_due).isoformat()
    assert body["due"]["resolution"] == timezone.localtime(ticket.resolution_due).isoformat()
    entry = TicketTransition.objects.get(ticket=ticket)
    assert (entry.action, entry.actor) == ("enter", None)
    assert IntakeEvent.objects.get().api_key == api
    problem.refresh_from_db()
    assert problem.ticket_count == 1


def test_the_tracking_link_opens_the_customers_page(client, unit, key):
    url = post(client, report(unit), key[1]).json()["tracking_url"]
    page = client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert Ticket.objects.get().number in page.content.decode()


def test_a_problem_type_is_found_by_its_name_too(client, unit, key):
    problem = ProblemTypeFactory(code="E4", name="压缩机过热")
    assert post(client, report(unit, problem_type="压缩机过热"), key[1]).status_code == 201
    assert Ticket.objects.get().problem_type == problem


def test_without_a_contact_the_customers_main_contact_is_called(client, unit, key):
    main = ContactFactory(customer=unit.customer, primary=True)
    post(client, report(unit), key[1])
    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.contact_phone) == (main, main.mobile)


def test_a_named_contact_is_kept(client, unit, key):
    ContactFactory(customer=unit.customer, primary=True)
    post(client, report(unit, contact_name="值班室", contact_phone="021-6488 1234"), key[1])
    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.contact_name, ticket.contact_phone) == (
        None,
        "值班室",
        "021-6488 1234",
    )


def test_an_unknown_serial_is_404_with_the_fields_message(client, key):
    response = post(client, {"serial_no": "NO-SUCH-UNIT", "description": "x"}, key[1], "en")
    assert response.status_code == 404
    assert response.json()["errors"] == {"serial_no": ["No unit has this serial number."]}
    assert not Ticket.objects.exists()


def test_a_serial_of_two_models_needs_the_model_code(client, key):
    first = EquipmentFactory(serial_no="SN-1")
    EquipmentFactory(serial_no="SN-1")
    ambiguous = post(client, {"serial_no": "SN-1", "description": "x"}, key[1], "en")
    assert ambiguous.status_code == 422
    assert list(ambiguous.json()["errors"]) == ["model_code"]
    body = {"serial_no": "SN-1", "description": "x", "model_code": first.product_model.code}
    assert post(client, body, key[1]).status_code == 201
    assert Ticket.objects.get().equipment == first


def test_missing_fields_are_named_in_chinese_by_default(client, key):
    response = post(client, {"serial_no": "  ", "priority": "normal"}, key[1])
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"] == {
        "serial_no": ["这个字段是必填项。"],
        "description": ["这个字段是必填项。"],
    }
    # UTF-8, not \\u escapes.
    assert "这个字段是必填项".encode() in response.content


def test_field_messages_in_english_when_asked(client, unit, key):
    response = post(
        client,
        report(
            unit,
            serial_no="S" * 61,
            priority="asap",
            requested_date="2026-02-30",
            contact_phone="call me",
            event_id="e" * 101,
        ),
        key[1],
        "en",
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == {
        "serial_no": ["Ensure this value has at most 60 characters (it has 61)."],
        "priority": ["Select a valid choice. asap is not one of the available choices."],
        "requested_date": ["Enter a valid date."],
        "event_id": ["Ensure this value has at most 100 characters (it has 101)."],
    }
    assert not Ticket.objects.exists()


def test_checks_after_the_unit_is_found_have_messages_too(client, unit, key):
    ProblemTypeFactory(code="LIFT", name="电梯困人", product_lines=[ProductLineFactory()])
    ProblemTypeFactory(code="OLD", name="旧类型", active=False)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    for problem, message in [
        ("LIFT", "is not a problem of"),
        ("OLD", "No problem type has this code or name."),
        ("NOPE", "No problem type has this code or name."),
    ]:
        response = post(
            client,
            report(unit, problem_type=problem, requested_date=yesterday, contact_phone="abc<"),
            key[1],
            "en",
        )
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert message in errors["problem_type"][0]
        assert errors["requested_date"] == ["The requested date cannot be in the past."]
        assert "phone number" in errors["contact_phone"][0]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"'])
def test_a_body_that_is_no_json_object_is_refused_clearly(client, key, body):
    response = post(client, body, key[1], "en")
    assert response.status_code in (400, 422)
    assert response.json()["detail"] == "The request was not accepted; nothing was changed."
    assert not Ticket.objects.exists()


def test_bidirectional_controls_are_taken_out_of_texts(client, unit, key):
    post(client, report(unit, description="告警\u202eE4", contact_name="王\u202e工"), key[1])
    ticket = Ticket.objects.get()
    assert (ticket.description, ticket.contact_name) == ("告警E4", "王工")
    nothing = post(client, report(unit, description="\u202e\u202c"), key[1], "en")
    assert nothing.json()["errors"] == {"description": ["This field is required."]}
    assert Ticket.objects.count() == 1


# The same event twice -----------------------------------------------------------------------------


def test_a_repeated_event_returns_the_open_request(client, unit, key):
    first = post(client, report(unit, event_id="alarm-1"), key[1])
    again = post(client, report(unit, event_id="alarm-1", description="第二次告警"), key[1])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"]
    assert again.json()["duplicate"] is True
    assert Ticket.objects.count() == 1
    # Another event, or the same event id from another system, is another request.
    assert post(client, report(unit, event_id="alarm-2"), key[1]).status_code == 201
    assert post(client, report(unit, event_id="alarm-1"), api_key()[1]).status_code == 201
    assert Ticket.objects.count() == 3


def test_without_an_event_id_every_call_is_a_new_request(client, unit, key):
    post(client, report(unit), key[1])
    assert post(client, report(unit), key[1]).status_code == 201
    assert Ticket.objects.count() == 2


def test_once_the_request_is_finished_the_same_event_makes_a_new_one(client, unit, key, dispatcher):
    number = post(client, report(unit, event_id="alarm-1"), key[1]).json()["number"]
    ticket = Ticket.objects.get(number=number)
    services.perform(ticket, "cancel", dispatcher, reason="告警误报")
    again = post(client, report(unit, event_id="alarm-1"), key[1])
    assert again.status_code == 201
    assert again.json()["number"] != number
    assert again.json()["duplicate"] is False
    # The new one is the open one now: a third call returns it.
    third = post(client, report(unit, event_id="alarm-1"), key[1])
    assert (third.status_code, third.json()["number"]) == (200, again.json()["number"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_calls_at_once_make_one_request():
    """Two connections send the same event at the same moment: one request, the other call
    gets it back as the duplicate (the advisory lock on key + event id)."""
    from django.test import Client

    unit = EquipmentFactory()
    _api, whole = api_key()
    barrier = threading.Barrier(2)
    answers = []

    def call():
        try:
            barrier.wait(timeout=10)
            response = post(Client(), report(unit, event_id="alarm-same"), whole)
            answers.append((response.status_code, response.json()["number"]))
        finally:
            connections.close_all()  # each thread used its own database connection

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(status for status, _number in answers) == [200, 201]
    assert len({number for _status, number in answers}) == 1
    assert Ticket.objects.count() == 1
    assert IntakeEvent.objects.count() == 1
    assert connection.vendor == "postgresql"


def test_creating_costs_a_handful_of_queries(client, unit, key):
    ProblemTypeFactory(code="E4")
    post(client, report(unit), key[1])  # the key's first use writes last_used_at
    with capture_queries() as queries:
        response = post(client, report(unit, problem_type="E4", event_id="a-1"), key[1])
    assert response.status_code == 201
    # Key, unit, problem type, main contact; lock, earlier event; number, agreement and its
    # targets (one query whichever level covers), default calendar, ticket, statistics mark,
    # log, two counters, intake. One transaction, no savepoint inside it (the one SAVEPOINT and
    # RELEASE here are the transaction itself, inside the test's).
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 16, "\n".join(statements)
    assert len(queries) - len(statements) == 2


# Reading ------------------------------------------------------------------------------------------


def test_a_request_is_read_by_its_number_without_internal_details(
    client, unit, key, dispatcher, engineer
):
    _api, whole = key
    number = post(client, report(unit, contact_phone="13912345678"), whole).json()["number"]
    ticket = Ticket.objects.get(number=number)
    engineer.display_name = "李工"
    engineer.save()
    services.perform(ticket, "assign", dispatcher, engineer=engineer)
    response = get(client, f"/api/v1/requests/{number}", whole)
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == {"code": "assigned", "label": "已分配"}
    assert body["engineer"] == "李工"
    assert body["assigned_at"] is not None
    text = response.content.decode()
    assert "13912345678" not in text
    assert "contact" not in text
    assert "reason" not in text


def test_an_unknown_number_is_404(client, key):
    response = get(client, "/api/v1/requests/SR20000101-0001", key[1])
    assert response.status_code == 404


def test_labels_follow_the_callers_language(client, unit, key):
    number = post(client, report(unit), key[1]).json()["number"]
    response = get(client, f"/api/v1/requests/{number}", key[1], **{"Accept-Language": "en"})
    assert response.json()["state"]["label"] == "Pending assignment"


def test_a_customers_open_requests_a_page_at_a_time(client, key, dispatcher):
    customer = CustomerFactory()
    other = CustomerFactory()
    tickets = [enter_ticket(dispatcher, customer=customer) for _ in range(3)]
    done = enter_ticket(dispatcher, customer=customer)
    services.perform(done, "cancel", dispatcher, reason="客户撤回")
    enter_ticket(dispatcher, customer=other)
    url = f"/api/v1/customers/{customer.code}/requests"
    first = get(client, f"{url}?limit=2", key[1]).json()
    assert (first["count"], first["limit"], first["offset"]) == (3, 2, 0)
    newest_first = [t.number for t in reversed(tickets)]
    assert [item["number"] for item in first["items"]] == newest_first[:2]
    second = get(client, f"{url}?limit=2&offset=2", key[1]).json()
    assert [item["number"] for item in second["items"]] == newest_first[2:]


def test_an_unknown_customer_is_404_and_bad_paging_422(client, key):
    assert get(client, "/api/v1/customers/NOPE/requests", key[1]).status_code == 404
    customer = CustomerFactory()
    bad = get(client, f"/api/v1/customers/{customer.code}/requests?limit=1000", key[1])
    assert bad.status_code == 422
    assert list(bad.json()["errors"]) == ["limit"]


def test_the_customer_list_costs_the_same_queries_for_more_requests(
    client, key, dispatcher, make_user
):
    _api, whole = key
    customer = CustomerFactory()
    line = ProductLineFactory()
    url = f"/api/v1/customers/{customer.code}/requests"

    def add(n):
        for _ in range(n):
            engineer = make_user(Role.ENGINEER, username=f"engineer-{Ticket.objects.count()}")
            unit = EquipmentFactory(customer=customer, product_model=ProductModelFactory(line=line))
            ticket = enter_ticket(
                dispatcher, customer=customer, equipment=unit, problem_type=ProblemTypeFactory()
            )
            services.perform(ticket, "assign", dispatcher, engineer=engineer)

    get(client, url, whole)  # the key's first use writes last_used_at

    def count():
        with capture_queries() as queries:
            response = get(client, url, whole)
        assert response.status_code == 200
        return len(queries), len(response.json()["items"])

    add(2)
    small, shown = count()
    assert shown == 2
    add(8)
    large, shown = count()
    assert shown == 10
    assert small == large <= 4  # the key, the customer, the count, the page
