"""Notifications: the bell, e-mail, group-robot webhooks and SMS, written once and sent once.

Robots are a local HTTP server started by the test (this machine reaches no other network).
Sending runs in-process through `aftersales.tasks.deliver` here, and in a real Celery worker with
beat against Redis in the last test.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from aftersales import notifications, tasks
from aftersales.celery import app
from aftersales.models import Delivery, Notification, WebhookChannel
from aftersales.notifications import Row, notify, notify_many, send_sms
from aftersales.roles import Role

from ..factories import ServicePointFactory, UserFactory, enter_ticket
from ..queries import capture_queries

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
OK = {
    WebhookChannel.Kind.WECOM: {"errcode": 0, "errmsg": "ok"},
    WebhookChannel.Kind.DINGTALK: {"errcode": 0, "errmsg": "ok"},
    WebhookChannel.Kind.FEISHU: {"code": 0, "msg": "success", "data": {}},
}


# --- A local robot ------------------------------------------------------------------------------


class Receiver:
    """A local HTTP server standing in for a group robot: records every POST and answers from
    `replies` (status, JSON) in turn, then with `default`."""

    def __init__(self):
        self.requests = []
        self.replies = []
        self.default = (200, {"errcode": 0, "errmsg": "ok", "code": 0})
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                with receiver.lock:
                    status, answer = (
                        receiver.replies.pop(0) if receiver.replies else receiver.default
                    )
                    receiver.requests.append(
                        {
                            "path": urlsplit(self.path).path,
                            "query": parse_qs(urlsplit(self.path).query),
                            "json": body,
                            "content_type": self.headers.get("Content-Type"),
                            "status": status,
                        }
                    )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    @property
    def accepted(self):
        with self.lock:
            return [r for r in self.requests if r["status"] == 200]


@pytest.fixture
def receiver():
    robot = Receiver()
    robot.thread.start()
    yield robot
    robot.server.shutdown()
    robot.server.server_close()


@pytest.fixture
def sent_now(monkeypatch):
    """Queued deliveries run at once, in-process, through the real task (retries included);
    returns the ids that were queued."""
    queued = []

    def delay(pk):
        queued.append(pk)
        tasks.deliver.apply(args=[pk])

    monkeypatch.setattr(tasks.deliver, "delay", delay)
    return queued


@pytest.fixture
def point():
    return ServicePointFactory()


def robot(point, kind, url, **fields):
    return WebhookChannel.objects.create(service_point=point, kind=kind, url=url, **fields)


def queued_ids(callbacks):
    """The delivery ids that on_commit callbacks would queue."""
    return [
        pk
        for callback in callbacks
        if getattr(callback, "func", None) is notifications._enqueue
        for pk in callback.args[0]
    ]


# --- Writing: once per key, only after the commit ---------------------------------------------


def test_the_same_key_twice_writes_one_row_per_recipient(
    point, receiver, django_capture_on_commit_callbacks
):
    people = [UserFactory(email="a@example.com"), UserFactory(email="b@example.com")]
    robot(point, "wecom", receiver.url("/send?key=k1"))

    def breach():
        with django_capture_on_commit_callbacks() as callbacks:
            notify(
                "sla.breach",
                users=people,
                service_point=point,
                title="工单 T1 响应超时",
                url="/tickets/1/",
                key="breach:1:response",
            )
        return queued_ids(callbacks)

    first, second = breach(), breach()

    assert Notification.objects.count() == 2
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == [
        "email",
        "email",
        "webhook",
    ]
    assert sorted(first) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert second == []  # nothing new, nothing queued


def test_a_rollback_writes_and_sends_nothing(point, receiver, django_capture_on_commit_callbacks):
    user = UserFactory(email="a@example.com")
    robot(point, "wecom", receiver.url("/send?key=k1"))
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify("ticket.assigned", users=[user], service_point=point, title="新工单", key="a:1")
        raise RuntimeError("the transition failed")

    assert callbacks == []
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_inactive_users_get_nothing_and_users_without_address_no_email(
    django_capture_on_commit_callbacks,
):
    gone = UserFactory(email="gone@example.com", is_active=False)
    no_mail = UserFactory(email="")
    with django_capture_on_commit_callbacks():
        notify("ticket.assigned", users=[gone, no_mail], title="新工单", key="a:1")

    assert list(Notification.objects.values_list("user", flat=True)) == [no_mail.pk]
    assert not Delivery.objects.exists()


def test_notify_many_is_set_based(point):
    robot(point, "dingtalk", "http://127.0.0.1:9/robot/send?access_token=t")

    def rows(n, prefix):
        users = [UserFactory(email=f"{prefix}{i}@example.com") for i in range(n)]
        return [
            Row(u, None, f"保养到期 {i}", "", "", f"{prefix}:{i}", point)
            for i, u in enumerate(users)
        ]

    small, large = rows(2, "s"), rows(40, "l")
    with capture_queries() as few:
        notify_many("plan.due", small)
    with capture_queries() as many:
        notify_many("plan.due", large)

    assert len(many) == len(few)
    assert Notification.objects.count() == 42
    # One e-mail per person, one robot message per key.
    assert Delivery.objects.filter(channel="email").count() == 42
    assert Delivery.objects.filter(channel="webhook").count() == 42


def test_a_ticket_given_by_id_reaches_its_service_points_robots(
    point, dispatcher, django_capture_on_commit_callbacks
):
    ticket = enter_ticket(dispatcher, service_point=point)
    channel = robot(point, "feishu", "http://127.0.0.1:9/open-apis/bot/v2/hook/x")
    other = robot(ServicePointFactory(), "feishu", "http://127.0.0.1:9/open-apis/bot/v2/hook/y")
    with django_capture_on_commit_callbacks():
        notify_many(
            "sla.breach",
            [(dispatcher, ticket.pk, "超时", "", "", "breach:x")],
            about=type(ticket),
        )

    assert list(Delivery.objects.values_list("webhook", flat=True)) == [channel.pk]
    assert not other.deliveries.exists()
    # The notification knows what it is about without a foreign key to the tickets app.
    assert dispatcher.notifications.get().about == ticket


def test_switching_the_language_keeps_it_for_the_persons_notifications(dispatcher, client):
    client.force_login(dispatcher)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/tickets/"})
    assert response.status_code == 302
    dispatcher.refresh_from_db()
    assert dispatcher.language == "en"
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})  # not offered
    dispatcher.refresh_from_db()
    assert dispatcher.language == "en"


def test_each_reader_gets_the_text_in_their_own_language(make_user):
    from django.utils.translation import gettext_lazy

    from aftersales.notifications import Text

    chinese = make_user(Role.DISPATCHER, username="zh")
    english = make_user(Role.DISPATCHER, username="en", language="en")
    title = Text(gettext_lazy("%(number)s breached its SLA"), number="SR1")
    notify("sla.breach", users=[chinese, english], title=title, key="breach:lang")

    assert chinese.notifications.get().title == "SR1 已超出 SLA 时限"
    assert english.notifications.get().title == "SR1 breached its SLA"


def test_robots_hear_only_the_events_they_asked_for(point, django_capture_on_commit_callbacks):
    breaches = robot(point, "wecom", "http://127.0.0.1:9/a", events="sla.breach, sla.warning")
    everything = robot(point, "wecom", "http://127.0.0.1:9/b")
    robot(point, "wecom", "http://127.0.0.1:9/c", is_active=False)
    with django_capture_on_commit_callbacks():
        notify("ticket.assigned", service_point=point, title="新工单", key="a:1")
        notify("sla.breach", service_point=point, title="超时", key="b:1")

    assert sorted(Delivery.objects.values_list("webhook", "key")) == sorted(
        [(everything.pk, "a:1"), (everything.pk, "b:1"), (breaches.pk, "b:1")]
    )


def test_a_key_longer_than_the_column_is_refused():
    with pytest.raises(ValueError):
        notify("x", title="t", key="k" * 201)


# --- Sending -----------------------------------------------------------------------------------


def test_email_is_sent_after_the_commit_with_an_absolute_link(
    settings, mailoutbox, sent_now, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://service.example.com"
    user = UserFactory(email="engineer@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            "ticket.assigned",
            users=[user],
            title="新工单 T20261123-0001",
            body="请尽快联系客户",
            url="/tickets/7/",
            key="assigned:7:1",
        )
        assert mailoutbox == []  # nothing before the commit

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["engineer@example.com"]
    assert mail.subject == "新工单 T20261123-0001"
    assert "请尽快联系客户" in mail.body
    assert "https://service.example.com/tickets/7/" in mail.body
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    # Running the task again sends nothing again.
    tasks.deliver.apply(args=[delivery.pk])
    assert len(mailoutbox) == 1


def test_wecom_markdown_message_reaches_the_robot(
    point, receiver, sent_now, django_capture_on_commit_callbacks
):
    robot(point, "wecom", receiver.url("/cgi-bin/webhook/send?key=abc"))
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            "sla.breach",
            service_point=point,
            title="响应超时",
            body="工单 T1 已超过响应时限",
            url="/tickets/1/",
            key="b:1",
        )

    [request] = receiver.requests
    assert request["path"] == "/cgi-bin/webhook/send"
    assert request["query"] == {"key": ["abc"]}
    assert request["content_type"] == "application/json"
    body = request["json"]
    assert body["msgtype"] == "markdown"
    assert set(body) == {"msgtype", "markdown"}
    content = body["markdown"]["content"]
    assert content.startswith("**响应超时**")
    assert "工单 T1 已超过响应时限" in content
    assert f"({settings.SITE_URL}/tickets/1/)" in content
    assert Delivery.objects.get().status == "sent"


def test_dingtalk_message_is_signed_in_the_query_string(
    point, receiver, sent_now, django_capture_on_commit_callbacks
):
    secret = "SECa1b2c3d4e5f6"
    robot(point, "dingtalk", receiver.url("/robot/send?access_token=tok"), secret=secret)
    before = int(time.time() * 1000)
    with django_capture_on_commit_callbacks(execute=True):
        notify("sla.breach", service_point=point, title="到场超时", body="请处理", key="b:2")

    [request] = receiver.requests
    assert request["query"]["access_token"] == ["tok"]
    [timestamp] = request["query"]["timestamp"]
    [sign] = request["query"]["sign"]  # parse_qs has undone the URL encoding
    assert before <= int(timestamp) <= int(time.time() * 1000)
    # DingTalk's documented algorithm: HmacSHA256 keyed with the secret over "timestamp\nsecret".
    expected = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    assert sign == base64.b64encode(expected.digest()).decode()
    assert request["json"] == {
        "msgtype": "markdown",
        "markdown": {"title": "到场超时", "text": "#### 到场超时\n\n请处理"},
    }


def test_dingtalk_signature_is_url_encoded():
    params, body = notifications.signed_request(
        "dingtalk", "SECsecret", {"msgtype": "text"}, now=1_700_000_000.123
    )
    assert params["timestamp"] == "1700000000123"
    request = requests.Request(
        "POST", "http://127.0.0.1/robot/send?access_token=t", params=params, json=body
    ).prepare()
    sign = params["sign"]
    assert f"sign={quote(sign, safe='')}" in request.url
    assert body == {"msgtype": "text"}


def test_feishu_card_is_signed_in_the_body(
    point, receiver, sent_now, django_capture_on_commit_callbacks
):
    secret = "feishu-secret"
    robot(point, "feishu", receiver.url("/open-apis/bot/v2/hook/h1"), secret=secret)
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            "sla.breach",
            service_point=point,
            title="解决超时",
            body="**T3** 超过解决时限",
            url="/tickets/3/",
            key="b:3",
        )

    [request] = receiver.requests
    body = request["json"]
    assert request["query"] == {}
    timestamp, sign = body.pop("timestamp"), body.pop("sign")
    assert abs(int(timestamp) - time.time()) < 60  # seconds, not milliseconds
    # Feishu's documented algorithm: HmacSHA256 keyed with "timestamp\nsecret" over nothing.
    expected = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    assert sign == base64.b64encode(expected).decode()
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert card["header"]["title"] == {"tag": "plain_text", "content": "解决超时"}
    assert card["elements"][0] == {"tag": "markdown", "content": "**T3** 超过解决时限"}
    button = card["elements"][1]["actions"][0]
    assert button["url"] == f"{settings.SITE_URL}/tickets/3/"
    assert button["tag"] == "button"


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_the_robots_link_reads_open_a_page_in_chinese(kind):
    """ "Open" the link and "Open" the phone's tab of jobs not done are two words in Chinese."""
    with translation.override("zh-hans"):
        payload = json.dumps(
            notifications.webhook_payload(kind, "新工单", "正文", "/tickets/3/"), ensure_ascii=False
        )
    assert "打开" in payload and "未完成" not in payload


