"""Exports: asked for on a page, written by a Celery task (customers.exports) to a file the
person downloads when it is ready.

Most tests run the task function directly (the logic); one runs a real worker against Redis.
"""

import io
import time
from datetime import timedelta

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from aftersales.celery import app
from aftersales.roles import Role
from customers import exports, tasks
from customers.access import visible_rows
from customers.kinds import RESOURCES
from customers.models import Contact, Customer, ExportJob

from ..factories import CustomerFactory, EquipmentFactory, TagFactory
from ..queries import capture_queries

pytestmark = pytest.mark.django_db

KINDS = list(RESOURCES)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT = ""
    return tmp_path


def ask(client, kind="customers", fmt="xlsx", **extra):
    return client.post(reverse("customers:exports"), {"kind": kind, "format": fmt}, **extra)


def export_file(client, kind="customers", fmt="xlsx"):
    """Ask for an export, have the task write it, download it: the file's bytes."""
    ask(client, kind, fmt)
    job = ExportJob.objects.latest("id")
    tasks.write_export_job(job.pk)
    response = client.get(reverse("customers:export_download", args=[job.pk]))
    assert response.status_code == 200, ExportJob.objects.get(pk=job.pk).error
    return b"".join(response.streaming_content)


def sheet_rows(data):
    return list(openpyxl.load_workbook(io.BytesIO(data)).active.values)


def synchronous_export(kind, fmt, user):
    """What the export gave when it ran in the request: import-export's own export() of the
    same resource and rows (the reference the job's file must equal)."""
    resource = RESOURCES[kind][1]()
    dataset = resource.export(queryset=visible_rows(user, kind, resource.get_export_queryset()))
    data = dataset.export(fmt)
    return ("\ufeff" + data).encode() if fmt == "csv" else data


def some_master_data(count=3):
    """Units of `count` customers, tagged (two tags, out of order), each with a contact; one
    customer's texts start like a spreadsheet formula."""
    first, second = TagFactory(name="重点客户"), TagFactory(name="连锁门店")
    for n in range(count):
        unit = EquipmentFactory()
        unit.customer.tags.set([second, first] if n % 2 else [first])
        Contact.objects.get_or_create(
            customer=unit.customer, mobile=f"1370000{n:04d}", defaults={"name": f"联系人{n}"}
        )
    Customer.objects.filter(pk=unit.customer.pk).update(
        name='=HYPERLINK("http://evil","点我")', notes="+1+cmd|' /C calc'!A0", phone=""
    )


