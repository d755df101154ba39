"""Large imports: checked and imported by Celery tasks that an ImportJob tracks.

Most tests run the task functions directly (the logic); one runs a real worker against Redis.
"""

import io
import time

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from aftersales.celery import app
from aftersales.models import ProductLine
from aftersales.roles import Role
from customers import imports, tasks
from customers.models import Contact, Customer, ImportJob, ProductModel

from ..factories import CustomerFactory, RegionFactory
from ..queries import capture_queries

pytestmark = pytest.mark.django_db

HEADER = "客户编码,名称,类型,等级,地区,电话,地址\n"


def customers_csv(count, bad=(), regions=None):
    """A customers file of `count` rows, in 杭州 unless `regions` ({row: region}) says otherwise;
    the rows numbered in `bad` (1-based, like `regions`) name a region that does not exist."""
    regions = dict.fromkeys(bad, "火星") | (regions or {})
    rows = [
        f"C-{n:05d},杭州第{n}号餐饮有限公司,公司,普通,{regions.get(n, '杭州')},"
        f"0571-8700{n % 10000:04d},杭州市上城区湖滨路 {n} 号\n"
        for n in range(1, count + 1)
    ]
    return (HEADER + "".join(rows)).encode()


def upload(client, content, kind="customers", name="customers.csv"):
    return client.post(
        reverse("customers:transfer"),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


@pytest.fixture(autouse=True)
def background_from_three_rows(settings, tmp_path):
    settings.IMPORT_BACKGROUND_ROWS = 2
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def hangzhou():
    return RegionFactory(name="杭州")


@pytest.fixture
def checked_job(client_for, dispatcher, hangzhou):
    """A dispatcher's job for a good five-row file, checked by the task."""
    upload(client_for(dispatcher), customers_csv(5))
    job = ImportJob.objects.get()
    tasks.check_import_job(job.pk)
    job.refresh_from_db()
    return job


def test_large_file_becomes_a_job_that_a_task_checks(
    client_for, dispatcher, hangzhou, django_capture_on_commit_callbacks
):
    client = client_for(dispatcher)
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(client, customers_csv(3))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert (job.user, job.kind, job.state, job.total_rows) == (
        dispatcher,
        "customers",
        ImportJob.State.QUEUED,
        3,
    )
    assert len(callbacks) == 1  # the check task is sent once the job is saved
    assert default_storage.exists(job.file_path)

    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="import-progress"' in page
    assert "js/import_job.js" in page
    assert reverse("customers:import_job_status", args=[job.pk]) in page

    tasks.check_import_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.bad_rows, job.rows_done, job.total_rows) == ("checked", 0, 3, 3)
    assert (job.report["total"], job.report["new"]) == (3, 3)
    assert not Customer.objects.exists()
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="confirm-import"' in page
    assert "import_job.js" not in page  # nothing left to poll


def test_file_at_the_threshold_is_still_checked_in_the_request(client_for, dispatcher, hangzhou):
    response = upload(client_for(dispatcher), customers_csv(2))
    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    assert response.context["report"].total == 2
    html = response.content.decode()
    assert 'id="confirm-import"' in html
    assert reverse("customers:transfer_confirm") in html


