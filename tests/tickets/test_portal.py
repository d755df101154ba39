"""The customer's doors: the unit's QR code, the portal with its SMS code, finding one's
requests, and the tracking page (tickets.views.portal, tickets.views.public, tickets.intake)."""

import re
import secrets
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from aftersales.lib.masking import mask_mobile, mask_name
from aftersales.models import Delivery, Notification, PhoneCode
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    ServiceAgreementFactory,
    ticket_in_state,
)
from tickets.models import Channel, CustomerPhoto, Intake, State, Ticket, TicketTransition

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"


def jpeg(width=2400, height=1800, name="fault.jpg"):
    out = BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def report(client, unit, **extra):
    data = {
        "description": "屏幕显示 E4，压缩机不启动",
        "contact_name": "王女士",
        "mobile": MOBILE,
        **extra,
    }
    return client.post(reverse("qr_landing", args=[unit.qr_token]), data)


def sms_texts(mobile=MOBILE):
    return [
        d.payload["text"]
        for d in Delivery.objects.filter(channel=Delivery.Channel.SMS, target=mobile).order_by("pk")
    ]


def last_code(mobile=MOBILE):
    return re.search(r"\d{6}", sms_texts(mobile)[-1]).group()


@pytest.fixture
def unit():
    customer = CustomerFactory(name="上海精工机械有限公司", phone="02161234567")
    unit = EquipmentFactory(customer=customer)
    ServiceAgreementFactory(customer=customer, equipment=[unit])
    return unit


# The unit's QR code ---------------------------------------------------------------------------


def test_masking():
    assert mask_name("上海精工机械有限公司") == "上海******公司"
    assert mask_name("李伟") == "李*"
    assert mask_mobile("13912345678") == "139****5678"


def test_qr_page_shows_the_unit_and_a_masked_owner_only(client, unit):
    ContactFactory(customer=unit.customer, mobile="13700001111")
    page = client.get(reverse("qr_landing", args=[unit.qr_token])).content.decode()
    assert unit.serial_no in page and unit.product_model.name in page
    assert "上海******公司" in page
    assert "上海精工机械" not in page
    assert "02161234567" not in page and "13700001111" not in page
    assert 'id="report-form"' in page


def test_guessed_qr_token_is_not_found(client):
    assert client.get(reverse("qr_landing", args=[secrets.token_urlsafe(16)])).status_code == 404