def test_asking_creates_a_job_that_the_task_writes_and_the_page_offers(
    client_for, dispatcher, django_capture_on_commit_callbacks
):
    some_master_data()
    client = client_for(dispatcher)
    with django_capture_on_commit_callbacks() as callbacks:
        response = ask(client, "customers", "csv")
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert (job.user, job.kind, job.format, job.state) == (dispatcher, "customers", "csv", "queued")
    assert len(callbacks) == 1  # the task is sent once the job is saved

    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="export-progress"' in page
    assert "js/import_job.js" in page
    assert reverse("customers:export_job_status", args=[job.pk]) in page
    download = reverse("customers:export_download", args=[job.pk])
    assert download not in page
    assert client.get(download).status_code == 404  # not written yet

    tasks.write_export_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.rows_done, job.total_rows) == ("done", 3, 3)
    assert job.expires_at is not None and job.finished_at is not None
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="export-done"' in page and download in page
    assert "import_job.js" not in page  # nothing left to poll

    response = client.get(download)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert b"".join(response.streaming_content) == synchronous_export(
        "customers", "csv", dispatcher
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_file_holds_what_the_export_in_the_request_gave(client_for, finance, kind, fmt):
    some_master_data()
    data = export_file(client_for(finance), kind, fmt)
    before = synchronous_export(kind, fmt, finance)
    if fmt == "csv":
        assert data == before
    else:
        assert sheet_rows(data) == sheet_rows(before)
    assert len(sheet_rows(data) if fmt == "xlsx" else data.splitlines()) > 1


def test_the_file_keeps_formulas_from_running(client_for, dispatcher):
    some_master_data()
    client = client_for(dispatcher)
    rows = sheet_rows(export_file(client, "customers", "xlsx"))
    assert rows[0][0] == "客户编码"
    data = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    escaped = next(row for row in data.values() if row["名称"].startswith("'="))
    assert escaped["名称"] == '\'=HYPERLINK("http://evil","点我")'
    assert escaped["备注"].startswith("'+1")
    # Tags in their own order (by name), whatever order they were given in.
    assert {row["标签"] for row in data.values()} == {"重点客户", "连锁门店|重点客户"}
    csv = export_file(client, "customers", "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in csv


@pytest.mark.parametrize("kind", KINDS)
def test_queries_do_not_grow_with_the_rows(finance, kind):
    finance.has_perm("customers.view_customer")  # the permissions, loaded once

    def queries(units):
        for _n in range(units):
            unit = EquipmentFactory()
            unit.customer.tags.set([TagFactory(name="甲"), TagFactory(name="乙")])
            Contact.objects.create(customer=unit.customer, name="王", mobile=f"139{_n:08d}")
        job = ExportJob.objects.create(user=finance, kind=kind, format="csv")
        with capture_queries() as captured:
            tasks.write_export_job(job.pk)
        job.refresh_from_db()
        assert job.state == "done"
        return job.total_rows, len(captured)

    ten, hundred = queries(10), queries(90)
    assert (ten[0], hundred[0]) == (10, 100)
    assert ten[1] == hundred[1]
    # Taking the job, reading it, the count, the rows (and the tags), finishing.
    assert hundred[1] <= 8


def test_progress_is_reported_while_the_file_is_written(client_for, dispatcher, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_CHUNK_ROWS", 2)
    for _n in range(5):
        CustomerFactory()
    client = client_for(dispatcher)
    ask(client)
    job = ExportJob.objects.get()
    status_url = reverse("customers:export_job_status", args=[job.pk])
    seen = []
    counted = exports._counted

    def watched(rows, progress):
        def progress_then_look(n):
            progress(n)
            seen.append(client.get(status_url).json())

        return counted(rows, progress_then_look)

    monkeypatch.setattr(exports, "_counted", watched)
    tasks.write_export_job(job.pk)
    assert [(s["state"], s["done"], s["total"], s["running"]) for s in seen] == [
        ("running", 2, 5, True),
        ("running", 4, 5, True),
    ]
    assert seen[0]["percent"] == 40
    assert client.get(status_url).json() | {"label": None} == {
        "state": "done",
        "label": None,
        "running": False,
        "done": 5,
        "total": 5,
        "percent": 100,
    }


def test_only_the_asker_and_administrators_may_see_and_download(
    client_for, dispatcher, make_user, administrator, revisit_agent
):
    CustomerFactory()
    ask(client_for(dispatcher))
    job = ExportJob.objects.get()
    tasks.write_export_job(job.pk)
    names = ["customers:export_job", "customers:export_job_status", "customers:export_download"]
    other = client_for(make_user(Role.DISPATCHER, username="other"))
    for name in names:
        assert other.get(reverse(name, args=[job.pk])).status_code == 404
        # Without the export permission: refused before the job is looked up.
        assert client_for(revisit_agent).get(reverse(name, args=[job.pk])).status_code == 403
    assert client_for(administrator).get(reverse(names[2], args=[job.pk])).status_code == 200
    assert job.get_absolute_url() not in other.get(reverse("customers:exports")).content.decode()
    assert (
        job.get_absolute_url()
        in client_for(dispatcher).get(reverse("customers:exports")).content.decode()
    )


def test_the_transfer_page_lists_the_users_own_exports(client_for, dispatcher):
    ask(client_for(dispatcher), "equipment", "csv")
    job = ExportJob.objects.get()
    page = client_for(dispatcher).get(reverse("customers:transfer")).content.decode()
    assert 'id="export-jobs"' in page and job.get_absolute_url() in page
    assert 'id="export-card"' in page


def test_export_holds_only_rows_the_person_may_see(client_for, make_user):
    some_master_data()
    # Allowed to export, but not to see customers, units or products (customers.access).
    user = make_user(username="exporter")
    user.user_permissions.add(Permission.objects.get(codename="export_masterdata"))
    client = client_for(user)
    for kind in KINDS:
        assert len(sheet_rows(export_file(client, kind, "xlsx"))) == 1  # the titles only


def test_a_job_is_written_once_and_can_be_asked_for_again(client_for, dispatcher, media):
    CustomerFactory()
    client = client_for(dispatcher)
    ask(client, "customers", "csv")
    job = ExportJob.objects.get()
    tasks.write_export_job(job.pk)
    tasks.write_export_job(job.pk)  # delivered twice: nothing more
    assert len(list((media / "exports").iterdir())) == 1
    job.refresh_from_db()
    assert job.state == "done"

    ExportJob.objects.filter(pk=job.pk).update(state="failed", error="x")
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="export-again"' in page
    ask(client, "customers", "csv")
    assert ExportJob.objects.count() == 2


def test_a_redelivered_task_takes_a_job_whose_worker_went_silent(dispatcher):
    CustomerFactory()
    job = ExportJob.objects.create(user=dispatcher, kind="customers", format="csv")
    ExportJob.objects.filter(pk=job.pk).update(state="running", progress_at=timezone.now())
    tasks.write_export_job(job.pk)  # its worker may still be writing: left alone
    assert ExportJob.objects.get(pk=job.pk).state == "running"
    ExportJob.objects.filter(pk=job.pk).update(progress_at=timezone.now() - timedelta(hours=1))
    tasks.write_export_job(job.pk)
    assert ExportJob.objects.get(pk=job.pk).state == "done"


def test_garbage_in_the_request_makes_no_job(client_for, dispatcher):
    client = client_for(dispatcher)
    for kind, fmt in [("../etc", "csv"), ("customers", "pdf"), ("", ""), ("customers\x00", "csv")]:
        response = ask(client, kind, fmt, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 302
        assert response["Location"] == reverse("customers:exports")
    assert client.post(reverse("customers:exports"), {}).status_code == 302
    assert not ExportJob.objects.exists()
    page = client.get(reverse("customers:exports"), {"page": "abc", "kind": "\x00"})
    assert page.status_code == 200
    assert client.get("/customers/transfer/exports/abc/").status_code == 404
    assert client.get(reverse("customers:export_job", args=[999999])).status_code == 404


def test_asking_needs_a_post_with_csrf(dispatcher):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(dispatcher)
    assert ask(client).status_code == 403
    assert not ExportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_broker_down_fails_the_job_at_once_with_a_clear_message(
    client_for, dispatcher, monkeypatch, media
):
    def refuse(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.write_export_job, "delay", refuse)
    CustomerFactory()
    client = client_for(dispatcher)
    response = ask(client, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    job = ExportJob.objects.get()
    assert response.redirect_chain[-1][0] == job.get_absolute_url()
    assert (job.state, job.file_path) == ("failed", "")
    assert job.error.startswith("导出未能开始")
    page = response.content.decode()
    assert job.error in page and 'id="export-failed"' in page
    assert "export-progress" not in page  # nothing waits in vain
    assert not (media / "exports").exists()


# -- The hourly cleanup ----------------------------------------------------------------------


@pytest.fixture
def done_job(client_for, dispatcher):
    CustomerFactory()
    ask(client_for(dispatcher), "customers", "xlsx")
    job = ExportJob.objects.get()
    tasks.write_export_job(job.pk)
    job.refresh_from_db()
    return job


def test_an_expired_file_is_deleted_and_no_longer_offered(client_for, dispatcher, done_job):
    assert default_storage.exists(done_job.file_path)
    assert tasks.expire_export_jobs() == {"failed": 0, "expired": 0, "files": 0}  # not yet

    ExportJob.objects.filter(pk=done_job.pk).update(expires_at=timezone.now() - timedelta(1))
    assert tasks.expire_export_jobs() == {"failed": 0, "expired": 1, "files": 0}
    job = ExportJob.objects.get()
    assert (job.state, job.file_path) == ("expired", "")
    assert not default_storage.exists(done_job.file_path)
    client = client_for(dispatcher)
    assert client.get(reverse("customers:export_download", args=[job.pk])).status_code == 404
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="export-expired"' in page and 'id="export-again"' in page
    assert tasks.expire_export_jobs() == {"failed": 0, "expired": 0, "files": 0}  # twice: nothing


def test_a_job_whose_worker_died_fails_with_the_reason(client_for, dispatcher, settings):
    ask(client_for(dispatcher), HTTP_ACCEPT_LANGUAGE="zh-hans")
    job = ExportJob.objects.get()
    ExportJob.objects.filter(pk=job.pk).update(
        state="running", progress_at=timezone.now() - timedelta(minutes=31)
    )
    assert tasks.expire_export_jobs()["failed"] == 1
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("导出已中断：30 分钟没有进展")
    page = client_for(dispatcher).get(job.get_absolute_url()).content.decode()
    assert 'id="export-failed"' in page and "import_job.js" not in page
    tasks.write_export_job(job.pk)  # a late task: nothing
    assert ExportJob.objects.get(pk=job.pk).state == "failed"


def test_a_file_no_job_names_is_deleted(done_job, media):
    left = media / "exports" / "0123456789abcdef.xlsx"
    left.write_bytes(b"half")  # a worker that stopped between saving and marking done
    assert tasks.expire_export_jobs()["files"] == 0  # perhaps still being finished
    old = time.time() - 3600
    import os

    os.utime(left, (old, old))
    assert tasks.expire_export_jobs()["files"] == 1
    assert not left.exists()
    assert default_storage.exists(done_job.file_path)  # the done job's file stays


def test_the_cleanup_is_scheduled_hourly():
    entry = app.conf.beat_schedule["customers-export-cleanup"]
    assert entry["task"] == "customers.expire_export_jobs" == tasks.expire_export_jobs.name
    assert entry["schedule"] == 3600


def test_the_web_server_sends_the_file_when_configured(client_for, dispatcher, done_job, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"
    response = client_for(dispatcher).get(reverse("customers:export_download", args=[done_job.pk]))
    assert response["X-Accel-Redirect"] == "/protected-media/" + done_job.file_path
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content == b""


# -- A real worker ---------------------------------------------------------------------------


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    return None


@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_worker_writes_the_file_that_is_then_downloaded(client_for, finance):
    """Through Redis and a worker thread: serialisation, transactions and the file for real."""
    assert app.conf.broker_url.startswith("redis://")
    some_master_data(5)
    client = client_for(finance)

    def close_db_connection(**kwargs):
        connection.close()  # the worker thread's; an open one would block dropping the test db

    task_postrun.connect(close_db_connection, weak=False)
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            ask(client, "equipment", "xlsx")
            job = ExportJob.objects.get()
            done = _wait_for(lambda: ExportJob.objects.filter(pk=job.pk, state="done").first(), 30)
    finally:
        task_postrun.disconnect(close_db_connection)

    assert done is not None, ExportJob.objects.get(pk=job.pk).__dict__
    response = client.get(reverse("customers:export_download", args=[job.pk]))
    rows = sheet_rows(b"".join(response.streaming_content))
    assert rows == sheet_rows(synchronous_export("equipment", "xlsx", finance))
    assert len(rows) == 6


@pytest.mark.parametrize("who", ["finance_client", "manager_client"])
def test_people_who_only_export_find_exports_in_the_menu(request, who):
    page = request.getfixturevalue(who).get(reverse("home"), follow=True)
    urls = [item["url"] for item in page.context["nav_items"]]
    assert reverse("customers:exports") in urls
    assert reverse("customers:transfer") not in urls


def test_people_who_import_reach_exports_through_import_export(dispatcher_client):
    page = dispatcher_client.get(reverse("home"), follow=True)
    urls = [item["url"] for item in page.context["nav_items"]]
    assert reverse("customers:transfer") in urls
    assert reverse("customers:exports") not in urls
