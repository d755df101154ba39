"""Dispatcher desk, queues, work order, the customer's view, admin and access."""

import pytest
from django.urls import reverse

from aftersales.roles import Role
from tests.factories import (
    CustomerFactory,
    EngineerProfileFactory,
    EquipmentFactory,
    ProblemTypeFactory,
    ServiceAgreementFactory,
    enter_ticket,
    ticket_in_state,
)
from tests.queries import capture_queries, count_queries
from tickets import services
from tickets.models import State


def make_tickets(n, dispatcher, engineer):
    problem = ProblemTypeFactory()
    for i in range(n):
        t = enter_ticket(
            dispatcher,
            customer=CustomerFactory(),
            equipment=EquipmentFactory(),
            problem_type=problem,
        )
        if i % 2:
            services.perform(t, "assign", dispatcher, engineer=engineer)


def test_desk_queries_do_not_grow_with_rows(dispatcher, dispatcher_client, engineer):
    url = reverse("tickets:list")
    make_tickets(3, dispatcher, engineer)
    small = count_queries(dispatcher_client, url)
    make_tickets(30, dispatcher, engineer)
    assert count_queries(dispatcher_client, url) == small
    filtered = url + "?state=assigned&priority=normal&sort=-created"
    assert count_queries(dispatcher_client, filtered) <= small + 1


def test_detail_queries_do_not_grow_with_events(dispatcher, dispatcher_client, engineer, make_user):
    other = make_user(Role.ENGINEER, username="engineer2")
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    url = reverse("tickets:detail", args=[ticket.pk])
    small = count_queries(dispatcher_client, url)
    for i in range(20):
        ticket = services.perform(ticket, "assign", dispatcher, engineer=(other, engineer)[i % 2])
    assert count_queries(dispatcher_client, url) == small


def queue_count(client, state):
    html = client.get(reverse("tickets:list")).content.decode()
    tab = html.index(f'data-queue="{state}"')
    start = html.index('class="queue-count">', tab) + len('class="queue-count">')
    return int(html[start : html.index("<", start)])


def test_queue_counts_follow_every_change_of_state(dispatcher, dispatcher_client, engineer):
    ticket = enter_ticket(dispatcher)
    assert queue_count(dispatcher_client, "pending_assignment") == 1  # remembered now
    assert queue_count(dispatcher_client, "assigned") == 0
    services.perform(ticket, "assign", dispatcher, engineer=engineer)
    assert queue_count(dispatcher_client, "pending_assignment") == 0
    assert queue_count(dispatcher_client, "assigned") == 1
    enter_ticket(dispatcher)
    assert queue_count(dispatcher_client, "pending_assignment") == 1


def test_the_desk_remembers_its_short_lists_and_counts(dispatcher_client):
    url = reverse("tickets:list")
    dispatcher_client.get(url)
    with capture_queries() as queries:
        dispatcher_client.get(url)
    tables = " ".join(q["sql"] for q in queries)
    for table in ("tickets_problemtype", "aftersales_servicepoint", "GROUP BY"):
        assert table not in tables


def test_new_engineers_and_problem_types_show_in_the_select_boxes_at_once(
    dispatcher, dispatcher_client, make_user
):
    ticket = enter_ticket(dispatcher)
    desk, detail = reverse("tickets:list"), reverse("tickets:detail", args=[ticket.pk])
    dispatcher_client.get(desk), dispatcher_client.get(detail)  # remembered now
    newcomer = make_user(Role.ENGINEER, username="newcomer", display_name="新来的工程师")
    EngineerProfileFactory(user=newcomer)
    problem = ProblemTypeFactory(name="新的故障类型")
    html = dispatcher_client.get(desk).content.decode()
    assert f'<option value="{newcomer.pk}">新来的工程师</option>' in html
    assert f'<option value="{problem.pk}">新的故障类型</option>' in html
    html = dispatcher_client.get(detail).content.decode()
    assert f'<option value="{newcomer.pk}">新来的工程师 · ' in html