def test_unsigned_robots_get_the_plain_body():
    payload = notifications.webhook_payload("feishu", "t", "b", "")
    assert notifications.signed_request("feishu", "", payload) == ({}, payload)
    assert notifications.signed_request("wecom", "ignored", payload) == ({}, payload)


def test_a_500_is_retried_with_back_off_and_sent_once(
    point, receiver, sent_now, django_capture_on_commit_callbacks
):
    receiver.replies = [(500, {"error": "busy"})]
    robot(point, "wecom", receiver.url("/send?key=k"))
    with django_capture_on_commit_callbacks():
        notify("sla.breach", service_point=point, title="超时", key="b:1")
    delivery = Delivery.objects.get()

    assert notifications.send_delivery(delivery.pk) == 30  # the first retry waits 30 s
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)

    assert notifications.send_delivery(delivery.pk) is None
    assert notifications.send_delivery(delivery.pk) is None  # already sent: no third POST
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert [r["status"] for r in receiver.requests] == [500, 200]


def test_the_task_retries_until_the_robot_accepts(
    point, receiver, sent_now, django_capture_on_commit_callbacks
):
    receiver.replies = [(502, {}), (200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    robot(point, "wecom", receiver.url("/send?key=k"))
    with django_capture_on_commit_callbacks(execute=True):
        notify("sla.breach", service_point=point, title="超时", key="b:1")

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert len(receiver.accepted) == 2  # the 200 with an error code, then the real success
    assert [r["status"] for r in receiver.requests] == [502, 200, 200]


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url"}),
        ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}),
        ("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}),
    ],
)
def test_an_error_code_in_a_200_answer_is_a_failure(
    point, receiver, kind, answer, django_capture_on_commit_callbacks
):
    receiver.default = (200, answer)
    robot(point, kind, receiver.url("/hook"))
    with django_capture_on_commit_callbacks():
        notify("sla.breach", service_point=point, title="超时", key="b:1")
    delivery = Delivery.objects.get()

    assert notifications.send_delivery(delivery.pk) == 30
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert str(answer.get("errcode", answer.get("code"))) in delivery.last_error


