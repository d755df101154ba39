"""A manager reads the statistics in a browser: the overview's charts draw without a console
error, a quicker period is picked, a click on a bar opens the requests behind it, the page is
exported to Excel; an engineer reads their own figures on a phone (375 px)."""

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from analytics import refresh
from tests.factories import ProblemTypeFactory, ticket_in_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_errors(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_a_manager_reads_drills_down_and_exports(
    page, live_server, login, manager, dispatcher, engineer
):
    leak = ProblemTypeFactory(name="底部漏水")
    other = ProblemTypeFactory(name="无法开机")
    leaking = [
        ticket_in_state("closed", dispatcher=dispatcher, engineer=engineer, problem_type=leak)
        for _ in range(3)
    ]
    ticket_in_state(
        "pending_assignment", dispatcher=dispatcher, engineer=engineer, problem_type=other
    )
    refresh.refresh_all()
    errors = watch_errors(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.emulate_media(reduced_motion="reduce")  # charts drawn at once, without animation
    login(page, live_server, manager)

    page.goto(f"{live_server.url}/analytics/")
    expect(page.locator("h1")).to_contain_text("总览")
    expect(page.locator("#per_period .report-chart canvas")).to_be_visible()
    expect(page.locator("#problems .report-chart canvas")).to_be_visible()
    expect(page.locator(".report-card").first).to_contain_text("4")  # opened

    page.get_by_role("link", name="最近 7 天").click()
    expect(page).to_have_url(re.compile(r"start=\d{4}-\d{2}-\d{2}&end="))
    expect(page.locator("#problems tbody")).to_contain_text("底部漏水")

    # A click in the middle of 底部漏水's bar (where the chart says it is) lists its requests.
    chart = page.locator("#problems .report-chart")
    x, y = page.evaluate(
        """node => echarts.getInstanceByDom(node).convertToPixel({seriesIndex: 0}, [1.5, 0])""",
        chart.element_handle(),
    )
    chart.click(position={"x": x, "y": y})
    expect(page).to_have_url(re.compile(rf"/analytics/requests/\?.*problem_type_id={leak.pk}"))
    rows = page.locator("#drill-list tbody tr")
    expect(rows).to_have_count(3)
    for ticket in leaking:
        expect(page.locator("#drill-list")).to_contain_text(ticket.number)

    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel").click()
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    problems = {
        row[0]: row[1] for row in book["问题类型排行"].iter_rows(min_row=2, values_only=True)
    }
    assert problems == {"底部漏水": 3, "无法开机": 1}
    assert errors == []


def test_an_engineer_reads_their_own_figures_on_a_phone(
    mobile_page, live_server, login, dispatcher, engineer
):
    ticket_in_state("closed", dispatcher=dispatcher, engineer=engineer)
    refresh.refresh_all()
    page = mobile_page
    errors = watch_errors(page)
    login(page, live_server, engineer)
    page.goto(f"{live_server.url}/analytics/mine/")
    expect(page.locator("main")).to_contain_text("本月")
    assert page.evaluate("document.documentElement.scrollWidth <= 375"), "own page at 375 px"
    page.goto(f"{live_server.url}/analytics/mine/?period=last_3_months&engineer_id=1")
    assert page.evaluate("document.documentElement.scrollWidth <= 375")
    assert errors == []
