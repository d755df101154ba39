"""The figures follow a change by themselves: a request entered here is committed, its refresh
goes through the real Redis broker to a real Celery worker, which computes its fact and adds it
to the rollups of the PostgreSQL test database."""

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from aftersales.roles import Role
from analytics import figures
from analytics.figures import Scope
from analytics.models import Dirty, TicketFact
from tests.factories import enter_ticket

from ..test_celery import wait_for

WORKER = """
import django
django.setup()
from aftersales.celery import app
app.worker_main(["worker", "-l", "info", "--concurrency", "1", "--pool", "solo"])
"""


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_the_worker_refreshes_the_figures_after_a_change(make_user, tmp_path):
    dispatcher = make_user(Role.DISPATCHER)
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env |= {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "worker.log"
    connection.close()
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        ticket = enter_ticket(dispatcher, priority="urgent")  # committed: the refresh is queued
        done = wait_for(lambda: TicketFact.objects.filter(ticket_id=ticket.pk).exists(), 60, 0.3)
        today = timezone.localdate()
        total = figures.totals(Scope(today, today))[0]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        connection.close()
    log_text = log_path.read_text(errors="replace")
    assert done, "the worker did not refresh the figures. Worker log:\n" + log_text[-4000:]
    assert total["opened"] == 1
    assert not Dirty.objects.exists()