def test_a_chosen_select_box_is_forgotten_with_the_others(
    dispatcher, dispatcher_client, engineer, make_user
):
    desk = reverse("tickets:list")
    chosen = {"engineer": engineer.pk}
    dispatcher_client.get(desk, chosen)  # remembered now, with the engineer chosen
    newcomer = make_user(Role.ENGINEER, username="newcomer", display_name="新来的工程师")
    EngineerProfileFactory(user=newcomer)
    html = dispatcher_client.get(desk, chosen).content.decode()
    assert f'<option value="{newcomer.pk}">新来的工程师</option>' in html
    assert f'<option value="{engineer.pk}" selected>' in html


def test_the_remembered_timeline_follows_every_change(dispatcher, dispatcher_client):
    ticket = enter_ticket(dispatcher)
    url = reverse("tickets:detail", args=[ticket.pk])
    first = count_queries(dispatcher_client, url)
    with capture_queries() as queries:
        html = dispatcher_client.get(url).content.decode()
        assert "客户要求改期" not in html.split('id="timeline"')[1]
    assert len(queries) < first  # the timeline came from the cache
    services.perform(ticket, "suspend", dispatcher, reason="客户要求改期")
    timeline = dispatcher_client.get(url).content.decode().split('id="timeline"')[1]
    assert "客户要求改期" in timeline


def test_the_desk_marks_the_chosen_filters(dispatcher, dispatcher_client, engineer):
    html = dispatcher_client.get(
        reverse("tickets:list"), {"engineer": engineer.pk, "state": "assigned"}
    ).content.decode()
    assert f'<option value="{engineer.pk}" selected>' in html
    assert '<option value="assigned" selected>' in html
    assert html.count(" selected>") == 8  # one per select box: the others show "All"


def test_a_search_pages_through_every_way_of_matching_once(dispatcher, dispatcher_client):
    # The same digits are a unit's serial number and a caller's phone: 12 tickets on the unit,
    # 12 from the phone, 6 with both. On PostgreSQL each way is read from its own index and
    # the pages are put together; the desk shows each ticket once, newest first.
    text = "13911112222"
    unit = EquipmentFactory(serial_no=text)
    on_unit = [enter_ticket(dispatcher, customer=unit.customer, equipment=unit) for _ in range(12)]
    by_phone = [enter_ticket(dispatcher, contact_phone=text) for _ in range(12)]
    both = [
        enter_ticket(dispatcher, customer=unit.customer, equipment=unit, contact_phone=text)
        for _ in range(6)
    ]
    enter_ticket(dispatcher)  # matches nothing
    expected = [t.pk for t in sorted(on_unit + by_phone + both, key=lambda t: (t.created_at, t.pk))]
    expected.reverse()
    pages = [dispatcher_client.get(reverse("tickets:list"), {"q": text, "page": n}) for n in (1, 2)]
    shown = [t.pk for page in pages for t in page.context["object_list"]]
    assert shown == expected
    assert pages[0].context["paginator"].count == 30
    queue = dispatcher_client.get(reverse("tickets:list"), {"q": text, "state": "assigned"})
    assert list(queue.context["object_list"]) == []


def test_desk_queues_filters_and_search(dispatcher, dispatcher_client, engineer):
    unit = EquipmentFactory(serial_no="SN-FIND-ME")
    found = enter_ticket(dispatcher, customer=unit.customer, equipment=unit)
    services.perform(found, "assign", dispatcher, engineer=engineer)
    other = enter_ticket(dispatcher, contact_phone="13912345678")
    page = dispatcher_client.get(reverse("tickets:list")).content.decode()
    assert 'data-queue="assigned"' in page
    assert found.number in page and other.number in page

    by_serial = dispatcher_client.get(reverse("tickets:list"), {"q": "sn-find-me"})
    assert [t.pk for t in by_serial.context["object_list"]] == [found.pk]
    by_phone = dispatcher_client.get(reverse("tickets:list"), {"q": "13912345678"})
    assert [t.pk for t in by_phone.context["object_list"]] == [other.pk]
    by_state = dispatcher_client.get(reverse("tickets:list"), {"state": "pending_assignment"})
    assert [t.pk for t in by_state.context["object_list"]] == [other.pk]
    by_engineer = dispatcher_client.get(reverse("tickets:list"), {"engineer": engineer.pk})
    assert [t.pk for t in by_engineer.context["object_list"]] == [found.pk]
    queues = {s: n for s, _label, n in by_state.context["queues"]}
    assert (queues["pending_assignment"], queues["assigned"]) == (1, 1)


