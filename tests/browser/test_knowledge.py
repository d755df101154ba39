"""The knowledge base in a browser: a service manager on a phone turns a processed request into a
draft article, edits it and publishes it, and the article then appears in the list; the pages
fit a 375 px screen in Chinese and in English."""

import pytest

from aftersales.roles import Role
from knowledge.models import Article, FaultCode, State

from ..factories import EquipmentFactory, ProblemTypeFactory, ProductModelFactory, ticket_in_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 375


def fits(page):
    """Whether the page scrolls sideways on the phone."""
    return page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH


def switch_language(page, code):
    """Through the language buttons, in the menu that a phone opens with its toggler."""
    page.locator(".navbar-toggler").click()
    page.locator("#app-menu.show").wait_for()
    with page.expect_navigation():
        page.locator(f"#app-menu form.lang-switch button[value='{code}']").click()


def test_manager_publishes_a_draft_made_from_a_request(live_server, mobile_page, login, make_user):
    manager = make_user(Role.SERVICE_MANAGER, username="svc")
    dispatcher = make_user(Role.DISPATCHER, username="disp")
    engineer = make_user(Role.ENGINEER, username="eng")
    model = ProductModelFactory(code="KJ-200", name="挂壁式空调")
    FaultCode.objects.create(product_line=model.line, code="E4", meaning="室外机通信故障")
    unit = EquipmentFactory(product_model=model)
    ticket = ticket_in_state(
        "processed",
        dispatcher=dispatcher,
        engineer=engineer,
        equipment=unit,
        customer=unit.customer,
        problem_type=ProblemTypeFactory(name="不制冷"),
        description="空调不制冷，面板显示 E4",
    )
    page = mobile_page
    login(page, live_server, manager)

    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    panel = page.locator("#kb-from-ticket")
    panel.scroll_into_view_if_needed()
    with page.expect_navigation():
        panel.locator("button[type=submit]").click()

    # The draft's edit page, filled from the request.
    assert "/edit/" in page.url
    assert fits(page)
    assert page.locator("#id_symptom").input_value() == "空调不制冷，面板显示 E4"
    assert page.locator("#id_solution").input_value() == "更换压缩机电容"
    assert page.locator("input[name=fault_codes]:checked").count() == 1
    page.fill("#id_title", "空调不制冷显示 E4：更换压缩机电容")
    page.fill("#id_cause", "压缩机启动电容失效")
    with page.expect_navigation():
        page.locator("#article-form button[type=submit]").click()

    article = Article.objects.get()
    assert page.url.endswith(f"/knowledge/{article.pk}/")
    assert article.version == 2  # drafted, then edited
    assert fits(page)
    with page.expect_navigation():
        page.locator(f"form[action$='/knowledge/{article.pk}/act/publish/'] button").click()
    assert Article.objects.get().state == State.PUBLISHED

    page.goto(f"{live_server.url}/knowledge/")
    assert page.locator("#articles").get_by_text("空调不制冷显示 E4：更换压缩机电容").is_visible()
    assert fits(page)

    # The article's page and the list fit the phone in both languages.
    for code in ("en", "zh-hans"):
        page.goto(f"{live_server.url}/knowledge/{article.pk}/")
        switch_language(page, code)
        assert page.locator("html").get_attribute("lang") == code
        assert page.locator("#steps li").count() == 1
        assert fits(page), code
        page.goto(f"{live_server.url}/knowledge/?q=E4")
        assert fits(page), code
        page.goto(f"{live_server.url}/knowledge/{article.pk}/compare/")
        assert fits(page), code


def test_engineer_reads_an_article_on_the_phone(live_server, mobile_page, login, make_user):
    from knowledge import services

    manager = make_user(Role.SERVICE_MANAGER, username="svc")
    engineer = make_user(Role.ENGINEER, username="eng")
    article = services.save_article(
        Article(
            title="净水器底部漏水并报 E2（进水电磁阀与快接头密封圈老化的处理办法）",
            symptom="机器底部漏水，漏水保护动作，面板显示 E2，停止制水。" * 3,
            solution="关闭进水阀并断电\n更换进水电磁阀或快接头密封圈\n通水观察 30 分钟无渗漏",
            parts="进水电磁阀\n密封圈 × 2",
        ),
        manager,
    )
    services.perform(article, "publish", manager)
    page = mobile_page
    login(page, live_server, engineer)

    page.goto(f"{live_server.url}/knowledge/")
    with page.expect_navigation():
        page.locator("#articles a").first.click()

    assert page.locator("#steps li").count() == 3
    assert page.locator("#parts").inner_text().startswith("进水电磁阀")
    assert fits(page)
    assert Article.objects.get().views == 1
    # No lifecycle buttons for a reader of a published article.
    assert page.locator("#lifecycle").count() == 0
