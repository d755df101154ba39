"""The SLA timer fires on its own: a real Celery worker with beat, against the real Redis and the
PostgreSQL test database, marks a breach and the service point's robot hears of it over HTTP."""

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from aftersales.models import WebhookChannel
from aftersales.roles import Role
from tests.factories import ServicePointFactory, enter_ticket
from tickets.models import Ticket

from ..test_celery import wait_for

BASE_DIR = Path(settings.BASE_DIR)

# `celery worker -B` as `make demo` runs it, with the SLA timer every second instead of every
# minute (beat sends an interval task first one interval after it starts).
FAST_TIMER = """
import django
django.setup()  # the apps' timers are collected when Django is set up
from aftersales.celery import app
app.conf.beat_schedule = {
    "tickets-every-minute": {**app.conf.beat_schedule["tickets-every-minute"], "schedule": 1.0},
}
app.worker_main(["worker", "-B", "-l", "info", "--concurrency", "1", "--pool", "solo"])
"""


class Robot(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Robot.received.append((self.path, json.loads(body)))
        answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_beat_fires_the_sla_timer_and_the_robot_hears_of_the_breach(make_user, tmp_path):
    server = HTTPServer(("127.0.0.1", 0), Robot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Robot.received.clear()

    dispatcher = make_user(Role.DISPATCHER)
    make_user(Role.SERVICE_MANAGER)
    point = ServicePointFactory()
    WebhookChannel.objects.create(
        service_point=point,
        kind="wecom",
        url=f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test",
    )
    ticket = enter_ticket(dispatcher, service_point=point, priority="urgent")
    # Its response target fell due a minute ago (set directly: the timer, not the clock, is
    # what this test is about).
    past = timezone.now() - timedelta(minutes=1)
    Ticket.objects.filter(pk=ticket.pk).update(
        response_due=past, response_warn_at=past, sla_due=past, sla_check_at=past
    )

    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env |= {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    connection.close()  # the worker needs the test database's connections, not ours
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-c", FAST_TIMER],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        marked = Ticket.objects.filter(pk=ticket.pk, response_breached_at__isnull=False)
        breached = wait_for(
            marked.exists,
            timeout=60,
            interval=0.5,
        )
        heard = wait_for(lambda: Robot.received, timeout=60, interval=0.5)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        server.shutdown()
        connection.close()

    log_text = log_path.read_text(errors="replace")
    assert breached, "the timer did not mark the breach. Worker log:\n" + log_text[-4000:]
    assert heard, "no webhook reached the robot. Worker log:\n" + log_text[-4000:]
    path, payload = Robot.received[0]
    assert path.startswith("/cgi-bin/webhook/send")
    assert payload["msgtype"] == "markdown"
    assert ticket.number in payload["markdown"]["content"]
