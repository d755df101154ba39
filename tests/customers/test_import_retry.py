"""A background import that failed can be run again with the file it kept: a worker that died
(failed by the hourly cleanup) or an internal error. Once the file is gone, or when running
again cannot help (an unreadable file, data that changed), the job page says to upload it again.
"""

import os
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftersales.roles import Role
from customers import imports, tasks
from customers.models import Customer, ImportJob

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


def died_while(client, state):
    """A dispatcher's five-row job whose worker died in `state`, failed by the cleanup."""
    upload(client, customers_csv(5))
    job = ImportJob.objects.latest("id")
    if state == "importing":
        tasks.check_import_job(job.pk)
        client.post(reverse("customers:import_job_confirm", args=[job.pk]))
    stale = timezone.now() - timedelta(minutes=31)
    ImportJob.objects.filter(pk=job.pk).update(state=state, progress_at=stale)
    assert tasks.expire_import_jobs()["failed"] == 1
    job.refresh_from_db()
    return job


def retry(client, job, **extra):
    return client.post(reverse("customers:import_job_retry", args=[job.pk]), **extra)


@pytest.mark.parametrize("state", ["checking", "importing"])
def test_a_job_whose_worker_died_runs_again_with_its_file(
    client, state, django_capture_on_commit_callbacks
):
    job = died_while(client, state)
    assert job.state == ImportJob.State.FAILED
    assert default_storage.exists(job.file_path)  # kept for the retry
    page = client.get(job.get_absolute_url()).content.decode()
    assert "30 分钟没有进展" in page  # why it failed
    assert 'id="retry-import"' in page and "再次运行" in page
    assert reverse("customers:import_job_retry", args=[job.pk]) in page
    assert "csrfmiddlewaretoken" in page
    assert 'id="import-upload-again"' not in page

    with django_capture_on_commit_callbacks() as callbacks:
        response = retry(client, job, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["正在重新检查文件，本页显示进度。"]
    job.refresh_from_db()
    assert (job.state, job.error, job.report, job.finished_at) == ("queued", "", {}, None)
    assert job.confirmed_at is None  # the user confirms again, after the new check
    assert len(callbacks) == 1
    assert 'id="import-progress"' in response.content.decode()

    tasks.check_import_job(job.pk)
    client.post(reverse("customers:import_job_confirm", args=[job.pk]))
    tasks.commit_import_job(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert Customer.objects.count() == 5
    assert not default_storage.exists(job.file_path)


def test_a_job_is_queued_again_once(client, django_capture_on_commit_callbacks):
    job = died_while(client, "checking")
    with django_capture_on_commit_callbacks() as callbacks:
        retry(client, job)
        response = retry(client, job, follow=True)
    assert len(callbacks) == 1
    assert [str(m) for m in response.context["messages"]][-1] == "只有失败的导入可以再次运行。"


def test_an_internal_error_keeps_the_file_for_a_retry(client, monkeypatch):
    upload(client, customers_csv(5))
    job = ImportJob.objects.get()

    def broken(*args, **kwargs):
        raise RuntimeError("database restarted")

    monkeypatch.setattr(imports, "check_import", broken)
    with pytest.raises(RuntimeError):
        tasks.check_import_job(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "内部错误" in job.error
    assert default_storage.exists(job.file_path)
    assert 'id="retry-import"' in client.get(job.get_absolute_url()).content.decode()


def test_a_failed_file_is_deleted_after_the_hours_and_the_page_says_upload_again(client, tmp_path):
    job = died_while(client, "checking")
    uploaded = (timezone.now() - timedelta(hours=30)).timestamp()
    os.utime(tmp_path / job.file_path, (uploaded, uploaded))
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=23))
    assert tasks.expire_import_jobs()["files"] == 0
    assert default_storage.exists(job.file_path)

    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=25))
    assert tasks.expire_import_jobs()["files"] == 1
    assert not default_storage.exists(job.file_path)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "30 分钟没有进展" in page
    assert 'id="retry-import"' not in page
    assert 'id="import-upload-again"' in page and "重新上传</a>" in page
    assert reverse("customers:transfer") in page

    response = retry(client, job, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["上传的文件已不再保留，请重新上传。"]
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED


def test_a_file_past_the_hours_is_not_offered_before_the_cleanup_runs(client):
    job = died_while(client, "checking")
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=25))
    assert default_storage.exists(job.file_path)
    assert 'id="retry-import"' not in client.get(job.get_absolute_url()).content.decode()
    retry(client, job)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED


def test_a_failure_that_running_again_cannot_mend_deletes_the_file(client, monkeypatch):
    upload(client, customers_csv(5))
    job = ImportJob.objects.get()

    def unreadable(*args, **kwargs):
        raise imports.ImportFileError("无法读取")

    monkeypatch.setattr(imports, "check_import", unreadable)
    tasks.check_import_job(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert not default_storage.exists(job.file_path)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="import-upload-again"' in page and 'id="retry-import"' not in page


def test_only_the_uploader_and_administrators_may_run_a_job_again(
    client_for, make_user, administrator, revisit_agent, client
):
    job = died_while(client, "checking")
    other = client_for(make_user(Role.DISPATCHER, username="other"))
    assert retry(other, job).status_code == 404
    assert retry(client_for(revisit_agent), job).status_code == 403
    assert client.get(reverse("customers:import_job_retry", args=[job.pk])).status_code == 405
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED

    assert retry(client_for(administrator), job).status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED


def test_running_again_needs_the_csrf_token(dispatcher, client):
    job = died_while(client, "checking")
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(dispatcher)
    assert retry(guarded, job).status_code == 403
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED


def test_the_import_tasks_are_acknowledged_late():
    for task in (tasks.check_import_job, tasks.commit_import_job):
        assert task.acks_late and task.reject_on_worker_lost


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_the_cleanup_failed_meanwhile_is_rolled_back(dispatcher, monkeypatch):
    """A worker that only looked dead (no progress for too long) must not import the file
    after its job was failed: the user may run the job again, and would import it twice."""
    path = imports.keep_upload(SimpleUploadedFile("c.csv", customers_csv(5)))
    job = ImportJob.objects.create(
        user=dispatcher,
        kind="customers",
        file_name="c.csv",
        file_path=path,
        total_rows=5,
        state=ImportJob.State.CHECKED,
        confirmed_at=timezone.now(),
    )
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 2)
    cleanup = connection.copy()  # the hourly cleanup, on its own connection, mid-import

    def progress(self, rows):
        if rows == 4:
            with cleanup.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET state = 'failed', "
                    "finished_at = now() WHERE id = %s",
                    [job.pk],
                )

    monkeypatch.setattr(imports._ProgressWriter, "__call__", progress)
    try:
        tasks.commit_import_job(job.pk)
    finally:
        cleanup.close()
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert not Customer.objects.exists()
    assert default_storage.exists(path)  # the job may still be run again with it