def test_delivery_gives_up_after_the_last_attempt(
    settings, point, receiver, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    receiver.default = (503, {})
    robot(point, "dingtalk", receiver.url("/robot/send"))
    with django_capture_on_commit_callbacks():
        notify("sla.breach", service_point=point, title="超时", key="b:1")
    delivery = Delivery.objects.get()

    waits = [notifications.send_delivery(delivery.pk) for _ in range(4)]

    assert waits == [30, 60, None, None]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(receiver.requests) == 3


def test_retry_delays_double_up_to_half_an_hour():
    delays = [notifications.retry_delay(n) for n in range(1, 9)]
    assert delays == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_a_switched_off_robot_gets_no_more_messages(
    point, receiver, django_capture_on_commit_callbacks
):
    channel = robot(point, "wecom", receiver.url("/send"))
    with django_capture_on_commit_callbacks():
        notify("sla.breach", service_point=point, title="超时", key="b:1")
    WebhookChannel.objects.filter(pk=channel.pk).update(is_active=False)

    assert notifications.send_delivery(Delivery.objects.get().pk) is None
    assert Delivery.objects.get().status == "failed"
    assert receiver.requests == []


def test_sms_goes_to_the_log_by_default(caplog, sent_now, django_capture_on_commit_callbacks):
    caplog.set_level(logging.INFO, logger="aftersales.sms")
    with django_capture_on_commit_callbacks(execute=True):
        send_sms("138 0013 8000", "您的工单已受理", key="sms:ticket:1")
        send_sms("13800138000", "您的工单已受理", key="sms:ticket:1")

    assert len(sent_now) == 1
    [record] = [r for r in caplog.records if r.name == "aftersales.sms"]
    assert record.levelno == logging.INFO
    assert "13800138000" in record.getMessage()
    assert "您的工单已受理" in record.getMessage()
    assert Delivery.objects.get().status == "sent"


class FailingSms:
    def send(self, mobile, text):
        raise ConnectionError("gateway down")


def test_sms_backend_failures_are_retried(settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = f"{__name__}.FailingSms"
    with django_capture_on_commit_callbacks():
        send_sms("13800138000", "您的工单已受理", key="sms:1")
    delivery = Delivery.objects.get()

    assert notifications.send_delivery(delivery.pk) == 30
    delivery.refresh_from_db()
    assert "gateway down" in delivery.last_error


def test_the_sweep_requeues_only_rows_whose_message_was_lost(point, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.deliver, "delay", queued.append)
    now = timezone.now()
    lost = Delivery.objects.create(
        channel="sms", target="13800138000", key="lost", next_attempt_at=now - timedelta(hours=1)
    )
    Delivery.objects.create(channel="sms", target="13800138000", key="fresh", next_attempt_at=now)
    Delivery.objects.create(
        channel="sms", target="13800138000", key="done", status="sent", next_attempt_at=now
    )

    assert tasks.requeue_deliveries.apply().get() == 1
    assert queued == [lost.pk]
    lost.refresh_from_db()
    assert lost.next_attempt_at > now  # not again next minute
    assert tasks.requeue_deliveries.apply().get() == 0


def test_the_sweep_runs_every_minute_from_beat():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["deliveries"]
    assert entry == {"task": "aftersales.tasks.requeue_deliveries", "schedule": 60.0}
    assert entry["task"] in app.tasks
    assert "aftersales.tasks.deliver" in app.tasks


# --- The bell and the list ---------------------------------------------------------------------


def make_notifications(user, n, *, read=0, url="/org/status/"):
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            user=user,
            event="test",
            title=f"通知 {i}",
            body="内容",
            url=url,
            key=f"k{i}",
            created_at=now - timedelta(minutes=i),
            read_at=now if i < read else None,
        )
        for i in range(n)
    )


