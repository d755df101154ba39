"""Notifications: the bell (in-app), e-mail, group-robot webhooks and SMS — the one API.

    notify(event, users=..., about=..., title=..., key=...)    one event, some people + robots
    notify_many(event, rows, about=Model)                      many at once (timers)
    send_sms(mobile, text, key=..., automated=False)           one SMS to a customer
    send_test_message(channel)                                 the "send a test message" button

Writing is idempotent and transactional: every row is written in the caller's transaction, with
`key` naming what happened ("breach:42:response"). A person gets one in-app row per key (unique
user + key) and an address one delivery per key (unique key + channel + target), so a timer that
runs twice sends nothing twice. The sending tasks are queued with `transaction.on_commit`: a
rollback sends nothing.

A notification is about any object (`about`: a model instance, stored as content type + id)
and is written in its reader's language: titles and bodies given as `Text(gettext_lazy(...),
**params)` are rendered once per language among the recipients (`User.language`, else the
site's); group robots and SMS get the site's language.

Sending happens in a worker (`aftersales.tasks.deliver` → `send_delivery`) from the outbox
table `Delivery`: the row is locked while it is sent and marked sent in the same transaction, so
two workers never both send it; a failure is recorded and retried with exponential back-off,
then the row is marked failed. A beat task (`requeue_due`) re-queues pending rows whose message
was lost, and those that were due later: automated SMS written in quiet hours (SMS_QUIET_HOURS)
are due when the quiet period ends, and the sender never sends one inside it. A worker that
dies after the receiver accepted a message but before the commit sends it again on the retry:
outbound messages are at-least-once at that one point, never otherwise.
"""

import base64
import hashlib
import hmac
import logging
import time
import uuid
from datetime import timedelta
from functools import partial
from typing import Any, NamedTuple

import requests
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .caching import forget, remembered
from .models import Delivery, Notification, User, WebhookChannel
from .sms import get_backend as get_sms_backend
from .sms import quiet_until

logger = logging.getLogger(__name__)

# The longest wait between two tries. Celery's Redis transport hands an unacknowledged message
# (a retry waiting for its countdown) to another worker after one hour; stay well below that.
MAX_RETRY_DELAY = 30 * 60
# The every-minute sweep leaves a pending row alone this long after its due time (its own retry
# message should have run by then), and then waits this long before re-queuing it again.
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_LEASE = timedelta(minutes=5)
SWEEP_BATCH = 1000
WEBHOOK_TIMEOUT = (5, 10)  # seconds to connect, to read
# Group robots show short messages; WeCom refuses markdown over 4096 bytes.
WEBHOOK_BODY_CHARS = 1000


class Text:
    """A message rendered in its reader's language: `Text(gettext_lazy("%(n)s is late"), n=1)`.
    Parameters may be lazy too (labels); each is rendered in the same language."""

    def __init__(self, message, **params):
        self.message = message
        self.params = params

    def __str__(self):
        params = {key: str(value) for key, value in self.params.items()}
        return str(self.message) % params if params else str(self.message)


class Row(NamedTuple):
    """One notification for `notify_many`; a plain 6-tuple in this order works too.

    user: a User, a user id, or None (only the service point's robots hear of it).
    about: what it is about: a model instance, an id of `notify_many`'s `about` model, or None;
        its service point's robots hear of it (its `service_point_id`).
    title, body: text, or `Text` to be written in each reader's language.
    service_point: a ServicePoint or id instead of the object's (optional).
    """

    user: Any
    about: Any
    title: str
    body: str
    url: str
    key: str
    service_point: Any = None


class DeliveryError(Exception):
    """The receiver refused the message; tried again later."""


class PermanentDeliveryError(DeliveryError):
    """Trying again cannot help (the channel was switched off): the row is marked failed."""


# --- Writing ----------------------------------------------------------------------------------


