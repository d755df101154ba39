"""The engineer's phone pages (/m/): my jobs, accept/decline, check-in, the visit, corrections."""

import base64
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from aftersales.roles import Role
from tests.factories import EquipmentFactory, ProblemTypeFactory, enter_ticket, ticket_in_state
from tests.queries import count_queries
from tickets import services
from tickets.models import ChargeType, State, TicketTransition, Visit, VisitPhoto

# --- Helpers -----------------------------------------------------------------------------------


def jpeg(width=64, height=48, name="photo.jpg", color=(200, 60, 40)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def signature_data_url():
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 100), (150, 20), (290, 90)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def message_texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def job_url(ticket, name="job", *args):
    return reverse(f"mobile:{name}", args=[ticket.pk, *args])


def act(client, ticket, action, **data):
    ticket.refresh_from_db()
    return client.post(job_url(ticket, "act", action), {"version": ticket.version, **data})


def visit_post(ticket, result="resolved", **fields):
    ticket.refresh_from_db()
    data = {
        "version": ticket.version,
        "result": result,
        "work_done": "更换温控器，试机正常",
        "labour_hours": "1.5",
        "labour_fee": "120",
        "travel_fee": "30",
        "other_fee": "0",
        "charge": ChargeType.CHARGED,
        "reason": "",
        "signature": "",
        "parts-TOTAL_FORMS": "2",
        "parts-INITIAL_FORMS": "0",
        "parts-MIN_NUM_FORMS": "0",
        "parts-MAX_NUM_FORMS": "30",
        "parts-0-name": "",
        "parts-0-quantity": "1",
        "parts-1-name": "",
        "parts-1-quantity": "1",
    }
    data.update(fields)
    return data


@pytest.fixture
def other_engineer(make_user):
    return make_user(Role.ENGINEER, username="engineer2")


@pytest.fixture
def in_service(dispatcher, engineer):
    return ticket_in_state(
        State.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        address="上海市浦东新区张江路 88 号",
        contact_name="王伟",
        contact_phone="13812345678",
    )


# --- Access ------------------------------------------------------------------------------------


