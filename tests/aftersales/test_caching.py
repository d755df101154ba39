"""What pages remember between requests (aftersales.caching) is never out of date for the user:
a change to roles, permissions or notifications shows on the very next page."""

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from aftersales.notifications import notify
from aftersales.roles import Role

from ..queries import capture_queries


def sql_of(client, url, status=200):
    with capture_queries() as ctx:
        response = client.get(url)
    assert response.status_code == status
    return [q["sql"] for q in ctx]


def test_permissions_and_roles_are_read_once_then_remembered(dispatcher_client):
    url = reverse("tickets:list")
    first = sql_of(dispatcher_client, url)
    again = sql_of(dispatcher_client, url)
    assert any("auth_permission" in sql for sql in first)
    assert not any("auth_permission" in sql or "auth_group" in sql for sql in again)
    assert len(again) < len(first)


def test_a_role_taken_away_counts_on_the_next_page(dispatcher, dispatcher_client):
    url = reverse("tickets:list")
    sql_of(dispatcher_client, url)  # remembered now
    group = Group.objects.get(name=Role.DISPATCHER)
    dispatcher.groups.remove(group)
    sql_of(dispatcher_client, url, status=403)
    dispatcher.groups.add(group)
    sql_of(dispatcher_client, url)


def test_a_permission_taken_from_a_role_counts_on_the_next_page(dispatcher_client):
    url = reverse("tickets:list")
    sql_of(dispatcher_client, url)
    group = Group.objects.get(name=Role.DISPATCHER)
    group.permissions.remove(Permission.objects.get(codename="view_ticket"))
    sql_of(dispatcher_client, url, status=403)


def test_the_menu_follows_a_new_role_at_once(dispatcher, dispatcher_client):
    page = dispatcher_client.get(reverse("tickets:list")).content.decode()
    assert reverse("tickets:manager_queues") not in page
    dispatcher.groups.add(Group.objects.get(name=Role.SERVICE_MANAGER))
    page = dispatcher_client.get(reverse("tickets:list")).content.decode()
    assert reverse("tickets:manager_queues") in page


def bell(client):
    """The unread count on the bell, "0" when it shows none."""
    html = client.get(reverse("notifications:list")).content.decode()
    if 'class="app-bell-count"' not in html:
        return "0"
    start = html.index('class="app-bell-count"')
    return html[html.index(">", start) + 1 : html.index("<", start)]


def test_the_bell_counts_a_new_notification_and_a_reading_at_once(dispatcher, dispatcher_client):
    assert bell(dispatcher_client) == "0"
    notify("test", users=[dispatcher], title="工单 T1 已分配", url="/tickets/", key="t1")
    notify("test", users=[dispatcher], title="工单 T2 已分配", url="/tickets/", key="t2")
    assert bell(dispatcher_client) == "2"
    dispatcher_client.post(reverse("notifications:read_all"))
    assert bell(dispatcher_client) == "0"
