"""The hourly cleanup of import jobs (customers.expire_import_jobs): a job whose worker died
fails with the reason (its file kept for a while, to run it again); a checked file nobody
confirmed is deleted and its job expires."""

import os
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from aftersales.celery import app
from customers import tasks
from customers.models import ImportJob

from ..factories import RegionFactory
from .test_import_jobs import customers_csv, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def background_from_three_rows(settings, tmp_path):
    settings.IMPORT_BACKGROUND_ROWS = 2
    settings.MEDIA_ROOT = tmp_path
    RegionFactory(name="杭州")


@pytest.fixture
def client(client_for, dispatcher):
    return client_for(dispatcher)


def new_job(client, rows=5):
    upload(client, customers_csv(rows))
    return ImportJob.objects.latest("id")


def checked(client, rows=5):
    job = new_job(client, rows)
    tasks.check_import_job(job.pk)
    job.refresh_from_db()
    return job


def age(job, **delta):
    """Make the job's last progress `delta` ago."""
    ImportJob.objects.filter(pk=job.pk).update(progress_at=timezone.now() - timedelta(**delta))


def cleanup():
    return tasks.expire_import_jobs()


def test_job_whose_worker_died_fails_with_the_reason_and_keeps_its_file(client):
    job = new_job(client)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.CHECKING, rows_done=2)
    age(job, minutes=31)

    assert cleanup() == {"failed": 1, "expired": 0, "files": 0}
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and job.finished_at is not None
    assert job.error.startswith("处理已中断：30 分钟没有进展")
    assert default_storage.exists(job.file_path)  # to run the job again (test_import_retry)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="import-failed"' in page and "30 分钟没有进展" in page
    assert "import_job.js" not in page  # nothing left to poll
    assert cleanup() == {"failed": 0, "expired": 0, "files": 0}  # twice changes nothing


@pytest.mark.parametrize("state", ["queued", "importing", "confirmed"])
def test_every_kind_of_waiting_for_a_worker_can_go_stale(client, state):
    job = checked(client) if state == "confirmed" else new_job(client)
    if state == "confirmed":
        client.post(reverse("customers:import_job_confirm", args=[job.pk]))
    elif state == "importing":
        ImportJob.objects.filter(pk=job.pk).update(state=state)
    age(job, minutes=45)
    cleanup()
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED


def test_a_job_making_progress_is_left_alone(client, settings):
    settings.IMPORT_STALE_MINUTES = 10
    job = new_job(client)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.CHECKING)
    age(job, minutes=9)
    assert cleanup() == {"failed": 0, "expired": 0, "files": 0}
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKING and not job.error
    assert default_storage.exists(job.file_path)


def test_the_worker_records_its_progress(client):
    job = new_job(client)
    age(job, hours=2)
    tasks.check_import_job(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED
    assert timezone.now() - job.progress_at < timedelta(minutes=1)
    assert job.progress_at == job.checked_at


def test_unconfirmed_checked_job_expires_its_file_deleted_and_cannot_be_confirmed(client):
    job = checked(client)
    assert default_storage.exists(job.file_path)
    age(job, hours=25)

    assert cleanup() == {"failed": 0, "expired": 1, "files": 0}
    job.refresh_from_db()
    assert job.state == ImportJob.State.EXPIRED
    assert not default_storage.exists(job.file_path)
    assert "24 小时内未确认" in job.error

    response = client.post(reverse("customers:import_job_confirm", args=[job.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [job.error]
    job.refresh_from_db()
    assert job.state == ImportJob.State.EXPIRED and job.confirmed_at is None
    page = response.content.decode()
    assert "已过期" in page and 'id="import-expired"' in page
    assert "confirm-import" not in page


def test_checked_job_within_the_hours_stays_confirmable(client):
    job = checked(client)
    age(job, hours=23)
    cleanup()
    job.refresh_from_db()
    assert job.can_confirm and default_storage.exists(job.file_path)


def test_finished_and_bad_jobs_are_left_alone(client):
    done = checked(client)
    client.post(reverse("customers:import_job_confirm", args=[done.pk]))
    tasks.commit_import_job(done.pk)
    failed = new_job(client)
    ImportJob.objects.filter(pk=failed.pk).update(state=ImportJob.State.FAILED, error="坏文件")
    upload(client, customers_csv(4, bad={2}))
    bad = ImportJob.objects.latest("id")
    tasks.check_import_job(bad.pk)
    before = {j.pk: (j.state, j.error) for j in ImportJob.objects.all()}
    ImportJob.objects.update(progress_at=timezone.now() - timedelta(days=30))

    assert cleanup() == {"failed": 0, "expired": 0, "files": 0}
    assert {j.pk: (j.state, j.error) for j in ImportJob.objects.all()} == before
    assert before[done.pk][0] == "done" and before[bad.pk][0] == "checked"


def test_the_cleanup_runs_every_hour():
    entry = app.conf.beat_schedule["customers-import-cleanup"]
    assert entry["task"] == "customers.expire_import_jobs" == tasks.expire_import_jobs.name
    assert entry["schedule"] == 3600


def test_a_small_file_checked_but_never_confirmed_is_deleted(client, tmp_path):
    """Up to IMPORT_BACKGROUND_ROWS rows are checked in the request and kept for the
    confirmation in the session only: no job names the file, the cleanup still finds it."""
    upload(client, customers_csv(2))
    [kept] = (tmp_path / "imports").iterdir()
    upload(client, customers_csv(1))  # a second upload replaces the first one's file
    [kept] = (tmp_path / "imports").iterdir()
    running = new_job(client)  # a job's file is the job's to clean up
    old = (timezone.now() - timedelta(hours=25)).timestamp()
    os.utime(kept, (old, old))
    os.utime(tmp_path / running.file_path, (old, old))

    assert cleanup() == {"failed": 0, "expired": 0, "files": 1}
    assert not kept.exists() and default_storage.exists(running.file_path)
    response = client.post(reverse("customers:transfer_confirm"), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "没有已检查的文件可供导入，请重新上传。"
    ]
    assert cleanup() == {"failed": 0, "expired": 0, "files": 0}


def test_a_file_checked_within_the_hours_stays_confirmable(client, tmp_path):
    upload(client, customers_csv(2))
    assert cleanup()["files"] == 0
    response = client.post(reverse("customers:transfer_confirm"), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "导入完成：新增 2 条，更新 0 条，未变 0 条。"
    ]