def test_the_bell_shows_the_unread_count(dispatcher, dispatcher_client):
    make_notifications(dispatcher, 4, read=1)
    html = dispatcher_client.get(reverse("notifications:list")).content.decode()
    assert 'class="app-bell-count" aria-hidden="true">3<' in html


def test_the_bell_caps_its_count(dispatcher, dispatcher_client):
    make_notifications(dispatcher, 120)
    html = dispatcher_client.get(reverse("notifications:list")).content.decode()
    assert ">99+<" in html


def test_anonymous_pages_have_no_bell(client):
    html = client.get(reverse("login")).content.decode()
    assert "app-bell" not in html


@pytest.mark.parametrize("unread", [0, 50])
def test_the_bell_costs_one_query_whatever_the_count(
    administrator, administrator_client, django_assert_num_queries, unread
):
    # The status page shows the bell twice (phone bar, desk topbar); it is counted once.
    make_notifications(administrator, unread)
    # session, user, groups, permissions ×2 (navigation), heartbeats, business calendars and
    # their users (agreements) for the calendar warnings
    baseline = 8
    with django_assert_num_queries(baseline + 1):
        response = administrator_client.get(reverse("org:status"))
    assert response.content.decode().count('class="app-bell ') == 2


@pytest.mark.parametrize("count", [3, 30])
def test_notification_list_has_a_fixed_query_budget(
    dispatcher, dispatcher_client, django_assert_num_queries, count
):
    make_notifications(dispatcher, count, read=1)
    # session, user, groups, permissions ×2 (navigation); page count, page rows; the unread
    # count, which the bell shares
    with django_assert_num_queries(8):
        response = dispatcher_client.get(reverse("notifications:list"))
    assert response.status_code == 200