def notify(
    event,
    *,
    users=(),
    about=None,
    title,
    body="",
    url="",
    service_point=None,
    email=True,
    key,
):
    """Tell `users` (in-app, and by e-mail when `email` and they have an address) and the robots
    of `service_point` (else the ticket's) that `event` happened. Idempotent per `key`.

    Side effects: Notification rows now; Delivery rows now, sent after the commit.
    """
    rows = [Row(user, about, title, body, url, key, service_point) for user in users]
    # The robots hear of the event once, whoever else does (deliveries are unique per key).
    rows.append(Row(None, about, title, body, url, key, service_point))
    notify_many(event, rows, email=email)


def notify_many(event, rows, *, about=None, email=True, webhooks=True):
    """`notify` for many (user, about, title, body, url, key) rows: a handful of queries and
    bulk inserts whatever the number of rows, for timers that find thousands at once.

    `about`: the model of rows that name what they are about by id (a timer's ticket ids)."""
    rows = [row if isinstance(row, Row) else Row(*row) for row in rows]
    if not rows:
        return
    event = str(event)
    for row in rows:
        if not row.key or len(row.key) > Notification._meta.get_field("key").max_length:
            raise ValueError(f"A notification key must have 1 to 200 characters: {row.key!r}")

    stamp = timezone.now()
    # {user id: (e-mail address or "", language)}, for active users only: nobody else is told.
    readers = _active_readers({_pk(row.user) for row in rows if row.user is not None})
    channels = {}
    if webhooks:
        rows = _with_service_points(rows, about)
        channels = _active_channels({_service_point_id(row) for row in rows} - {None})
    about_types = _content_types(rows, about)
    site_language = settings.LANGUAGE_CODE

    notifications = {}
    deliveries = {}
    for row in rows:
        url = _clip(str(row.url or ""), 300)
        user_id = _pk(row.user) if row.user is not None else None
        if user_id in readers:
            address, language = readers[user_id]
            with translation.override(language or site_language):
                title, body = _texts(row)
                notifications[user_id, row.key] = Notification(
                    user_id=user_id,
                    event=event,
                    title=title,
                    body=body,
                    url=url,
                    about_type_id=about_types.get(_about_model(row, about)),
                    about_id=_pk(row.about),
                    key=row.key,
                    created_at=stamp,
                )
                if email and address:
                    deliveries[row.key, Delivery.Channel.EMAIL, address] = Delivery(
                        channel=Delivery.Channel.EMAIL,
                        target=address,
                        payload=email_payload(title, body, url),
                        key=row.key,
                        created_at=stamp,
                        next_attempt_at=stamp,
                    )
        wanted = [c for c in channels.get(_service_point_id(row), ()) if c.wants(event)]
        if wanted:
            with translation.override(site_language):
                title, body = _texts(row)
                for channel in wanted:
                    deliveries[row.key, Delivery.Channel.WEBHOOK, channel.url] = Delivery(
                        channel=Delivery.Channel.WEBHOOK,
                        target=channel.url,
                        webhook=channel,
                        payload=webhook_payload(channel.kind, title, body, url),
                        key=row.key,
                        created_at=stamp,
                        next_attempt_at=stamp,
                    )

    Notification.objects.bulk_create(notifications.values(), ignore_conflicts=True, batch_size=500)
    forget(*{_unread_key(n.user_id) for n in notifications.values()})
    _queue(deliveries.values(), stamp)


def send_sms(mobile, text, *, key, automated=False):
    """Text a customer through the SMS backend, once per (mobile, key), after the commit.

    `automated`: a timer's message, not one a person asked for (a reminder, not the tracking
    link a dispatcher sends): in quiet hours (SMS_QUIET_HOURS) the row is written now, due when
    they end, and the outbox's sweep sends it then; the sender checks again before sending.
    """
    mobile = "".join(str(mobile or "").split())
    if not mobile:
        return
    stamp = timezone.now()
    payload = {"text": str(text)}
    if automated:
        payload["automated"] = True
    delivery = Delivery(
        channel=Delivery.Channel.SMS,
        target=mobile,
        payload=payload,
        key=key,
        created_at=stamp,
        next_attempt_at=quiet_until(stamp) if automated else stamp,
    )
    _queue([delivery], stamp)