def test_detail_shows_only_the_actions_this_user_may_take(
    dispatcher, engineer, service_manager, client_for
):
    ticket = ticket_in_state(State.LOCKED, dispatcher=dispatcher, engineer=engineer)
    url = reverse("tickets:detail", args=[ticket.pk])
    dispatcher_page = client_for(dispatcher).get(url).content.decode()
    assert 'id="no-actions"' in dispatcher_page
    manager_page = client_for(service_manager).get(url).content.decode()
    assert 'data-action="unlock"' in manager_page
    assert 'data-action="cancel_locked"' in manager_page
    assert 'data-action="assign"' not in manager_page
    assert "缺少备件" in manager_page  # why it is locked


def test_manager_queues(dispatcher, engineer, service_manager, client_for):
    locked = ticket_in_state(State.LOCKED, dispatcher=dispatcher, engineer=engineer)
    closed = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    client = client_for(service_manager)
    page = client.get(reverse("tickets:manager_queues")).content.decode()
    assert locked.number in page and closed.number in page
    assert "2 轮未解决" in page
    client.post(
        reverse("tickets:act", args=[closed.pk, "verify"]),
        {"version": closed.version, "next": reverse("tickets:manager_queues")},
    )
    closed.refresh_from_db()
    assert closed.state == State.VERIFIED


def test_the_queues_show_the_visit_record_as_corrected(
    dispatcher, engineer, service_manager, client_for
):
    """The queues keep each rendered visit record by the ticket's version: a correction after
    a send-back shows at once."""
    ticket = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    client = client_for(service_manager)
    queues = reverse("tickets:manager_queues")
    assert "更换压缩机电容" in client.get(queues).content.decode()
    services.perform(ticket, "send_back", service_manager, reason="补录工时")
    ticket.refresh_from_db()
    services.correct_visit(
        ticket,
        engineer,
        version=ticket.version,
        record={"labour_hours": "7.5", "work_done": "更换控制板"},
        parts=[("控制板 CB-7", 1)],
    )
    row = client.get(queues).content.decode().split(f'data-ticket="{ticket.number}"')[1]
    row = row.split("</tr>")[0]
    assert "控制板 CB-7" in row and "7.5" in row and "更换压缩机电容" not in row


def test_work_order_and_the_customers_view(client, dispatcher, engineer, dispatcher_client):
    ticket = ticket_in_state(
        State.CLOSED, dispatcher=dispatcher, engineer=engineer, analysis="内部：怀疑客户私自拆机"
    )
    services.perform(ticket, "send_back", _manager(), reason="内部：费用核对")
    order = dispatcher_client.get(reverse("tickets:work_order", args=[ticket.pk])).content.decode()
    assert ticket.number in order and "<svg" in order
    assert "更换压缩机电容" in order  # the visit record
    public_url = reverse("ticket_public", args=[ticket.public_token])
    assert public_url in order

    public = client.get(public_url).content.decode()
    assert ticket.number in public and "更换压缩机电容" in public
    assert "已关闭" in public
    for internal in ("怀疑客户私自拆机", "费用核对", "很满意"):
        assert internal not in public
    assert client.get(reverse("ticket_public", args=["not-a-token"])).status_code == 404


def _manager():
    from tests.factories import UserFactory

    return UserFactory(username="sm-public", roles=[Role.SERVICE_MANAGER])


