"""The electronic service report (电子服务报告): a real PDF with the request's facts, photos and
signature, stored once per version of what it shows; staff see fees always, the customer's copy
(from the tracking link, once processed) only after 核销."""

import io
import shutil
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from pypdf import PdfReader

from tests.aftersales.test_redis_outage import own_redis  # noqa: F401 (a fixture)
from tests.factories import ticket_in_state
from tests.tickets.test_mobile import job_url, jpeg, signature_data_url, visit_post
from tickets import reports, services
from tickets.models import Revisit, ServiceReport, State, Visit

STAFF, CUSTOMER = ServiceReport.Audience.STAFF, ServiceReport.Audience.CUSTOMER
PHOTOS = 6


def pdf_of(response):
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def pdf_images(content):
    """The distinct images the PDF embeds (its pages may share one resource dictionary)."""
    pages = PdfReader(io.BytesIO(content)).pages
    return list({image.data: image for page in pages for image in page.images}.values())


def embedded_fonts(content):
    """The names of the fonts the PDF carries itself (its font descriptors hold a font file)."""
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            for part in font.get_object().get("/DescendantFonts", []):
                descriptor = part.get_object()["/FontDescriptor"].get_object()
                if {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor):
                    names.add(str(part.get_object()["/BaseFont"]))
    return names


def staff_pdf_url(ticket):
    return reverse("tickets:report_pdf", args=[ticket.pk])


def customer_urls(ticket):
    token = ticket.public_token
    return reverse("ticket_report", args=[token]), reverse("ticket_report_pdf", args=[token])


def stored(ticket, audience):
    return ServiceReport.objects.filter(ticket=ticket, audience=audience).first()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def processed(media, engineer_client, dispatcher, engineer):
    """A request the engineer reported resolved on the phone page: 6 photos, the customer's
    signature, two parts, 1.5 h, ¥120 + ¥30 charged."""
    ticket = ticket_in_state(
        State.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        contact_name="王伟",
        contact_phone="13812345678",
        address="上海市浦东新区张江路 88 号",
    )
    data = visit_post(
        ticket,
        signature=signature_data_url(),
        **{
            "parts-0-name": "温控器",
            "parts-0-quantity": "1",
            "parts-1-name": "密封圈",
            "parts-1-quantity": "2",
        },
    )
    data["photos"] = [
        jpeg(640, 480, name=f"p{n}.jpg", color=(30 * n, 90, 160)) for n in range(PHOTOS)
    ]
    response = engineer_client.post(job_url(ticket, "visit"), data)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == State.PROCESSED
    return ticket


def close_and_verify(ticket, revisit_agent, service_manager):
    ticket = services.record_revisit(
        ticket, revisit_agent, version=None, outcome=Revisit.Outcome.SATISFIED, score=5
    )
    return services.perform(ticket, "verify", service_manager)


# --- The PDF -------------------------------------------------------------------------------------


def test_staff_download_a_pdf_with_the_request_its_photos_and_the_signature(
    processed, dispatcher_client
):
    response = dispatcher_client.get(staff_pdf_url(processed))
    content = pdf_of(response)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert processed.number in text
    assert processed.customer.name in text
    assert "更换温控器，试机正常" in text  # the work done
    assert "温控器 × 1" in text and "密封圈 × 2" in text
    assert "1.5" in text and "150.00" in text  # hours, and the ¥120 + ¥30 due
    assert len(pdf_images(content)) == PHOTOS + 1  # the photos and the signature
    # Set in Noto Sans CJK SC only, embedded (subsets: "ABCDEF+Noto-Sans-CJK-SC").
    fonts = embedded_fonts(content)
    assert fonts and all(name.split("+")[1].startswith("Noto-Sans-CJK-SC") for name in fonts)
    # 服务报告-SR….pdf, RFC 5987-encoded.
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''" + quote(f"服务报告-{processed.number}.pdf")
    )