def test_check_lists_every_bad_row_and_writes_nothing(client_for, dispatcher, hangzhou):
    client = client_for(dispatcher)
    upload(client, customers_csv(6, bad={2, 5}))
    job = ImportJob.objects.get()
    tasks.check_import_job(job.pk)
    job.refresh_from_db()

    assert (job.state, job.bad_rows) == ("checked", 2)
    assert [p["line"] for p in job.report["problems"]] == [3, 6]
    assert "火星" in " ".join(job.report["problems"][0]["messages"])
    assert not Customer.objects.exists()
    assert not default_storage.exists(job.file_path)  # nothing to import: the file is gone
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="import-problems"' in page and "火星" in page
    assert "confirm-import" not in page

    client.post(reverse("customers:import_job_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.confirmed_at is None
    tasks.commit_import_job(job.pk)
    assert not Customer.objects.exists()


def test_confirmed_job_imports_every_row_and_progress_reaches_the_total(
    client_for, dispatcher, checked_job, django_capture_on_commit_callbacks
):
    client = client_for(dispatcher)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("customers:import_job_confirm", args=[checked_job.pk]))
    assert response["Location"] == checked_job.get_absolute_url()
    assert len(callbacks) == 1
    status = client.get(reverse("customers:import_job_status", args=[checked_job.pk])).json()
    # Confirmed, the worker not yet started: the page keeps polling.
    assert (status["state"], status["running"]) == ("checked", True)

    tasks.commit_import_job(checked_job.pk)
    checked_job.refresh_from_db()
    assert checked_job.state == ImportJob.State.DONE
    assert checked_job.rows_done == checked_job.total_rows == 5
    assert checked_job.finished_at is not None
    assert Customer.objects.count() == 5
    assert Customer.objects.get(code="C-00003").name == "杭州第3号餐饮有限公司"
    assert not default_storage.exists(checked_job.file_path)

    status = client.get(reverse("customers:import_job_status", args=[checked_job.pk])).json()
    assert status | {"label": None} == {
        "state": "done",
        "label": None,
        "running": False,
        "done": 5,
        "total": 5,
        "percent": 100,
    }
    page = client.get(checked_job.get_absolute_url()).content.decode()
    assert 'id="import-done"' in page


def test_progress_is_reported_after_every_chunk(hangzhou, monkeypatch, tmp_path):
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 2)
    path = imports.keep_upload(SimpleUploadedFile("c.csv", customers_csv(5)))
    seen = []
    report = imports.check_import("customers", "c.csv", path, progress=seen.append)
    assert seen == [2, 4, 5]
    assert report.ok and report.total == 5
    seen.clear()
    imports.commit_import("customers", "c.csv", path, progress=seen.append)
    assert seen == [2, 4, 5]
    assert Customer.objects.count() == 5


def test_other_users_cannot_see_or_confirm_a_job(client_for, make_user, checked_job):
    other = client_for(make_user(Role.DISPATCHER, username="other"))
    for name in ("customers:import_job", "customers:import_job_status"):
        assert other.get(reverse(name, args=[checked_job.pk])).status_code == 404
    response = other.post(reverse("customers:import_job_confirm", args=[checked_job.pk]))
    assert response.status_code == 404
    checked_job.refresh_from_db()
    assert checked_job.confirmed_at is None


def test_administrators_see_every_job_and_other_roles_none(
    client_for, administrator, revisit_agent, checked_job
):
    url = reverse("customers:import_job", args=[checked_job.pk])
    assert client_for(administrator).get(url).status_code == 200
    assert client_for(revisit_agent).get(url).status_code == 403
    status_url = reverse("customers:import_job_status", args=[checked_job.pk])
    assert client_for(revisit_agent).get(status_url).status_code == 403


def test_the_import_page_lists_the_users_own_jobs(client_for, dispatcher, make_user, checked_job):
    page = client_for(dispatcher).get(reverse("customers:transfer")).content.decode()
    assert checked_job.get_absolute_url() in page
    other = client_for(make_user(Role.DISPATCHER, username="other"))
    assert (
        checked_job.get_absolute_url()
        not in other.get(reverse("customers:transfer")).content.decode()
    )