def send_test_message(channel):
    """Queue one test message to a robot (each call is a new message)."""
    stamp = timezone.now()
    title = _("Test message from the after-sales service")
    body = _("This robot will receive the notifications of %(point)s.") % {
        "point": channel.service_point
    }
    delivery = Delivery(
        channel=Delivery.Channel.WEBHOOK,
        target=channel.url,
        webhook=channel,
        payload=webhook_payload(channel.kind, title, body, ""),
        key=f"test:{channel.pk}:{uuid.uuid4().hex}",
        created_at=stamp,
        next_attempt_at=stamp,
    )
    _queue([delivery], stamp)


def retry_failed(delivery_ids):
    """Give failed deliveries a fresh set of attempts (an administrator fixed the cause)."""
    ids = list(
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.FAILED).values_list(
            "pk", flat=True
        )
    )
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    if ids:
        transaction.on_commit(partial(_enqueue, ids), robust=True)


def mark_read(notification):
    """Mark one of the user's notifications read (the first reading counts)."""
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    forget(_unread_key(notification.user_id))


def mark_all_read(user):
    forget(_unread_key(user.pk))
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())


def unread_count(user, cap=100):
    """The bell's number: counting stops at `cap` (the bell shows "99+"), however many there are.

    Every page shows it: kept in the cache until a notification for this user is written or read.
    """
    return remembered(
        _unread_key(user.pk),
        lambda: Notification.objects.for_user(user).unread().order_by()[:cap].count(),
    )


def _unread_key(user_id):
    return f"unread:{user_id}"


def _queue(deliveries, stamp):
    """Insert new outbox rows (an existing key + channel + target is skipped) and queue them."""
    deliveries = list(deliveries)
    if not deliveries:
        return
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=500)
    # ignore_conflicts hides which rows were inserted; the new ones carry this call's timestamp,
    # rows skipped as duplicates keep their own. (A row of a concurrent call with the very same
    # microsecond would be queued twice, which `send_delivery` makes harmless.)
    # Rows due later (automated SMS in quiet hours) are left to the sweep.
    new_ids = list(
        Delivery.objects.filter(
            created_at=stamp, status=Delivery.Status.PENDING, next_attempt_at__lte=stamp
        ).values_list("pk", flat=True)
    )
    if new_ids:
        # robust: the data is committed whatever happens; if the broker is down the sweep
        # queues these rows a minute later instead of the caller seeing an error.
        transaction.on_commit(partial(_enqueue, new_ids), robust=True)


def _enqueue(delivery_ids):
    from .queue import publish
    from .tasks import deliver

    for pk in delivery_ids:
        if not publish(deliver, pk):
            break  # the broker is down: the sweep queues the rest too


def _pk(value):
    return getattr(value, "pk", value)


def _clip(text, length):
    return text if len(text) <= length else text[: length - 1] + "…"


def _texts(row):
    """(title, body) of a row in the active language."""
    title = _clip(" ".join(str(row.title).split()), 200)
    return title, str(row.body or "")


def _active_readers(user_ids):
    """{user id: (e-mail address or "", language or "")} for the active users among `user_ids`
    (one query)."""
    if not user_ids:
        return {}
    found = User.objects.filter(pk__in=user_ids, is_active=True)
    return {
        pk: (email, language)
        for pk, email, language in found.values_list("pk", "email", "language")
    }


def people_with_role(role):
    """The active users who have `role` (a `Role`), for timers that tell a whole role."""
    return list(User.objects.filter(groups__name=role, is_active=True))


def _about_model(row, about):
    if row.about is None:
        return None
    return type(row.about) if hasattr(row.about, "pk") else about


def _content_types(rows, about):
    """{model: content type id} of the models the rows are about (cached by Django)."""
    models = {_about_model(row, about) for row in rows} - {None}
    return {model: ContentType.objects.get_for_model(model).pk for model in models}


