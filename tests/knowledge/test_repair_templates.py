"""Repair templates (维修模板) on the engineer's visit record (knowledge.templates_use): which
templates the form offers, the data the picker fills the form with, the parts lines' format."""

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from knowledge.models import RepairTemplate
from knowledge.templates_use import parse_parts
from tickets.models import ServiceType
from tickets.models import State as TicketState

from ..factories import ProductLineFactory, ticket_in_state
from .suggest_data import unit_of


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("密封圈 × 2", [("密封圈", "2")]),
        ("滤网x1", [("滤网", "1")]),
        ("滤网 X 3", [("滤网", "3")]),
        ("压缩机 * 1.5", [("压缩机", "1.5")]),
        ("启动电容＊２", [("启动电容", "2")]),  # full-width
        ("过滤器ｘ４", [("过滤器", "4")]),
        ("O型圈", [("O型圈", "1")]),  # no quantity: one
        ("螺栓 M8x20", [("螺栓 M8x20", "1")]),  # a size, not a quantity
        ("M8x20 螺栓 × 4", [("M8x20 螺栓", "4")]),
        ("皮带 ×", [("皮带", "1")]),
        ("风扇 × 0", [("风扇", "1")]),
        ("\n  \n密封圈 × 2\r\n滤网 x 1\n", [("密封圈", "2"), ("滤网", "1")]),
        ("", []),
    ],
)
def test_parts_lines_are_read_robustly(text, parts):
    assert [(n, str(q)) for n, q in parse_parts(text)] == parts
    assert all(isinstance(q, Decimal) for _n, q in parse_parts(text))


@pytest.fixture
def line():
    return ProductLineFactory(code="HVAC", name="商用空调")


def template(name, *, service_type="", line=None, active=True, **fields):
    return RepairTemplate.objects.create(
        name=name,
        service_type=service_type,
        product_line=line,
        steps=fields.get("steps", "断电检查\n更换启动电容\n试机"),
        parts=fields.get("parts", "启动电容 × 1\n密封圈x2"),
        labour_hours=fields.get("labour_hours", Decimal("1.5")),
        active=active,
    )


@pytest.fixture
def templates(line):
    other_line = ProductLineFactory(code="WATER", name="净水设备")
    return {
        "fits": template("空调压缩机维修", service_type=ServiceType.REPAIR, line=line),
        "general": template("通用上门检查"),
        "any_type": template("空调通用维修", line=line),
        "other_type": template("空调安装", service_type=ServiceType.INSTALLATION, line=line),
        "other_line": template("净水器维修", service_type=ServiceType.REPAIR, line=other_line),
        "inactive": template("旧的空调维修", line=line, active=False),
    }


def on_site(dispatcher, engineer, line, **fields):
    unit = unit_of(line)
    return ticket_in_state(
        TicketState.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        service_type=ServiceType.REPAIR,
        description="压缩机不启动",
        **fields,
    )


def picker_data(page):
    found = re.search(
        r'<script id="repair-templates-data" type="application/json">(.*?)</script>', page, re.S
    )
    assert found, "no repair templates on the page"
    return json.loads(found.group(1))


def test_the_visit_form_offers_the_templates_of_the_requests_type_and_line(
    engineer_client, dispatcher, engineer, line, templates
):
    ticket = on_site(dispatcher, engineer, line)

    page = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()

    offered = {row["id"] for row in picker_data(page)}
    expected = {templates[k].pk for k in ("fits", "general", "any_type")}
    assert offered == expected
    for key in ("fits", "general", "any_type"):
        assert f'<option value="{templates[key].pk}">{templates[key].name}</option>' in page
    for key in ("other_type", "other_line", "inactive"):
        assert templates[key].name not in page
    # The picker sits in the visit form, hidden until its script shows it; no inline script.
    form = page[page.index('id="visit-form"') :]
    assert "data-repair-templates hidden" in form
    assert 'src="/static/js/repair_templates.js"' in page
    assert "<script>" not in page


def test_the_picker_fills_work_parts_and_hours_from_the_template(
    engineer_client, dispatcher, engineer, line, templates
):
    ticket = on_site(dispatcher, engineer, line)

    page = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()

    fits = next(row for row in picker_data(page) if row["id"] == templates["fits"].pk)
    assert fits == {
        "id": templates["fits"].pk,
        "work": "断电检查\n更换启动电容\n试机",
        "parts": [{"name": "启动电容", "quantity": "1"}, {"name": "密封圈", "quantity": "2"}],
        "hours": "1.5",
    }


def test_no_templates_no_picker(engineer_client, dispatcher, engineer, line):
    template("净水器维修", line=ProductLineFactory(code="WATER", name="净水设备"))
    ticket = on_site(dispatcher, engineer, line)

    page = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()

    assert 'id="visit-form"' in page
    assert "data-repair-templates" not in page


def test_a_job_not_on_site_has_no_picker(engineer_client, dispatcher, engineer, line, templates):
    unit = unit_of(line)
    ticket = ticket_in_state(
        TicketState.ASSIGNED,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
    )

    page = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()

    assert "data-repair-templates" not in page


def test_a_template_chosen_without_javascript_changes_nothing_posted(
    engineer_client, dispatcher, engineer, line, templates
):
    ticket = on_site(dispatcher, engineer, line)

    page = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()

    # The select has no name: the visit form posts exactly what it did before.
    select = re.search(r"<select[^>]*data-repair-template-select[^>]*>", page).group(0)
    assert "name=" not in select