def test_reporting_from_the_qr_code_enters_a_request_for_the_unit(client, unit, dispatcher):
    contact = ContactFactory(customer=unit.customer, mobile=MOBILE)
    response = report(client, unit, photos=[jpeg(), jpeg(name="b.jpg")], requested_window="morning")
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket_public", args=[ticket.public_token])
    assert ticket.channel == Channel.QR
    assert (ticket.customer, ticket.equipment, ticket.product_id) == (
        unit.customer,
        unit,
        unit.product_model_id,
    )
    assert ticket.contact == contact and ticket.contact_phone == MOBILE
    assert ticket.created_by is None and ticket.state == State.PENDING_ASSIGNMENT
    assert ticket.agreement is not None and ticket.response_due is not None
    assert ticket.requested_window == "morning"
    photos = list(ticket.customer_photos.all())
    assert len(photos) == 2
    with Image.open(photos[0].image) as stored:
        assert max(stored.size) == 1600
    # The dispatchers are told; the log row is the system's entry.
    assert Notification.objects.filter(user=dispatcher, url__contains=f"/{ticket.pk}/").exists()
    assert TicketTransition.objects.get(ticket=ticket).action == "enter"
    page = client.get(response["Location"]).content.decode()
    assert ticket.number in page and "待分配" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"description": ""}, "这个字段是必填项"),
        ({"mobile": "12345"}, "11位"),
        ({"photos": [jpeg(40, 40, f"p{i}.jpg") for i in range(7)]}, "6"),
        (
            {"photos": [SimpleUploadedFile("x.jpg", b"MZ not an image", "image/jpeg")]},
            "x.jpg",
        ),
        ({"requested_date": "2001-01-01"}, "不能是过去"),
    ],
)
def test_a_bad_report_says_why_and_enters_nothing(client, unit, change, message):
    response = report(client, unit, **change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Ticket.objects.exists() and not CustomerPhoto.objects.exists()


def test_an_open_request_is_offered_before_a_second_one(client, unit, dispatcher):
    first = report(client, unit)
    assert first.status_code == 302
    ticket = Ticket.objects.get()
    page = client.get(reverse("qr_landing", args=[unit.qr_token])).content.decode()
    assert 'id="open-request"' in page and ticket.number in page
    assert 'id="report-form"' not in page
    # A report posted from an older page is not entered twice: the page asks again.
    again = report(client, unit)
    assert again.status_code == 409 and Ticket.objects.count() == 1
    # Adding to it: a log row and the photos, no second request.
    added = client.post(
        reverse("qr_add", args=[unit.qr_token]),
        {
            "description": "今天又报警了",
            "contact_name": "李工",
            "mobile": "13611112222",
            "photos": [jpeg()],
        },
    )
    assert added.status_code == 302
    assert Ticket.objects.count() == 1
    row = TicketTransition.objects.get(ticket=ticket, action="customer_info")
    assert row.reason == "今天又报警了" and row.data["mobile"] == "13611112222"
    assert ticket.customer_photos.count() == 1
    # The dispatcher's timeline shows who added it.
    client.force_login(dispatcher)
    detail = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "今天又报警了" in detail and "李工" in detail and 'id="customer-photos"' in detail
    client.logout()
    # A different fault: reported separately on purpose.
    assert report(client, unit, new="1").status_code == 302
    assert Ticket.objects.count() == 2


@override_settings(PORTAL_MOBILE_LIMIT="2/h", PORTAL_IP_LIMIT="100/h")
def test_reports_are_limited_per_mobile_number(client):
    units = [EquipmentFactory() for _ in range(3)]
    codes = [report(client, u, new="1").status_code for u in units]
    assert codes == [302, 302, 429]
    assert Ticket.objects.count() == 2
    # Another number from the same address still may.
    assert report(client, EquipmentFactory(), mobile="13700000000").status_code == 302


@override_settings(PORTAL_MOBILE_LIMIT="100/h", PORTAL_IP_LIMIT="2/h")
def test_reports_are_limited_per_address_whatever_the_number(client):
    codes = [
        report(client, EquipmentFactory(), mobile=f"1370000000{i}").status_code for i in range(3)
    ]
    assert codes == [302, 302, 429]


# The portal and its SMS code ------------------------------------------------------------------


def prove(client, mobile=MOBILE, start="portal", code_url="portal_code"):
    assert client.post(reverse(start), {"mobile": mobile}).status_code == 302
    return client.post(reverse(code_url), {"code": last_code(mobile)})


def portal_report(client, **extra):
    data = {
        "serial_no": "",
        "product": "商用冷柜",
        "description": "不制冷",
        "contact_name": "赵先生",
        **extra,
    }
    return client.post(reverse("portal"), data)


def test_the_portal_asks_for_an_sms_code_first(client):
    page = client.get(reverse("portal")).content.decode()
    assert 'name="mobile"' in page and 'name="description"' not in page
    # Posting a report before the code changes nothing.
    portal_report(client)
    assert not Intake.objects.exists() and not Ticket.objects.exists()
    response = client.post(reverse("portal"), {"mobile": "139 1234 5678"})
    assert response["Location"] == reverse("portal_code")
    assert len(sms_texts()) == 1 and "验证码" in sms_texts()[0]
    code_page = client.get(reverse("portal_code")).content.decode()
    assert "139****5678" in code_page


def test_a_wrong_code_is_refused_and_tries_are_limited(client):
    client.post(reverse("portal"), {"mobile": MOBILE})
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = client.post(reverse("portal_code"), {"code": wrong})
        assert response.status_code == 400
        assert "验证码不正确" in response.content.decode()
    # Five wrong tries used the code up: even the right one no longer works.
    assert client.post(reverse("portal_code"), {"code": code}).status_code == 400
    assert 'name="description"' not in client.get(reverse("portal")).content.decode()


def test_the_right_code_opens_the_form(client):
    assert prove(client)["Location"] == reverse("portal")
    page = client.get(reverse("portal")).content.decode()
    assert 'name="description"' in page
    assert PhoneCode.objects.get().used_at is not None
    # Only a keyed digest is stored.
    assert last_code() not in PhoneCode.objects.get().digest


def test_a_known_serial_and_contact_make_a_request_at_once(client, unit):
    ContactFactory(customer=unit.customer, mobile=MOBILE)
    prove(client)
    response = portal_report(client, serial_no=unit.serial_no.lower(), product="")
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("ticket_public", args=[ticket.public_token])
    assert (ticket.channel, ticket.equipment) == (Channel.PORTAL, unit)
    assert not Intake.objects.exists()


def test_anything_else_waits_for_a_dispatcher_and_says_the_same(client, unit):
    # The serial exists but this mobile is no contact of its customer: not a match.
    prove(client)
    response = portal_report(client, serial_no=unit.serial_no, company="某公司")
    intake = Intake.objects.get()
    assert not Ticket.objects.exists()
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket_public", args=[intake.token])
    page = client.get(response["Location"]).content.decode()
    assert "已收到" in page and "不制冷" in page
    assert (intake.mobile, intake.company, intake.serial_no) == (MOBILE, "某公司", unit.serial_no)


def test_no_page_says_whether_a_number_is_known(client, unit):
    ContactFactory(customer=unit.customer, mobile=MOBILE)
    known = client.post(reverse("portal"), {"mobile": MOBILE})
    other = Client()
    unknown = other.post(reverse("portal"), {"mobile": "13511112222"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    page = client.get(reverse("portal_code")).content.decode()
    other_page = other.get(reverse("portal_code")).content.decode()
    assert _without_tokens(page) == _without_tokens(other_page)


def _without_tokens(page):
    """A page without its CSRF token, script nonces and the masked number it was sent to."""
    return re.sub(
        r'csrfmiddlewaretoken" value="[^"]+|CSRFToken": "[^"]+|nonce="[^"]+|\d{3}\*{4}\d{4}',
        "",
        page,
    )


def test_a_portal_request_without_description_says_why(client):
    prove(client)
    response = portal_report(client, description="", product="")
    assert response.status_code == 400
    text = response.content.decode()
    assert "序列号" in text  # "give the serial number or the product"
    assert not Intake.objects.exists()


@override_settings(PORTAL_MOBILE_LIMIT="3/h", PORTAL_IP_LIMIT="100/h")
def test_codes_are_limited_per_mobile_number(client):
    statuses = [client.post(reverse("portal"), {"mobile": MOBILE}).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 400]
    assert len(sms_texts()) == 3


# Matching a portal request ----------------------------------------------------------------------


def test_a_dispatcher_matches_a_portal_request_and_the_link_keeps_working(
    client, dispatcher_client, unit
):
    prove(client)
    portal_report(client, photos=[jpeg()], requested_window="afternoon")
    intake = Intake.objects.get()
    desk = dispatcher_client.get(reverse("tickets:list")).content.decode()
    assert 'id="intake-tab"' in desk
    assert "赵先生" in dispatcher_client.get(reverse("tickets:intake_list")).content.decode()
    detail = dispatcher_client.get(reverse("tickets:intake_detail", args=[intake.pk]))
    assert detail.status_code == 200 and "商用冷柜" in detail.content.decode()
    url = reverse("tickets:create") + f"?customer={unit.customer.pk}&intake={intake.pk}"
    form = dispatcher_client.get(url)
    assert form.context["form"].initial["contact_phone"] == MOBILE
    response = dispatcher_client.post(
        url,
        {
            "customer": unit.customer.pk,
            "contact_name": "赵先生",
            "contact_phone": MOBILE,
            "equipment": unit.pk,
            "service_type": "repair",
            "priority": "normal",
            "channel": "portal",
            "requested_window": "afternoon",
            "description": "不制冷",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    ticket = Ticket.objects.get()
    intake.refresh_from_db()
    assert intake.status == Intake.Status.MATCHED and intake.ticket == ticket
    assert ticket.public_token == intake.token and ticket.created_at == intake.created_at
    assert ticket.customer_photos.count() == 1
    # The customer's link now shows the request.
    page = client.get(reverse("ticket_public", args=[intake.token])).content.decode()
    assert ticket.number in page
    # A second match of the same request is refused.
    again = dispatcher_client.get(url)
    assert again.status_code == 302 and Ticket.objects.count() == 1


def test_turning_down_needs_a_reason_and_only_dispatchers_may(
    client, dispatcher_client, engineer_client
):
    prove(client)
    portal_report(client)
    intake = Intake.objects.get()
    url = reverse("tickets:intake_reject", args=[intake.pk])
    assert engineer_client.post(url, {"reason": "x"}).status_code == 403
    assert engineer_client.get(reverse("tickets:intake_list")).status_code == 403
    dispatcher_client.post(url, {"reason": ""})
    intake.refresh_from_db()
    assert intake.status == Intake.Status.WAITING
    dispatcher_client.post(url, {"reason": "骚扰信息"})
    intake.refresh_from_db()
    assert intake.status == Intake.Status.REJECTED
    page = client.get(reverse("ticket_public", args=[intake.token])).content.decode()
    assert "无法受理" in page


# Finding one's requests --------------------------------------------------------------------------


def test_finding_a_request_by_number_and_mobile(client, dispatcher, engineer):
    ticket = ticket_in_state(
        "assigned", dispatcher=dispatcher, engineer=engineer, contact_phone=MOBILE
    )
    client.post(reverse("track"), {"number": ticket.number.lower(), "mobile": MOBILE})
    response = client.post(reverse("track_code"), {"code": last_code()})
    assert response["Location"] == reverse("ticket_public", args=[ticket.public_token])


def test_a_number_of_someone_else_shows_only_ones_own_requests(client, dispatcher, engineer):
    mine = ticket_in_state(
        "assigned", dispatcher=dispatcher, engineer=engineer, contact_phone=MOBILE
    )
    theirs = ticket_in_state(
        "assigned", dispatcher=dispatcher, engineer=engineer, contact_phone="13600000000"
    )
    client.post(reverse("track"), {"number": theirs.number, "mobile": MOBILE})
    response = client.post(reverse("track_code"), {"code": last_code()})
    page = response.content.decode()
    assert response.status_code == 200
    listed = page.split('id="found-requests"')[1]
    assert mine.number in listed and theirs.number not in listed
    assert mine.public_token in listed and theirs.public_token not in page


# The tracking page --------------------------------------------------------------------------------


def test_guessed_tracking_tokens_are_not_found(client):
    for _ in range(5):
        token = secrets.token_urlsafe(16)
        assert client.get(reverse("ticket_public", args=[token])).status_code == 404


def test_the_tracking_page_hides_what_is_internal(client, dispatcher, engineer):
    engineer.phone = "13566667777"
    engineer.save()
    ticket = ticket_in_state(
        "processed", dispatcher=dispatcher, engineer=engineer, analysis="内部分析：客户操作不当"
    )
    page = client.get(reverse("ticket_public", args=[ticket.public_token])).content.decode()
    assert "内部分析" not in page and "13566667777" not in page
    assert "服务已完成" in page
    assert "¥" not in page and 'id="fees-later"' in page
    closed = ticket_in_state("verified", dispatcher=dispatcher, engineer=engineer)
    verified = client.get(reverse("ticket_public", args=[closed.public_token])).content.decode()
    assert "¥" in verified and 'id="fees-later"' not in verified


def test_the_tracking_page_shows_the_engineer_and_appointment(client, dispatcher, engineer):
    from datetime import timedelta

    from django.utils import timezone

    day = timezone.localdate() + timedelta(days=2)
    ticket = ticket_in_state(
        "assigned",
        dispatcher=dispatcher,
        engineer=engineer,
        requested_date=day,
        requested_window="afternoon",
    )
    page = client.get(reverse("ticket_public", args=[ticket.public_token])).content.decode()
    assert str(engineer) in page
    assert day.strftime("%Y-%m-%d") in page and "下午" in page
    assert "已派工程师" in page


# Garbage ------------------------------------------------------------------------------------------


@override_settings(
    PORTAL_MOBILE_LIMIT="1000/h", PORTAL_IP_LIMIT="1000/h", PUBLIC_RATE_LIMIT="1000/m"
)
def test_garbage_in_the_customers_forms_never_fails(client, unit):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_garbage_params import VALUES

    qr = reverse("qr_landing", args=[unit.qr_token])
    forms = {
        qr: [
            "problem_type",
            "description",
            "contact_name",
            "mobile",
            "requested_date",
            "requested_window",
            "new",
        ],
        reverse("qr_add", args=[unit.qr_token]): ["description", "contact_name", "mobile"],
        reverse("portal"): ["mobile"],
        reverse("portal_code"): ["code"],
        reverse("track"): ["number", "mobile"],
        reverse("track_code"): ["code"],
    }

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.sampled_from(sorted(forms)), st.data())
    def garbage(url, data):
        fields = data.draw(st.dictionaries(st.sampled_from(forms[url]), VALUES, max_size=4))
        assert client.post(url, fields).status_code in (200, 302, 400, 409, 429)
        assert client.get(url, fields).status_code in (200, 302)

    garbage()