def _service_point_id(row):
    if row.service_point is not None:
        return _pk(row.service_point)
    return getattr(row.about, "service_point_id", None)


def _with_service_points(rows, about):
    """Rows that name their object by id get its service point, when the `about` model has
    one (one query for them all)."""
    ids = {
        row.about
        for row in rows
        if row.service_point is None and row.about is not None and not hasattr(row.about, "pk")
    }
    if not ids or about is None or not _has_field(about, "service_point"):
        return rows
    points = dict(about.objects.filter(pk__in=ids).values_list("pk", "service_point_id"))
    return [
        row._replace(service_point=points.get(row.about)) if row.about in ids else row
        for row in rows
    ]


def _has_field(model, name):
    return any(field.name == name for field in model._meta.get_fields())


def _active_channels(point_ids):
    """{service point id: [its active webhook channels]} (one query)."""
    channels = {}
    if point_ids:
        active = WebhookChannel.objects.filter(service_point_id__in=point_ids, is_active=True)
        for channel in active.order_by("pk"):
            channels.setdefault(channel.service_point_id, []).append(channel)
    return channels


# --- Message formats --------------------------------------------------------------------------


def absolute_url(url):
    """Links leave the site in e-mails and robot messages: make paths absolute (SITE_URL)."""
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + "/" + url.lstrip("/")


def email_payload(title, body, url):
    lines = [body] if body else []
    if link := absolute_url(url):
        lines.append(_("Open: %(url)s") % {"url": link})
    return {"subject": title, "body": "\n\n".join(lines) or title}


def webhook_payload(kind, title, body, url):
    """The JSON body of a group robot's webhook, in that platform's documented format
    (signing is added when sent: its timestamp must be fresh)."""
    body = _clip(body, WEBHOOK_BODY_CHARS)
    link = absolute_url(url)
    link_text = pgettext("link to a page", "Open")
    if kind == WebhookChannel.Kind.WECOM:
        # https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明)
        lines = [f"**{title}**"]
        if body:
            lines.append(body)
        if link:
            lines.append(f"[{link_text}]({link})")
        return {"msgtype": "markdown", "markdown": {"content": "\n".join(lines)}}
    if kind == WebhookChannel.Kind.DINGTALK:
        # https://open.dingtalk.com/document/robots/custom-robot-access (自定义机器人)
        parts = [f"#### {title}"]
        if body:
            parts.append(body)
        if link:
            parts.append(f"[{link_text}]({link})")
        return {"msgtype": "markdown", "markdown": {"title": title, "text": "\n\n".join(parts)}}
    if kind == WebhookChannel.Kind.FEISHU:
        # https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (自定义机器人)
        elements = [{"tag": "markdown", "content": body or title}]
        if link:
            button = {
                "tag": "button",
                "text": {"tag": "plain_text", "content": link_text},
                "type": "primary",
                "url": link,
            }
            elements.append({"tag": "action", "actions": [button]})
        return {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
                "elements": elements,
            },
        }
    raise ValueError(f"Unknown webhook kind {kind!r}")


