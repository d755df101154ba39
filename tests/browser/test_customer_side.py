"""The customer's side on a phone (375 px): the engineer sets off, the customer rates the service
on the tracking page, the revisit agent sees the low rating first as "needs a call"."""

import re

import pytest
from playwright.sync_api import expect

from aftersales.roles import Role
from tickets import services
from tickets.models import Rating, State

from ..factories import ticket_in_state
from .test_phone_overflow import LINK, LONG_ADDRESS, check

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, where):
    problems = check(page, where)
    assert not problems, "\n".join(problems)


def test_the_engineer_sets_off_on_a_phone(mobile_page, live_server, login, dispatcher, engineer):
    ticket = ticket_in_state(
        State.ASSIGNED,
        dispatcher=dispatcher,
        engineer=engineer,
        address=LONG_ADDRESS,
        contact_name="欧阳建国",
        contact_phone="13912345678",
    )
    services.perform(ticket, "accept", engineer)
    page = mobile_page
    login(page, live_server, engineer)
    page.goto(f"{live_server.url}/m/jobs/{ticket.pk}/")
    button = page.locator("[data-action=depart] button")
    expect(button).to_contain_text("出发")
    fits(page, "job page, before setting off")

    button.click()
    expect(page.locator(".alert-success")).to_contain_text("客户可以看到您正在路上")
    expect(page.locator("#departed")).to_contain_text("出发")
    expect(page.locator("#history")).to_contain_text("工程师已出发")
    expect(page.locator("[data-action=depart]")).to_have_count(0)
    fits(page, "job page, on the way")


def test_the_customer_rates_and_the_agent_calls_first(
    mobile_page, new_context, live_server, login, dispatcher, engineer, make_user
):
    agent = make_user(Role.REVISIT_AGENT)
    waiting = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    ticket = ticket_in_state(
        State.PROCESSED,
        dispatcher=dispatcher,
        engineer=engineer,
        contact_name="欧阳建国",
        contact_phone="13912345678",
    )
    comment = f"维修后第二天又出现同样的故障，冷库温度又升到十二度，视频见 {LINK}"

    # The customer, on the tracking page (no login).
    page = mobile_page
    page.goto(f"{live_server.url}/t/{ticket.public_token}/")
    expect(page.locator("#rating")).to_contain_text("您对本次服务满意吗？")
    fits(page, "tracking page, the rating form")
    page.locator("label[for=rating-2]").click()
    page.locator("#rating-comment").fill(comment)
    page.locator("#rating button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"#rating$"))
    expect(page.locator(".alert-success")).to_contain_text("感谢您对我们服务的评价")
    expect(page.locator("#rating")).to_contain_text("您的评分：2 分")
    expect(page.locator("#rating .bi-star-fill")).to_have_count(2)
    fits(page, "tracking page, rated")
    assert Rating.objects.get(ticket=ticket).comment == comment

    # The revisit agent, on a phone too: the low rating first, marked.
    agent_page = new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    ).new_page()
    login(agent_page, live_server, agent)
    agent_page.goto(f"{live_server.url}/tickets/revisits/")
    cards = agent_page.locator("article.revisit-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_attribute("data-ticket", ticket.number)
    expect(cards.first).to_contain_text("需回电")
    expect(cards.first.locator("select[name=score]")).to_have_value("2")
    expect(cards.nth(1)).to_have_attribute("data-ticket", waiting.number)
    fits(agent_page, "revisit queue")

    agent_page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(agent_page.locator("#revisit")).to_contain_text("需回电")
    expect(agent_page.locator("#revisit textarea[name=comment]")).to_have_value(comment)
    fits(agent_page, "ticket page, the revisit form")


def test_the_new_parts_fit_a_phone_in_english(
    new_context, live_server, login, dispatcher, engineer, settings
):
    accepted = services.perform(
        ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer),
        "accept",
        engineer,
    )
    processed = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    context = new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/t/{processed.public_token}/")
    expect(page.locator("#rating")).to_contain_text("How satisfied are you")
    fits(page, "tracking page, the rating form (en)")
    page.locator("label[for=rating-5]").click()
    page.locator("#rating button[type=submit]").click()
    expect(page.locator("#rating")).to_contain_text("You rated 5 out of 5.")
    fits(page, "tracking page, rated (en)")

    login(page, live_server, engineer)
    page.goto(f"{live_server.url}/m/jobs/{accepted.pk}/")
    expect(page.locator("[data-action=depart] button")).to_contain_text("Set off")
    fits(page, "job page (en)")
    page.locator("[data-action=depart] button").click()
    expect(page.locator("#departed")).to_contain_text("On the way since")
    fits(page, "job page, on the way (en)")
