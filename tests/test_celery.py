"""Background jobs really run: a worker against Redis, and worker + beat on the embedded broker.

Eager mode would hide serialisation and transaction bugs, so these start real workers.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection

from aftersales import tasks
from aftersales.celery import app
from aftersales.models import Heartbeat

BASE_DIR = Path(settings.BASE_DIR)


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    return None


# Celery's Django fix-up runs the system checks, which ask SQLite whether it has JSON support.
@pytest.mark.django_db
def test_heartbeat_is_scheduled_every_minute_and_registered():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] == "aftersales.tasks.heartbeat"
    assert entry["schedule"] == 60.0
    assert entry["task"] in app.tasks


@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.timeout(90)
@pytest.mark.django_db(transaction=True)
def test_worker_runs_ping_against_redis():
    assert app.conf.broker_url.startswith("redis://")

    def close_db_connection(**kwargs):
        # The worker thread opened its own connection to the test database; a connection left
        # open would stop the test database from being dropped at the end of the session.
        connection.close()

    task_postrun.connect(close_db_connection, weak=False)
    # Messages left in the test Redis database by an earlier, interrupted run would run first.
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            tasks.ping.delay("hello")
            beat = wait_for(lambda: Heartbeat.objects.filter(name="ping").first(), timeout=30)
    finally:
        task_postrun.disconnect(close_db_connection)

    assert beat is not None, "the worker did not run aftersales.tasks.ping within 30 s"
    assert beat.runs == 1


# Worker and beat in one process, as `make demo` runs them (`celery -A aftersales worker -B`),
# but with the heartbeat every 2 s instead of every 60 s: beat sends an interval task first one
# interval after it starts, and the test should not wait two minutes to see two runs.
FAST_BEAT = """
import django
django.setup()  # the apps' timers are collected when Django is set up
from aftersales.celery import app
app.conf.beat_schedule = {
    "heartbeat": {**app.conf.beat_schedule["heartbeat"], "schedule": 2.0},
}
app.worker_main(["worker", "-B", "-l", "info", "--concurrency", "1"])
"""


@pytest.mark.celery_worker
@pytest.mark.timeout(150)
def test_embedded_broker_runs_periodic_jobs(tmp_path):
    """No server at all: SQLite + kombu's file-system broker, beat inside the worker."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL"}
    }
    # The test database of this session may live in memory; the worker needs a file it can open.
    database = tmp_path / "db.sqlite3"
    env |= {"VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    env["PYTHONUNBUFFERED"] = "1"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )

    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-c", FAST_BEAT],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the pool's children stop with it
        )
    try:
        runs = wait_for(lambda: _beat_runs(database) >= 2, timeout=60, interval=0.5)
    finally:
        _stop(worker)

    log_text = log_path.read_text(errors="replace")
    assert runs, "beat's heartbeat did not run twice within 60 s. Worker log:\n" + log_text[-4000:]
    assert "beat: Starting..." in log_text
    # aftersales.celery created the broker's folders; nothing else did.
    assert (tmp_path / "broker" / "queue").is_dir()


def _beat_runs(database):
    table = Heartbeat._meta.db_table
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute(f"SELECT runs FROM {table} WHERE name = 'beat'").fetchone()
    except sqlite3.OperationalError:  # locked by the worker's write, or not created yet
        return 0
    return row[0] if row else 0


def _stop(process):
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # warm shutdown of worker, beat and pool
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