def dingtalk_sign(secret, timestamp_ms):
    """DingTalk: base64(HmacSHA256(key=secret, message=f"{timestamp}\\n{secret}")), sent as the
    `sign` query parameter (URL-encoded) beside `timestamp` in milliseconds."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def feishu_sign(secret, timestamp_s):
    """Feishu: base64(HmacSHA256(key=f"{timestamp}\\n{secret}", message=b"")), sent as `sign` in
    the JSON body beside `timestamp` in seconds."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def signed_request(kind, secret, payload, now=None):
    """(query parameters, JSON body) to POST to a robot's webhook address."""
    now = time.time() if now is None else now
    if not secret:
        return {}, payload
    if kind == WebhookChannel.Kind.DINGTALK:
        timestamp = str(int(now * 1000))
        return {"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)}, payload
    if kind == WebhookChannel.Kind.FEISHU:
        timestamp = str(int(now))
        return {}, {"timestamp": timestamp, "sign": feishu_sign(secret, timestamp), **payload}
    return {}, payload  # WeCom robots have no signing: the key in the address is the secret


def check_response(kind, response):
    """Raise DeliveryError unless the robot accepted the message. The platforms answer HTTP 200
    with an error code in the body (errcode for WeCom and DingTalk, code for Feishu)."""
    if response.status_code >= 400:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        data = response.json()
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    if kind == WebhookChannel.Kind.FEISHU:
        code = data.get("code", data.get("StatusCode"))
        message = data.get("msg", data.get("StatusMessage"))
    else:
        code, message = data.get("errcode"), data.get("errmsg")
    if code not in (None, 0):
        raise DeliveryError(f"error {code}: {message}")


# --- Sending (in the worker) ------------------------------------------------------------------


def retry_delay(attempts):
    """Seconds before try number attempts + 1: 30 s, 1 min, 2 min, … at most 30 min."""
    return min(settings.NOTIFY_RETRY_DELAY * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)


def send_delivery(delivery_id):
    """Send one outbox row unless it is sent, failed or being sent by another worker.

    Returns the seconds to wait before trying again, or None when there is nothing more to do.
    """
    with transaction.atomic():
        # The lock is held while sending and the row is marked sent before it is released: a
        # second worker running the same id (a duplicate message, the sweep) skips it.
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        now = timezone.now()
        if _waits_for_morning(delivery, now):
            # Whatever queued it (the sweep, a retry, a duplicate message): not in quiet hours.
            # No attempt is counted; the sweep picks the row up when they end.
            delivery.next_attempt_at = quiet_until(now)
            delivery.save(update_fields=["next_attempt_at"])
            return None
        delivery.attempts += 1
        try:
            _send(delivery)
        except Exception as error:
            delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            permanent = isinstance(error, PermanentDeliveryError)
            if permanent or delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                delivery.status = Delivery.Status.FAILED
                retry_in = None
            else:
                retry_in = retry_delay(delivery.attempts)
                delivery.next_attempt_at = now + timedelta(seconds=retry_in)
            logger.warning(
                "Delivery %s (%s) failed, attempt %s: %s",
                delivery.pk,
                delivery.channel,
                delivery.attempts,
                delivery.last_error,
            )
        else:
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = now
            delivery.last_error = ""
            retry_in = None
        delivery.save(
            update_fields=["attempts", "status", "sent_at", "next_attempt_at", "last_error"]
        )
        return retry_in


def _waits_for_morning(delivery, now):
    return (
        delivery.channel == Delivery.Channel.SMS
        and delivery.payload.get("automated")
        and quiet_until(now) > now
    )


def _send(delivery):
    payload = delivery.payload
    if delivery.channel == Delivery.Channel.EMAIL:
        send_mail(payload["subject"], payload["body"], None, [delivery.target])
    elif delivery.channel == Delivery.Channel.SMS:
        get_sms_backend().send(delivery.target, payload["text"])
    elif delivery.channel == Delivery.Channel.WEBHOOK:
        channel = delivery.webhook
        if channel is None or not channel.is_active:
            raise PermanentDeliveryError("the webhook channel is switched off")
        # The channel's current address and secret: a corrected address helps pending rows.
        params, body = signed_request(channel.kind, channel.secret, payload)
        response = requests.post(channel.url, params=params, json=body, timeout=WEBHOOK_TIMEOUT)
        check_response(channel.kind, response)
    else:
        raise PermanentDeliveryError(f"unknown channel {delivery.channel!r}")


def requeue_due():
    """Queue pending rows whose time has come and gone (their message was lost: a worker crash,
    a broker outage at commit). Set-based; returns how many were queued."""
    from .tasks import deliver

    now = timezone.now()
    ids = list(
        Delivery.objects.due(now - SWEEP_GRACE)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if not ids:
        return 0
    # Not again next minute: the queued task sets its own next time if it fails.
    Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING).update(
        next_attempt_at=now + SWEEP_LEASE
    )
    for pk in ids:
        deliver.delay(pk)
    return len(ids)