def test_the_web_version_shows_the_same_report(processed, dispatcher_client):
    response = dispatcher_client.get(reverse("tickets:report", args=[processed.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert processed.number in page and "更换温控器，试机正常" in page
    visit = processed.visits.get()
    for photo in visit.photos.all():
        assert f'src="{photo.image.url}"' in page  # the private files' access-checked URLs
    assert f'src="{visit.signature.url}"' in page
    assert 'href="/static/css/service_report.css"' in page
    assert "style=" not in page  # the CSP forbids inline styles
    assert reverse("ticket_public", args=[processed.public_token]) in page  # the QR's address
    # Each photo opens for this person (the same files the PDF embeds).
    assert dispatcher_client.get(visit.photos.first().image.url).status_code == 200


def test_times_are_shown_in_shanghai_time(processed, dispatcher_client):
    from zoneinfo import ZoneInfo

    visit = processed.visits.get()
    local = visit.checked_in_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    page = dispatcher_client.get(reverse("tickets:report", args=[processed.pk])).content.decode()
    assert local in page


# --- Once per version -----------------------------------------------------------------------------


def test_an_unchanged_report_is_not_rendered_again(processed, dispatcher_client, dispatcher):
    first = pdf_of(dispatcher_client.get(staff_pdf_url(processed)))
    report = stored(processed, STAFF)
    # A change the report does not show (the priority) is no new version.
    services.change_priority(processed, dispatcher, version=processed.version, priority="urgent")
    second = pdf_of(dispatcher_client.get(staff_pdf_url(processed)))
    again = stored(processed, STAFF)
    assert (again.file.name, again.rendered_at, again.digest) == (
        report.file.name,
        report.rendered_at,
        report.digest,
    )
    assert second == first
    assert ServiceReport.objects.filter(ticket=processed).count() == 1


def test_a_corrected_visit_is_rendered_again_and_the_old_file_removed(
    processed,
    dispatcher_client,
    engineer,
    revisit_agent,
    service_manager,
    django_capture_on_commit_callbacks,
):
    pdf_of(dispatcher_client.get(staff_pdf_url(processed)))
    before = stored(processed, STAFF)
    ticket = services.record_revisit(
        processed, revisit_agent, version=None, outcome=Revisit.Outcome.SATISFIED, score=5
    )
    ticket = services.perform(ticket, "send_back", service_manager, reason="工时填错了")
    services.correct_visit(
        ticket,
        engineer,
        version=None,
        record={"labour_hours": Decimal("3.5"), "labour_fee": Decimal("280")},
        parts=[("温控器", Decimal("1"))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        text = pdf_text(pdf_of(dispatcher_client.get(staff_pdf_url(ticket))))
    after = stored(ticket, STAFF)
    assert after.digest != before.digest and after.file.name != before.file.name
    assert after.rendered_at > before.rendered_at
    assert "3.5" in text and "310.00" in text and "密封圈" not in text
    assert not default_storage.exists(before.file.name)  # one file per copy is kept


def test_a_stored_file_that_went_missing_is_rendered_again(processed, dispatcher_client):
    pdf_of(dispatcher_client.get(staff_pdf_url(processed)))
    report = stored(processed, STAFF)
    default_storage.delete(report.file.name)
    content = pdf_of(dispatcher_client.get(staff_pdf_url(processed)))
    assert content.startswith(b"%PDF") and processed.number in pdf_text(content)
    assert default_storage.exists(stored(processed, STAFF).file.name)


def test_the_task_renders_what_changed_only(processed, revisit_agent, service_manager):
    assert reports.render_reports(processed.pk) == 2  # the staff's and the customer's copy
    assert reports.render_reports(processed.pk) == 0  # run twice: nothing the second time
    customer_before = stored(processed, CUSTOMER)
    close_and_verify(processed, revisit_agent, service_manager)
    # 核销: the customer's copy now shows the fees, the staff's when they were verified.
    assert reports.render_reports(processed.pk) == 2
    assert stored(processed, CUSTOMER).digest != customer_before.digest
    assert reports.render_reports(0) == 0  # a request that is gone


def test_finishing_a_visit_and_verifying_queue_the_rendering(
    media, dispatcher, engineer, service_manager, django_capture_on_commit_callbacks, monkeypatch
):
    from tickets import tasks

    queued = []
    monkeypatch.setattr(tasks.render_service_reports, "delay", lambda *args: queued.append(args))
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.perform(ticket, "resolve", engineer)
    assert queued == [(ticket.pk,)]
    with django_capture_on_commit_callbacks(execute=True):
        services.change_priority(ticket, dispatcher, version=None, priority="urgent")
    assert queued == [(ticket.pk,)]  # nothing the report shows


# --- The customer's copy --------------------------------------------------------------------------


def test_the_customer_sees_fees_only_after_verification(
    processed, client, revisit_agent, service_manager
):
    web, pdf = customer_urls(processed)
    tracking = client.get(reverse("ticket_public", args=[processed.public_token])).content.decode()
    assert f'href="{pdf}"' in tracking and f'href="{web}"' in tracking

    text = pdf_text(pdf_of(client.get(pdf)))
    assert processed.number in text and "更换温控器，试机正常" in text
    assert "¥" not in text and "150.00" not in text and "120.00" not in text
    assert "13812345678" not in text  # no phone numbers on the copy that travels
    page = client.get(web).content.decode()
    assert "¥" not in page and "150.00" not in page
    assert "confirmed after verification" in page or "核销" in page

    close_and_verify(processed, revisit_agent, service_manager)
    text = pdf_text(pdf_of(client.get(pdf)))
    assert "150.00" in text and "120.00" in text
    assert "¥150.00" in client.get(web).content.decode()
    assert len(pdf_images(pdf_of(client.get(pdf)))) == PHOTOS + 1


def test_the_staff_copy_shows_fees_before_verification(processed, dispatcher_client):
    text = pdf_text(pdf_of(dispatcher_client.get(staff_pdf_url(processed))))
    assert "150.00" in text and "13812345678" in text


@pytest.mark.parametrize("state", [State.PENDING_ASSIGNMENT, State.ASSIGNED, State.IN_SERVICE])
def test_no_report_for_the_customer_before_the_work_is_done(
    state, client, dispatcher, engineer, media
):
    ticket = ticket_in_state(state, dispatcher=dispatcher, engineer=engineer)
    web, pdf = customer_urls(ticket)
    assert client.get(web).status_code == 404
    assert client.get(pdf).status_code == 404
    tracking = client.get(reverse("ticket_public", args=[ticket.public_token])).content.decode()
    assert pdf not in tracking
    assert not ServiceReport.objects.exists()


def test_reopened_after_an_unsatisfied_revisit_offers_no_report(processed, client, revisit_agent):
    services.record_revisit(
        processed,
        revisit_agent,
        version=None,
        outcome=Revisit.Outcome.UNSATISFIED,
        score=1,
        comment="还是不制冷",
    )
    assert client.get(customer_urls(processed)[1]).status_code == 404


def test_unknown_tokens_are_not_found(processed, client):
    photo = processed.visits.get().photos.first().image.name
    real = processed.public_token
    guessed = real[:-1] + ("A" if real[-1] != "A" else "B")  # one character off
    for wrong in ("x" * 43, guessed, "nope"):
        assert client.get(reverse("ticket_report", args=[wrong])).status_code == 404
        assert client.get(reverse("ticket_report_pdf", args=[wrong])).status_code == 404
        assert client.get(reverse("ticket_report_file", args=[wrong, photo])).status_code == 404
    assert not ServiceReport.objects.exists()


def test_the_customer_web_version_serves_its_own_photos_only(
    processed, client, dispatcher, engineer, engineer_client
):
    token = processed.public_token
    visit = processed.visits.get()
    page = client.get(reverse("ticket_report", args=[token])).content.decode()
    names = [p.image.name for p in visit.photos.all()] + [visit.signature.name]
    for name in names:
        url = reverse("ticket_report_file", args=[token, name])
        assert f'src="{url}"' in page
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:4] in (b"\xff\xd8\xff\xe0", b"\x89PNG")
    # Another request's photo through this request's link: not found.
    other = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    data = visit_post(other)
    data["photos"] = [jpeg(name="other.jpg")]
    engineer_client.post(job_url(other, "visit"), data)
    theirs = Visit.objects.get(ticket=other).photos.get().image.name
    assert client.get(reverse("ticket_report_file", args=[token, theirs])).status_code == 404
    assert client.get(
        reverse("ticket_report_file", args=[token, "../settings.py"])
    ).status_code == (404)


def test_the_customer_pages_are_rate_limited(processed, client, settings):
    settings.PUBLIC_RATE_LIMIT = "2/m"
    web = customer_urls(processed)[0]
    assert [client.get(web).status_code for _ in range(3)] == [200, 200, 429]


# --- Staff permissions ----------------------------------------------------------------------------


def test_office_roles_open_the_report_like_the_ticket_page(
    processed, finance_client, revisit_agent_client, manager_client
):
    for client in (finance_client, revisit_agent_client, manager_client):
        assert client.get(reverse("tickets:report", args=[processed.pk])).status_code == 200
    assert pdf_of(finance_client.get(staff_pdf_url(processed))).startswith(b"%PDF")


def test_engineers_and_strangers_do_not_get_the_staff_copy(
    processed, engineer_client, client, client_for, make_user
):
    nobody = client_for(make_user(username="nobody"))  # signed in, no role
    for url in (reverse("tickets:report", args=[processed.pk]), staff_pdf_url(processed)):
        assert engineer_client.get(url).status_code == 404  # the ticket page's rule: office only
        assert nobody.get(url).status_code == 404
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ServiceReport.objects.exists()


def test_the_ticket_page_links_the_report_once_a_visit_is_reported(
    processed, dispatcher_client, dispatcher, engineer
):
    page = dispatcher_client.get(processed.get_absolute_url()).content.decode()
    assert reverse("tickets:report", args=[processed.pk]) in page
    assert staff_pdf_url(processed) in page
    waiting = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    page = dispatcher_client.get(waiting.get_absolute_url()).content.decode()
    assert reverse("tickets:report", args=[waiting.pk]) not in page


def test_a_visit_reported_not_resolved_is_in_the_staff_copy(
    media, dispatcher, engineer, engineer_client, dispatcher_client
):
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    engineer_client.post(
        job_url(ticket, "visit"),
        visit_post(ticket, result="unresolved", reason="缺少备件", work_done="检查发现压缩机损坏"),
    )
    ticket.refresh_from_db()
    assert ticket.state == State.PENDING_ASSIGNMENT
    assert (
        reverse("tickets:report", args=[ticket.pk])
        in dispatcher_client.get(ticket.get_absolute_url()).content.decode()
    )
    assert "检查发现压缩机损坏" in pdf_text(pdf_of(dispatcher_client.get(staff_pdf_url(ticket))))
    assert dispatcher_client.get(customer_urls(ticket)[1]).status_code == 404


# --- WeasyPrint reads local files only ------------------------------------------------------------


def test_the_pdf_fetches_no_other_file_and_no_address(media):
    from tickets import pdf

    fetcher = pdf.LocalFetcher(["visits/mine.jpg"])
    default_storage.save("visits/mine.jpg", io.BytesIO(b"\xff\xd8\xff\xe0mine"))
    default_storage.save("visits/theirs.jpg", io.BytesIO(b"\xff\xd8\xff\xe0theirs"))
    assert fetcher(pdf.MEDIA_PREFIX + "visits/mine.jpg").read().endswith(b"mine")
    assert b".report-head" in fetcher(pdf.STATIC_PREFIX + "css/service_report.css").read()
    for url in (
        pdf.MEDIA_PREFIX + "visits/theirs.jpg",
        pdf.STATIC_PREFIX + "../../aftersales/settings.py",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ):
        with pytest.raises(ValueError):
            fetcher(url)
    # Any other address in a document is left out: the PDF comes without it.
    html = '<p>x</p><img src="file:///etc/passwd"><img src="https://example.com/a.png">'
    content = pdf.write_pdf(html)
    assert content.startswith(b"%PDF") and pdf_images(content) == []


# --- The worker, and no worker ------------------------------------------------------------------

WORKER = """
import django
django.setup()
from aftersales.celery import app
app.worker_main(["worker", "-l", "info", "--concurrency", "1", "--pool", "solo"])
"""


def photo_files(n):
    from django.core.files.base import ContentFile
    from PIL import Image

    files = []
    for i in range(n):
        out = io.BytesIO()
        Image.new("RGB", (800, 600), (40 * i, 120, 200)).save(out, "JPEG")
        files.append(ContentFile(out.getvalue(), name=f"w{i}.jpg"))
    return files


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_the_worker_renders_the_reports_after_the_visit(
    dispatcher, engineer, settings, tmp_path, client
):
    """A real Celery worker (a process of its own, the Redis broker, the PostgreSQL test
    database, the same media folder) renders both copies once the visit is committed; the
    customer's download then sends the worker's file without rendering it again."""
    import os
    import signal
    import subprocess
    import sys

    from django.db import connection

    from aftersales.celery import app
    from tests.test_celery import wait_for

    settings.MEDIA_ROOT = tmp_path / "media"
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env |= {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "VAR_DIR": str(tmp_path),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        # What the report shows of the settings: as in production, both sides read the same.
        "SITE_URL": settings.SITE_URL,
        "SERVICE_HOTLINE": settings.SERVICE_HOTLINE,
        "COMPANY_NAME": settings.COMPANY_NAME,
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    app.control.purge()  # messages an earlier, interrupted run left in this Redis database
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
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
        services.finish_visit(  # committed: the rendering is queued
            ticket,
            engineer,
            version=None,
            record={"work_done": "清洗过滤网，更换风扇电机", "labour_hours": Decimal("2")},
            parts=[("风扇电机", Decimal("1"))],
            photos=photo_files(PHOTOS),
            signature=None,
            resolved=True,
        )
        done = wait_for(lambda: ServiceReport.objects.filter(ticket=ticket).count() == 2, 90, 0.5)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        connection.close()
    log_text = log_path.read_text(errors="replace")
    assert done, "the worker rendered no report. Worker log:\n" + log_text[-4000:]
    assert "tickets.render_service_reports" in log_text
    assert "PDF rendering is not available" not in log_text  # warmed up as it started
    report = stored(ticket, CUSTOMER)
    assert report.render_ms > 0
    assert default_storage.open(report.file.name).read(5) == b"%PDF-"
    content = pdf_of(client.get(customer_urls(ticket)[1]))
    assert "清洗过滤网，更换风扇电机" in pdf_text(content)
    assert len(pdf_images(content)) == PHOTOS
    again = stored(ticket, CUSTOMER)
    assert (again.file.name, again.rendered_at) == (report.file.name, report.rendered_at)


def test_with_no_worker_a_download_renders_the_report_itself(processed, dispatcher_client):
    """Nothing rendered it (the broker was down, the worker stopped): the download does, and
    stores it for the next one."""
    assert not ServiceReport.objects.exists()
    content = pdf_of(dispatcher_client.get(staff_pdf_url(processed)))
    assert processed.number in pdf_text(content)
    assert stored(processed, STAFF).render_ms > 0


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_with_redis_stopped_the_visit_is_saved_and_the_download_renders_it(
    own_redis,  # noqa: F811 (the fixture)
    media,
    dispatcher,
    engineer,
    client_for,
    django_capture_on_commit_callbacks,
    monkeypatch,
    caplog,
):
    """Redis (cache and broker) stopped: the visit is recorded all the same, the rendering is
    not queued (aftersales.queue does not wait for a Redis that failed), and the staff's download
    renders the report there and then."""
    from tickets import tasks

    queued = []
    monkeypatch.setattr(tasks.render_service_reports, "delay", lambda *args: queued.append(args))
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    own_redis.kill()
    own_redis.wait()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.finish_visit(
            ticket,
            engineer,
            version=None,
            record={"work_done": "停电期间更换主板"},
            parts=[],
            photos=[],
            signature=None,
            resolved=True,
        )
    assert ticket.state == State.PROCESSED and queued == []
    assert "render_service_reports not queued" in caplog.text
    content = pdf_of(client_for(dispatcher).get(staff_pdf_url(ticket)))
    assert "停电期间更换主板" in pdf_text(content)