def test_engineer_sees_only_own_jobs(client_for, dispatcher, engineer, other_engineer):
    mine = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    theirs = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=other_engineer)
    client = client_for(engineer)

    page = client.get(reverse("mobile:jobs") + "?tab=open").content.decode()
    assert mine.number in page
    assert theirs.number not in page
    assert client.get(job_url(mine)).status_code == 200
    assert client.get(job_url(theirs)).status_code == 404
    assert act(client, theirs, "accept").status_code == 404
    assert client.post(job_url(theirs, "visit"), visit_post(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.accepted_at is None


def test_office_roles_and_strangers_cannot_open_engineer_pages(client, dispatcher_client):
    assert dispatcher_client.get(reverse("mobile:jobs")).status_code == 403
    response = client.get(reverse("mobile:jobs"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_action_is_not_found(engineer_client, in_service):
    assert act(engineer_client, in_service, "verify").status_code == 404
    assert engineer_client.get(job_url(in_service, "act", "accept")).status_code == 405


# --- The list ----------------------------------------------------------------------------------


def test_tabs_today_open_and_done(client_for, dispatcher, engineer):
    today = timezone.localdate()
    due_today = ticket_in_state(
        State.ASSIGNED, dispatcher=dispatcher, engineer=engineer, requested_date=today
    )
    overdue = ticket_in_state(
        State.ASSIGNED,
        dispatcher=dispatcher,
        engineer=engineer,
        requested_date=today - timedelta(days=2),
    )
    later = ticket_in_state(
        State.ASSIGNED,
        dispatcher=dispatcher,
        engineer=engineer,
        requested_date=today + timedelta(days=3),
    )
    on_site = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    done = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    sent_back = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    client = client_for(engineer)

    def numbers(tab):
        response = client.get(reverse("mobile:jobs"), {"tab": tab})
        assert response.status_code == 200
        return [t.number for t in response.context["jobs"]]

    today_jobs = numbers("today")
    assert today_jobs[0] == on_site.number  # on site comes first
    assert set(today_jobs) == {on_site.number, overdue.number, due_today.number}
    assert today_jobs.index(overdue.number) < today_jobs.index(due_today.number)
    assert set(numbers("open")) == {
        on_site.number,
        overdue.number,
        due_today.number,
        later.number,
    }
    assert set(numbers("done")) == {done.number, sent_back.number}
    page = client.get(reverse("mobile:jobs")).content.decode()  # today is the default tab
    assert 'data-tab="today" aria-current="page"' in page
    assert '<span class="job-tab-count">3</span>' in page


def test_closed_ticket_sent_back_is_an_open_job(client_for, dispatcher, engineer, service_manager):
    closed = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    services.perform(closed, "send_back", service_manager, reason="工时填写有误")
    response = client_for(engineer).get(reverse("mobile:jobs"), {"tab": "open"})
    assert [t.pk for t in response.context["jobs"]] == [closed.pk]
    assert "工时填写有误" not in response.content.decode()  # the note is on the job page


def test_done_tab_pages_without_counting(client_for, dispatcher, engineer, monkeypatch):
    from tickets.views import mobile

    monkeypatch.setattr(mobile, "DONE_PAGE_SIZE", 2)
    for _i in range(3):
        ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    client = client_for(engineer)
    first = client.get(reverse("mobile:jobs"), {"tab": "done"})
    assert len(first.context["jobs"]) == 2 and first.context["has_next"]
    second = client.get(reverse("mobile:jobs"), {"tab": "done", "page": "2"})
    assert len(second.context["jobs"]) == 1 and not second.context["has_next"]
    assert client.get(reverse("mobile:jobs"), {"tab": "done", "page": "x"}).status_code == 200


def make_jobs(n, dispatcher, engineer):
    problem = ProblemTypeFactory()
    today = timezone.localdate()
    for i in range(n):
        t = enter_ticket(
            dispatcher,
            equipment=EquipmentFactory(),
            problem_type=problem,
            requested_date=today - timedelta(days=i % 2),
        )
        t = services.perform(t, "assign", dispatcher, engineer=engineer)
        if i % 3 == 0:
            services.check_in(t, engineer)


@pytest.mark.parametrize("tab", ["today", "open", "done"])
def test_job_list_queries_do_not_grow_with_jobs(client_for, dispatcher, engineer, tab):
    client = client_for(engineer)
    url = reverse("mobile:jobs") + f"?tab={tab}"

    make_jobs(3, dispatcher, engineer)
    small = count_queries(client, url)
    make_jobs(30, dispatcher, engineer)
    assert count_queries(client, url) == small


# --- The job page ------------------------------------------------------------------------------


def test_job_page_offers_call_map_and_the_engineers_actions(client_for, dispatcher, engineer):
    unit = EquipmentFactory(serial_no="SN-2026-0042")
    ticket = ticket_in_state(
        State.ASSIGNED,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        address="杭州市西湖区文三路 90 号",
        contact_name="李静",
        contact_phone="138 1234 5678",
        description="滤芯漏水",
    )
    response = client_for(engineer).get(job_url(ticket))
    page = response.content.decode()
    assert 'href="tel:13812345678"' in page
    assert "https://uri.amap.com/search?keyword=%E6%9D%AD%E5%B7%9E" in page
    assert "SN-2026-0042" in page and "滤芯漏水" in page and unit.customer.name in page
    assert [a.name for a, _form in response.context["actions"]] == ["accept", "check_in", "decline"]
    assert f'name="version" value="{ticket.version}"' in page
    assert "data-geolocate" in page
    assert response.context["visit_form"] is None
    assert "style=" not in page and "<script>" not in page
    # The history shows the entry and the assignment.
    assert [t.action for t in response.context["log"]] == ["enter", "assign"]


def test_job_page_queries_do_not_grow_with_its_history(
    engineer_client, dispatcher, engineer, other_engineer
):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)

    small = count_queries(engineer_client, job_url(ticket))
    for i in range(10):
        ticket = services.perform(
            ticket, "assign", dispatcher, engineer=(other_engineer, engineer)[i % 2]
        )
    assert count_queries(engineer_client, job_url(ticket)) == small


def test_accept(engineer_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    response = act(engineer_client, ticket, "accept")
    assert response.status_code == 302 and response["Location"] == job_url(ticket)
    ticket.refresh_from_db()
    assert ticket.state == State.ASSIGNED and ticket.accepted_at is not None
    assert ticket.log.last().action == "accept"
    page = engineer_client.get(job_url(ticket))
    assert [a.name for a, _form in page.context["actions"]] == ["check_in", "decline"]


def test_decline_needs_a_reason_and_does_not_count_a_round(engineer_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    assert ticket.round == 1

    response = act(engineer_client, ticket, "decline", reason="  ")
    assert message_texts(response)
    ticket.refresh_from_db()
    assert ticket.state == State.ASSIGNED and ticket.engineer == engineer

    response = act(engineer_client, ticket, "decline", reason="今天在外地，赶不回来")
    assert response["Location"] == reverse("mobile:jobs")  # no longer mine
    ticket.refresh_from_db()
    assert ticket.state == State.PENDING_ASSIGNMENT
    assert ticket.engineer is None and ticket.round == 0 and ticket.unresolved_rounds == 0
    row = ticket.log.last()
    assert (row.action, row.actor, row.reason) == ("decline", engineer, "今天在外地，赶不回来")
    assert engineer_client.get(job_url(ticket)).status_code == 404


def test_check_in_with_location(engineer_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    response = act(engineer_client, ticket, "check_in", latitude="31.2304167", longitude="121.4737")
    assert response["Location"] == job_url(ticket)
    ticket.refresh_from_db()
    assert ticket.state == State.IN_SERVICE
    visit = Visit.objects.get(ticket=ticket)
    assert (visit.latitude, visit.longitude) == (Decimal("31.230417"), Decimal("121.473700"))
    assert visit.engineer == engineer and visit.round == 1
    assert ticket.log.last().data == {"lat": "31.230417", "lng": "121.473700"}
    page = engineer_client.get(job_url(ticket))
    assert page.context["visit_form"] is not None


@pytest.mark.parametrize(
    "position",
    [
        {},
        {"latitude": "", "longitude": ""},
        {"latitude": "abc", "longitude": "1"},
        {"latitude": "95", "longitude": "10"},
        {"latitude": "31.2"},
    ],
)
def test_check_in_without_a_usable_location_still_works(
    engineer_client, dispatcher, engineer, position
):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    act(engineer_client, ticket, "check_in", **position)
    ticket.refresh_from_db()
    assert ticket.state == State.IN_SERVICE
    visit = Visit.objects.get(ticket=ticket)
    assert visit.latitude is None and visit.longitude is None


def test_stale_version_is_refused_with_the_message(engineer_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    response = engineer_client.post(
        job_url(ticket, "act", "check_in"), {"version": ticket.version - 1}
    )
    assert message_texts(response) == [services.stale_message()]
    ticket.refresh_from_db()
    assert ticket.state == State.ASSIGNED and not ticket.visits.exists()


def test_refused_action_shows_the_services_message(engineer_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    act(engineer_client, ticket, "accept")
    response = act(engineer_client, ticket, "accept")  # already accepted
    accepted, refused = message_texts(response)
    assert ticket.number in accepted and ticket.number not in refused
    assert ticket.log.filter(action="accept").count() == 1


# --- Finishing the visit -----------------------------------------------------------------------


def test_finish_resolved_with_photos_parts_and_signature(
    engineer_client, in_service, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    data = visit_post(
        in_service,
        signature=signature_data_url(),
        **{
            "parts-0-name": "温控器 WK-20",
            "parts-0-quantity": "1",
            "parts-1-name": "密封圈",
            "parts-1-quantity": "2.5",
        },
    )
    data["photos"] = [jpeg(3200, 2400, name="big.jpg"), jpeg(name="small.png")]
    response = engineer_client.post(job_url(in_service, "visit"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == job_url(in_service)

    in_service.refresh_from_db()
    assert in_service.state == State.PROCESSED
    visit = Visit.objects.get(ticket=in_service)
    assert visit.result == Visit.Result.RESOLVED and visit.finished_at
    assert visit.work_done == "更换温控器，试机正常"
    assert (visit.labour_hours, visit.labour_fee, visit.travel_fee) == (
        Decimal("1.5"),
        Decimal("120"),
        Decimal("30"),
    )
    assert [(p.name, p.quantity) for p in visit.parts.all()] == [
        ("温控器 WK-20", Decimal("1")),
        ("密封圈", Decimal("2.5")),
    ]
    photos = list(visit.photos.all())
    assert len(photos) == 2
    with Image.open(photos[0].image.path) as big:
        assert big.format == "JPEG" and big.size == (1600, 1200)
    with Image.open(photos[1].image.path) as small:
        assert small.format == "JPEG" and small.size == (64, 48)
    assert all(p.image.name.endswith(".jpg") and "big" not in p.image.name for p in photos)
    with Image.open(visit.signature.path) as signature:
        assert signature.format == "PNG" and signature.size == (300, 120)
    assert in_service.log.last().action == "resolve"
    page = engineer_client.get(job_url(in_service))
    assert page.context["visit_form"] is None and len(page.context["visits"]) == 1


def test_not_resolved_needs_a_reason_and_the_second_time_locks(
    engineer_client, dispatcher, engineer, in_service
):
    response = engineer_client.post(
        job_url(in_service, "visit"), visit_post(in_service, "unresolved", work_done="")
    )
    assert response.status_code == 200
    assert "reason" in response.context["visit_form"].errors
    in_service.refresh_from_db()
    assert in_service.state == State.IN_SERVICE

    response = engineer_client.post(
        job_url(in_service, "visit"),
        visit_post(in_service, "unresolved", work_done="", reason="压缩机损坏，需要订货"),
    )
    assert response["Location"] == reverse("mobile:jobs")
    in_service.refresh_from_db()
    assert in_service.state == State.PENDING_ASSIGNMENT
    assert in_service.unresolved_rounds == 1 and in_service.engineer is None
    assert Visit.objects.get(ticket=in_service).result == Visit.Result.UNRESOLVED

    services.perform(in_service, "assign", dispatcher, engineer=engineer)
    act(engineer_client, in_service, "check_in")
    response = engineer_client.post(
        job_url(in_service, "visit"),
        visit_post(in_service, "unresolved", reason="备件仍未到货"),
    )
    in_service.refresh_from_db()
    assert in_service.state == State.LOCKED and in_service.unresolved_rounds == 2
    assert list(get_messages(response.wsgi_request))[-1].level_tag == "warning"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"work_done": "  "}, "work_done"),
        ({"labour_fee": "-5"}, "labour_fee"),
        ({"travel_fee": "abc"}, "travel_fee"),
        ({"labour_hours": "120"}, "labour_hours"),
        ({"result": ""}, "result"),
        ({"signature": "data:image/png;base64,bm90IGEgcG5n"}, "signature"),
        ({"signature": "data:image/jpeg;base64,AAAA"}, "signature"),
        ({"parts-0-name": "滤芯", "parts-0-quantity": "0"}, None),
    ],
)
def test_bad_visit_input_is_shown_and_nothing_saved(
    engineer_client, in_service, settings, tmp_path, fields, error_field
):
    settings.MEDIA_ROOT = tmp_path
    data = visit_post(in_service, **fields)
    data["photos"] = [jpeg()]
    response = engineer_client.post(job_url(in_service, "visit"), data)
    assert response.status_code == 200
    form = response.context["visit_form"]
    if error_field:
        assert error_field in form.errors
    else:
        assert not response.context["parts"].is_valid()
    assert message_texts(response)
    in_service.refresh_from_db()
    assert in_service.state == State.IN_SERVICE
    visit = Visit.objects.get(ticket=in_service)
    assert visit.result == "" and visit.work_done == "" and not visit.signature
    assert not VisitPhoto.objects.exists() and not visit.parts.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_fake_image_is_refused_and_nothing_saved(engineer_client, in_service, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = visit_post(in_service, signature=signature_data_url())
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg")
    data["photos"] = [jpeg(), fake]
    response = engineer_client.post(job_url(in_service, "visit"), data)
    assert response.status_code == 200
    assert "photos" in response.context["visit_form"].errors
    in_service.refresh_from_db()
    assert in_service.state == State.IN_SERVICE
    assert not VisitPhoto.objects.exists()
    assert not Visit.objects.get(ticket=in_service).signature
    assert not any(tmp_path.rglob("*.*"))
    # The signature survives the error, so the customer need not sign again.
    assert 'value="data:image/png;base64,' in response.content.decode()


def test_oversized_photo_is_refused(engineer_client, in_service, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_MAX_BYTES = 2000
    data = visit_post(in_service)
    data["photos"] = [jpeg(800, 600, color=(10, 200, 30))]
    assert data["photos"][0].size > 2000
    response = engineer_client.post(job_url(in_service, "visit"), data)
    assert response.status_code == 200
    errors = response.context["visit_form"].errors["photos"]
    assert "photo.jpg" in errors[0]
    in_service.refresh_from_db()
    assert in_service.state == State.IN_SERVICE and not VisitPhoto.objects.exists()


def test_too_many_pixels_are_refused(engineer_client, in_service, settings, tmp_path, monkeypatch):
    from tickets import mobile_forms

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(mobile_forms, "MAX_IMAGE_PIXELS", 1000)
    data = visit_post(in_service)
    data["photos"] = [jpeg(100, 100)]
    response = engineer_client.post(job_url(in_service, "visit"), data)
    assert "photos" in response.context["visit_form"].errors
    assert not VisitPhoto.objects.exists()


def test_blank_signature_is_refused(engineer_client, in_service):
    out = io.BytesIO()
    Image.new("RGBA", (300, 120), (0, 0, 0, 0)).save(out, "PNG")
    blank = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    response = engineer_client.post(
        job_url(in_service, "visit"), visit_post(in_service, signature=blank)
    )
    assert "signature" in response.context["visit_form"].errors


def test_stale_visit_is_refused_and_saves_nothing(
    engineer_client, in_service, dispatcher, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    data = visit_post(in_service, signature=signature_data_url())
    data["version"] = in_service.version - 1
    data["photos"] = [jpeg()]
    response = engineer_client.post(job_url(in_service, "visit"), data)
    assert message_texts(response) == [services.stale_message()]
    in_service.refresh_from_db()
    assert in_service.state == State.IN_SERVICE
    assert not VisitPhoto.objects.exists() and not any(tmp_path.rglob("*.*"))
    assert Visit.objects.get(ticket=in_service).result == ""


def test_visit_form_defaults_to_free_under_warranty(client_for, dispatcher, engineer):
    unit = EquipmentFactory(warranty_end=timezone.localdate() + timedelta(days=300))
    ticket = ticket_in_state(
        State.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
    )
    form = client_for(engineer).get(job_url(ticket)).context["visit_form"]
    assert form["charge"].value() == ChargeType.WARRANTY


def test_no_visit_to_finish_is_refused(engineer_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    response = engineer_client.post(job_url(ticket, "visit"), visit_post(ticket))
    assert response.status_code == 302 and message_texts(response)
    ticket.refresh_from_db()
    assert ticket.state == State.ASSIGNED


# --- Correction after a send-back --------------------------------------------------------------


def correction_post(ticket, **fields):
    ticket.refresh_from_db()
    data = {
        "version": ticket.version,
        "labour_hours": "2.0",
        "labour_fee": "160",
        "travel_fee": "50",
        "other_fee": "0",
        "charge": ChargeType.CHARGED,
        "parts-TOTAL_FORMS": "1",
        "parts-INITIAL_FORMS": "0",
        "parts-MIN_NUM_FORMS": "0",
        "parts-MAX_NUM_FORMS": "30",
        "parts-0-name": "压缩机电容 35μF",
        "parts-0-quantity": "1",
    }
    data.update(fields)
    return data


def test_correction_after_send_back_logs_before_and_after(
    client_for, dispatcher, engineer, service_manager
):
    ticket = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    services.perform(ticket, "send_back", service_manager, reason="工时应为 2 小时，补录电容")
    client = client_for(engineer)

    page = client.get(job_url(ticket))
    assert page.context["correction_form"] is not None
    assert "工时应为 2 小时" in page.content.decode()

    bad = client.post(job_url(ticket, "correct"), correction_post(ticket, labour_fee="-1"))
    assert bad.status_code == 200 and "labour_fee" in bad.context["correction_form"].errors
    ticket.refresh_from_db()
    assert ticket.correction_requested

    response = client.post(job_url(ticket, "correct"), correction_post(ticket))
    assert response["Location"] == job_url(ticket)
    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED and not ticket.correction_requested
    visit = services.last_resolved_visit(ticket)
    assert (visit.labour_hours, visit.labour_fee) == (Decimal("2.0"), Decimal("160"))
    assert [(p.name, p.quantity) for p in visit.parts.all()] == [("压缩机电容 35μF", Decimal("1"))]
    row = TicketTransition.objects.filter(ticket=ticket).last()
    assert (row.action, row.actor) == ("correct", engineer)
    assert row.data["before"]["labour_hours"] == "1.5"
    assert row.data["after"]["labour_hours"] == "2.0"
    assert row.data["after"]["parts"] == [["压缩机电容 35μF", "1.00"]]
    # Nothing more to correct: the form is gone and a second post is refused.
    assert client.get(job_url(ticket)).context["correction_form"] is None
    again = client.post(job_url(ticket, "correct"), correction_post(ticket))
    assert message_texts(again)


def test_correction_with_a_stale_version_is_refused(
    client_for, dispatcher, engineer, service_manager
):
    ticket = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    services.perform(ticket, "send_back", service_manager, reason="费用有误")
    data = correction_post(ticket)
    data["version"] -= 1
    response = client_for(engineer).post(job_url(ticket, "correct"), data)
    assert message_texts(response) == [services.stale_message()]
    ticket.refresh_from_db()
    assert ticket.correction_requested
    assert services.last_resolved_visit(ticket).labour_hours == Decimal("1.5")