def test_a_job_is_confirmed_and_run_once(
    client_for, dispatcher, checked_job, django_capture_on_commit_callbacks
):
    client = client_for(dispatcher)
    url = reverse("customers:import_job_confirm", args=[checked_job.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url)
        client.post(url)
    assert len(callbacks) == 1
    # A task delivered twice: the second run finds nothing to do.
    tasks.commit_import_job(checked_job.pk)
    tasks.commit_import_job(checked_job.pk)
    tasks.check_import_job(checked_job.pk)
    checked_job.refresh_from_db()
    assert checked_job.state == ImportJob.State.DONE
    assert Customer.objects.count() == 5


def test_data_changed_since_the_check_rolls_back_every_chunk(
    client_for, dispatcher, hangzhou, monkeypatch
):
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 2)
    ningbo = RegionFactory(name="宁波")
    upload(client_for(dispatcher), customers_csv(5, regions={5: "宁波"}))
    job = ImportJob.objects.get()
    tasks.check_import_job(job.pk)
    job.refresh_from_db()
    imports.confirm_import_job(job)
    # Between the check and the import, someone removes the region of the last chunk's row.
    ningbo.delete()

    tasks.commit_import_job(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert job.error
    assert [p["line"] for p in job.report["problems"]] == [6]
    assert not Customer.objects.exists()  # the first two chunks were rolled back too
    assert not default_storage.exists(job.file_path)
    page = client_for(dispatcher).get(job.get_absolute_url()).content.decode()
    assert 'id="import-failed"' in page and "宁波" in page


def test_a_rule_across_chunks_is_enforced_when_importing(hangzhou, monkeypatch):
    """Two primary contacts for one customer in different chunks: the check sees one chunk at a
    time and lets them pass; the import sees the first one saved and refuses the whole file."""
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 2)
    CustomerFactory(code="C-1", region=hangzhou)
    Contact.objects.all().delete()
    csv = (
        "customer code,name,mobile,primary contact\n"
        "C-1,李雷,13811112222,是\n"
        "C-1,韩梅梅,13811113333,否\n"
        "C-1,王芳,13811114444,是\n"
    ).encode()
    path = imports.keep_upload(SimpleUploadedFile("contacts.csv", csv))
    assert imports.check_import("contacts", "contacts.csv", path).ok
    report = imports.commit_import("contacts", "contacts.csv", path)
    assert [p.line for p in report.problems] == [4]
    title = str(Contact._meta.get_field("is_primary").verbose_name)
    assert report.problems[0].messages[0].startswith(title + "：")
    assert not Contact.objects.exists()


def test_primary_contact_rule_within_a_chunk_is_checked(hangzhou):
    customer = CustomerFactory(code="C-1", region=hangzhou)
    Contact.objects.all().delete()
    Contact.objects.create(customer=customer, name="老王", mobile="13900000000", is_primary=True)
    csv = (
        "customer code,name,mobile,primary contact\n"
        "C-1,李雷,13811112222,是\n"  # a second primary contact: refused
        "C-1,老王,13900000000,否\n"  # …unless the old one steps down first, as here below
        "C-1,韩梅梅,13811113333,是\n"
    ).encode()
    path = imports.keep_upload(SimpleUploadedFile("contacts.csv", csv))
    report = imports.check_import("contacts", "contacts.csv", path)
    assert [p.line for p in report.problems] == [2]


def test_large_excel_file_is_read_in_read_only_mode(client_for, dispatcher, hangzhou):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户编码", "名称", "类型", "地区"])
    for n in range(1, 8):
        sheet.append([f"X-{n}", f"客户{n}", "个人", "杭州"])
    sheet.append([None] * 4)
    buffer = io.BytesIO()
    book.save(buffer)
    client = client_for(dispatcher)
    upload(client, buffer.getvalue(), name="customers.xlsx")
    job = ImportJob.objects.get()
    tasks.check_import_job(job.pk)
    imports.confirm_import_job(job)
    tasks.commit_import_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.total_rows) == ("done", 7)
    assert Customer.objects.filter(kind="individual").count() == 7


def test_updates_and_unchanged_rows_are_told_apart(hangzhou):
    path = imports.keep_upload(SimpleUploadedFile("c.csv", customers_csv(3)))
    imports.commit_import("customers", "c.csv", path)
    changed = customers_csv(3).replace("杭州第2号".encode(), "杭州第二号".encode())
    path = imports.keep_upload(SimpleUploadedFile("c.csv", changed))
    report = imports.commit_import("customers", "c.csv", path)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 2)
    assert Customer.objects.get(code="C-00002").name == "杭州第二号餐饮有限公司"