def test_public_view_is_rate_limited(client, dispatcher, engineer, settings):
    settings.PUBLIC_RATE_LIMIT = "3/m"
    ticket = enter_ticket(dispatcher)
    url = reverse("ticket_public", args=[ticket.public_token])
    codes = [client.get(url, REMOTE_ADDR="10.9.8.7").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429


@pytest.mark.parametrize(
    "url_name, allowed",
    [
        ("tickets:list", {"dispatcher", "service_manager", "revisit_agent", "manager"}),
        ("tickets:create", {"dispatcher", "service_manager"}),
        ("tickets:revisit_queue", {"revisit_agent"}),
        ("tickets:manager_queues", {"service_manager"}),
    ],
)
def test_pages_check_the_role(url_name, allowed, make_user, client_for, client):
    assert client.get(reverse(url_name)).status_code == 302  # anonymous → login
    for role in ["dispatcher", "engineer", "service_manager", "revisit_agent", "manager"]:
        user = make_user(Role(role), username=f"{role}-{url_name}")
        code = client_for(user).get(reverse(url_name)).status_code
        assert code == (200 if role in allowed else 403), (role, url_name, code)


def test_other_roles_cannot_open_a_ticket_they_may_not_see(
    dispatcher, engineer, make_user, client_for
):
    ticket = enter_ticket(dispatcher)
    clerk = make_user(Role.PARTS_CLERK)
    assert client_for(clerk).get(reverse("tickets:detail", args=[ticket.pk])).status_code == 404
    assert client_for(clerk).get(reverse("tickets:work_order", args=[ticket.pk])).status_code == 404


def test_admin_shows_history_and_no_editable_state(admin_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    page = admin_client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="state"' not in html
    assert "assign" in html  # the transition inline
    changelist = admin_client.get(reverse("admin:tickets_ticket_changelist"))
    assert ticket.number in changelist.content.decode()


def test_customer_page_lists_requests_and_offers_entry(dispatcher, dispatcher_client, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    page = dispatcher_client.get(reverse("customers:detail", args=[ticket.customer.pk]))
    html = page.content.decode()
    assert ticket.number in html and "已分配" in html
    assert f"{reverse('tickets:create')}?customer={ticket.customer.pk}" in html


def test_a_request_under_the_default_policy_names_it_not_its_code(dispatcher, dispatcher_client):
    ServiceAgreementFactory(default_policy=True)
    ticket = enter_ticket(dispatcher)
    assert ticket.agreement.is_default
    page = dispatcher_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    sla = page.split('id="sla"')[1].split("</div>")[0]
    assert "默认策略" in sla and "DEFAULT" not in sla


def test_each_revisit_is_one_event_of_the_timeline(dispatcher, engineer, revisit_agent, client_for):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    ticket = services.record_revisit(
        ticket, revisit_agent, version=ticket.version, outcome="unreachable", comment="无人接听"
    )
    services.record_revisit(
        ticket,
        revisit_agent,
        version=ticket.version,
        outcome="satisfied",
        score=5,
        comment="师傅很专业",
    )
    page = client_for(dispatcher).get(reverse("tickets:detail", args=[ticket.pk]))
    timeline = page.content.decode().split('<ol class="timeline')[1].split("</ol>")[0]
    assert timeline.count("回访：满意") == 1 and timeline.count("师傅很专业") == 1
    assert timeline.count("无人接听") == 1 and "评分 5/5" in timeline


def test_a_units_page_lists_its_service_history(dispatcher, dispatcher_client):
    unit = EquipmentFactory()
    other = EquipmentFactory(customer=unit.customer)
    first = enter_ticket(dispatcher, customer=unit.customer, equipment=unit)
    second = enter_ticket(dispatcher, customer=unit.customer, equipment=unit)
    elsewhere = enter_ticket(dispatcher, customer=unit.customer, equipment=other)
    page = dispatcher_client.get(reverse("customers:equipment_detail", args=[unit.pk]))
    history = page.content.decode().split('id="unit-history"')[1]
    assert history.index(second.number) < history.index(first.number)  # newest first
    assert elsewhere.number not in history


def test_the_tracking_link_is_shown_and_texted_to_the_contact(dispatcher, dispatcher_client):
    from aftersales.models import Delivery

    ticket = enter_ticket(dispatcher, contact_phone="139 1234 5678")
    url = reverse("tickets:detail", args=[ticket.pk])
    tracking = reverse("ticket_public", args=[ticket.public_token])
    page = dispatcher_client.get(url).content.decode()
    assert f'value="http://testserver{tracking}"' in page and "data-copy" in page

    send = reverse("tickets:send_tracking", args=[ticket.pk])
    response = dispatcher_client.post(send, {"version": ticket.version})
    assert response.status_code == 302
    sms = Delivery.objects.get(channel=Delivery.Channel.SMS)
    assert sms.target == "13912345678" and f"http://testserver{tracking}" in sms.payload["text"]
    assert sms.payload["text"].startswith(f"【售后服务】您的服务请求 {ticket.number}")
    ticket.refresh_from_db()
    assert ticket.log.latest("id").action == "send_tracking"

    stale = dispatcher_client.post(send, {"version": ticket.version - 1}, follow=True)
    assert Delivery.objects.filter(channel=Delivery.Channel.SMS).count() == 1
    assert stale.status_code == 200