def test_notification_list_is_newest_first_with_unread_highlighted(dispatcher, dispatcher_client):
    make_notifications(dispatcher, 3, read=1)
    make_notifications(UserFactory(username="other"), 1)  # not shown
    response = dispatcher_client.get(reverse("notifications:list"))
    html = response.content.decode()
    assert [n.title for n in response.context["notifications"]] == ["通知 0", "通知 1", "通知 2"]
    assert html.count("notification-item--unread") == 2
    assert html.count('action="/notifications/') == 3  # two marks read + mark all read


def test_notification_list_needs_a_login(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_opening_a_notification_marks_it_read_and_follows_its_link(dispatcher, dispatcher_client):
    make_notifications(dispatcher, 1, url="/tickets/5/")
    note = Notification.objects.get()
    response = dispatcher_client.post(reverse("notifications:read", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/tickets/5/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_link_to_another_site_is_not_followed(dispatcher, dispatcher_client):
    make_notifications(dispatcher, 1, url="https://evil.example.com/")
    note = Notification.objects.get()
    response = dispatcher_client.post(reverse("notifications:read", args=[note.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_marking_read_needs_post(dispatcher, dispatcher_client):
    make_notifications(dispatcher, 1)
    note = Notification.objects.get()
    assert dispatcher_client.get(reverse("notifications:read", args=[note.pk])).status_code == 405
    assert Notification.objects.get().read_at is None


def test_nobody_marks_another_users_notification_read(dispatcher_client, engineer):
    make_notifications(engineer, 1)
    note = Notification.objects.get()
    response = dispatcher_client.post(reverse("notifications:read", args=[note.pk]))
    assert response.status_code == 404
    assert Notification.objects.get().read_at is None


def test_mark_all_read_touches_only_ones_own(dispatcher, dispatcher_client, engineer):
    make_notifications(dispatcher, 3)
    make_notifications(engineer, 2)
    response = dispatcher_client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=dispatcher, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=engineer, read_at__isnull=True).count() == 2


# --- Robots on the service point page ----------------------------------------------------------


def servicepoint_post(sp, **robots):
    data = {
        "code": sp.code,
        "name": sp.name,
        "region": sp.region_id,
        "address": sp.address,
        "phone": sp.phone,
        "manager": "",
        "is_active": "on",
        "webhooks-TOTAL_FORMS": "1",
        "webhooks-INITIAL_FORMS": "0",
        "webhooks-MIN_NUM_FORMS": "0",
        "webhooks-MAX_NUM_FORMS": "1000",
    }
    data.update({f"webhooks-0-{k}": v for k, v in robots.items()})
    return data


def test_administrator_adds_a_robot_on_the_service_point_page(administrator_client, point):
    url = reverse("org:servicepoint_edit", args=[point.pk])
    assert "webhooks-TOTAL_FORMS" in administrator_client.get(url).content.decode()
    response = administrator_client.post(
        url,
        servicepoint_post(
            point,
            kind="dingtalk",
            url="https://oapi.dingtalk.com/robot/send?access_token=abc",
            secret="SECxyz",
            events="sla.breach",
            is_active="on",
        ),
    )
    assert response.status_code == 302
    channel = point.webhook_channels.get()
    assert (channel.kind, channel.secret, channel.events) == ("dingtalk", "SECxyz", "sla.breach")


def test_a_bad_robot_address_is_shown_and_nothing_is_saved(administrator_client, point):
    response = administrator_client.post(
        reverse("org:servicepoint_edit", args=[point.pk]),
        servicepoint_post(point, name="改名", kind="wecom", url="not a url", is_active="on"),
    )
    assert response.status_code == 200
    assert response.context["webhooks"].errors[0]["url"]
    assert not point.webhook_channels.exists()
    point.refresh_from_db()
    assert point.name != "改名"


def test_send_a_test_message_queues_one_delivery(
    administrator_client, point, receiver, sent_now, django_capture_on_commit_callbacks
):
    channel = robot(point, "wecom", receiver.url("/send?key=k"))
    url = reverse("org:servicepoint_webhook_test", args=[point.pk, channel.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("org:servicepoint_edit", args=[point.pk])
    assert Delivery.objects.get().status == "sent"
    assert point.name in receiver.requests[0]["json"]["markdown"]["content"]


def test_only_administrators_send_test_messages(dispatcher_client, point):
    channel = robot(point, "wecom", "http://127.0.0.1:9/send")
    url = reverse("org:servicepoint_webhook_test", args=[point.pk, channel.pk])
    assert dispatcher_client.post(url).status_code == 403
    assert not Delivery.objects.exists()


def test_a_robot_of_another_service_point_is_not_found(administrator_client, point):
    channel = robot(ServicePointFactory(), "wecom", "http://127.0.0.1:9/send")
    url = reverse("org:servicepoint_webhook_test", args=[point.pk, channel.pk])
    assert administrator_client.post(url).status_code == 404


# --- A real worker with beat, against Redis ----------------------------------------------------

WORKER = """
import django
django.setup()  # the apps' timers are collected when Django is set up
from aftersales.celery import app
# The sweep every second instead of every minute, so that the test need not wait.
app.conf.beat_schedule = {"deliveries": {**app.conf.beat_schedule["deliveries"], "schedule": 1.0}}
app.worker_main(["worker", "-B", "-l", "info", "--concurrency", "1"])
"""


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.timeout(150)
@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_deliver_webhooks_against_redis(tmp_path, point, receiver):
    """notify() in a committed transaction → the worker posts to the robot (a 500 first, then
    retried); a row whose message was lost → beat's sweep queues it. Each arrives once."""
    assert app.conf.broker_url.startswith("redis://")
    receiver.replies = [(500, {"errmsg": "busy"})]
    channel = robot(point, "dingtalk", receiver.url("/robot/send?access_token=tok"), secret="SECx")
    lost = Delivery.objects.create(
        channel="webhook",
        target=channel.url,
        webhook=channel,
        payload=notifications.webhook_payload("dingtalk", "丢失的消息", "由定时任务补发", ""),
        key="lost:1",
        next_attempt_at=timezone.now() - timedelta(hours=1),
    )
    app.control.purge()  # messages left by an interrupted earlier run would run first

    worker = start_worker(tmp_path)
    try:
        with transaction.atomic():
            notify(
                "sla.breach",
                service_point=point,
                title="响应超时",
                body="工单 T1 已超过响应时限",
                url="/tickets/1/",
                key="breach:1:response",
            )
        done = wait_for(
            lambda: Delivery.objects.filter(status="sent").count() == 2, timeout=90, interval=0.5
        )
    finally:
        stop(worker)

    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert done, "the webhooks were not delivered within 90 s. Worker log:\n" + log[-4000:]
    assert "beat: Starting..." in log
    titles = sorted(r["json"]["markdown"]["title"] for r in receiver.accepted)
    assert titles == ["丢失的消息", "响应超时"]  # each accepted exactly once
    notified = Delivery.objects.get(key="breach:1:response")
    accepted = next(r for r in receiver.accepted if r["json"]["markdown"]["title"] == "响应超时")
    assert accepted["json"] == notified.payload
    assert accepted["query"]["access_token"] == ["tok"]
    assert {"timestamp", "sign"} <= set(accepted["query"])
    # One of the two met the 500 and was retried with back-off; the other went through at once.
    assert len(receiver.requests) == 3
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [1, 2]
    lost.refresh_from_db()
    assert lost.status == "sent"


def start_worker(tmp_path):
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    database_url = (
        f"postgres://{quote(db['USER'] or '', safe='')}{password}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = os.environ | {
        # The test database of this session, where the test's committed rows are.
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path),
        "NOTIFY_RETRY_DELAY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = (tmp_path / "worker.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: beat and the pool stop with it
    )


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # warm shutdown of worker, beat and pool
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    return None