def test_a_new_product_line_is_created_by_the_import_not_by_the_check():
    csv = (
        "product line,model code,name,warranty (months)\n"
        "商用空调,AC-1,一拖一,24\n"
        "商用空调,AC-2,一拖二,36\n"
        "冷柜,FR-1,立式冷柜,abc\n"
    ).encode()
    path = imports.keep_upload(SimpleUploadedFile("products.csv", csv))
    report = imports.check_import("products", "products.csv", path)
    assert [p.line for p in report.problems] == [4]
    assert not ProductLine.objects.exists()

    path = imports.keep_upload(SimpleUploadedFile("products.csv", csv.replace(b"abc", b"12")))
    assert imports.check_import("products", "products.csv", path).ok
    assert not ProductLine.objects.exists()
    report = imports.commit_import("products", "products.csv", path)
    assert report.ok and report.new == 3
    lines = dict(ProductLine.objects.values_list("name", "code"))
    assert set(lines) == {"商用空调", "冷柜"}
    assert ProductModel.objects.get(code="AC-2").line.name == "商用空调"


def test_queries_per_chunk_do_not_grow_with_the_file(hangzhou, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 10)

    def queries(rows):
        path = imports.keep_upload(SimpleUploadedFile("c.csv", customers_csv(rows)))
        with capture_queries() as captured:
            imports.commit_import("customers", "c.csv", path)
        Customer.objects.all().delete()
        return len(captured)

    ten, thirty = queries(10), queries(30)
    # Per chunk: the regions named, the existing customers, one bulk insert.
    assert thirty - ten == 2 * 3
    assert ten <= 6


def test_unreadable_file_makes_no_job(client_for, dispatcher):
    client = client_for(dispatcher)
    response = upload(client, b"\xff\xfe not really", name="customers.xlsx")
    assert not ImportJob.objects.exists()
    assert "无法" in response.content.decode()


# --- A real worker -------------------------------------------------------------------------


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
def test_worker_checks_and_imports_a_large_file(client_for, dispatcher, hangzhou, monkeypatch):
    """Through Redis and a worker thread: serialisation, transactions and progress for real."""
    assert app.conf.broker_url.startswith("redis://")
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 25)
    client = client_for(dispatcher)

    def close_db_connection(**kwargs):
        connection.close()  # the worker thread's; an open one would block dropping the test db

    task_postrun.connect(close_db_connection, weak=False)
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            upload(client, customers_csv(120))
            job = ImportJob.objects.get()
            checked = _wait_for(
                lambda: ImportJob.objects.filter(pk=job.pk, state="checked").first(), 30
            )
            assert checked is not None, ImportJob.objects.get(pk=job.pk).__dict__
            assert (checked.bad_rows, checked.rows_done) == (0, 120)
            assert not Customer.objects.exists()

            client.post(reverse("customers:import_job_confirm", args=[job.pk]))
            done = _wait_for(lambda: ImportJob.objects.filter(pk=job.pk, state="done").first(), 30)
    finally:
        task_postrun.disconnect(close_db_connection)

    assert done is not None, ImportJob.objects.get(pk=job.pk).__dict__
    assert done.rows_done == done.total_rows == 120
    assert Customer.objects.count() == 120


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(
    dispatcher, hangzhou, monkeypatch
):
    """The job page reads rows_done from another connection than the import's transaction."""
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 2)
    path = imports.keep_upload(SimpleUploadedFile("c.csv", customers_csv(5)))
    job = ImportJob.objects.create(
        user=dispatcher, kind="customers", file_name="c.csv", file_path=path, total_rows=5
    )
    writer = imports._ProgressWriter(job.pk)
    page = connection.copy()  # what the job page's request sees
    seen = []

    def progress(rows):
        writer(rows)
        with page.cursor() as cursor:
            cursor.execute(
                f"SELECT rows_done FROM {ImportJob._meta.db_table} WHERE id = %s", [job.pk]
            )
            seen.append(cursor.fetchone()[0])

    try:
        imports.commit_import("customers", "c.csv", path, progress=progress)
    finally:
        writer.close()
        page.close()
    assert seen == [2, 4, 5]
