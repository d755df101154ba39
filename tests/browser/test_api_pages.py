"""The API's pages in a real browser: the docs page (Swagger UI, served by the app) works under
the site's Content-Security-Policy, and an administrator manages keys on a 375 px phone."""

import pytest
from playwright.sync_api import expect

from aftersales import apikeys
from aftersales.models import ApiKey

from .test_phone_overflow import OVERFLOW_JS, WIDTH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every CSP violation the page causes, collected before its scripts run.
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def fits(page):
    return page.evaluate(OVERFLOW_JS, [WIDTH, "body"])


def test_the_docs_page_shows_every_endpoint_under_the_csp(page, live_server):
    page.add_init_script(WATCH_CSP)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{live_server.url}/api/v1/docs")
    operations = page.locator(".opblock")
    expect(operations).to_have_count(3)
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/api/v1/requests")
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_contain_text("requests:create")
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.locator(".auth-container").first).to_contain_text("Bearer")
    assert page.evaluate("window.cspViolations") == []
    assert errors == []


def test_an_administrator_issues_rotates_and_revokes_a_key_on_a_phone(
    mobile_page, live_server, login, administrator
):
    page = mobile_page
    page.on("dialog", lambda dialog: dialog.accept())
    apikeys.issue_key(
        name="华东区设备物联网监控平台（冷水机组远程告警与能耗采集）",
        note="由设备部欧阳建国维护，告警每分钟重发一次，直到请求关闭；对接文档：https://pan.baidu.com/s/1Qx7ZkVb2WmLrT9yHnPe4AoKcJdUf3Gs8",
        scopes=["requests:create", "requests:read"],
        actor=administrator,
    )
    login(page, live_server, administrator)

    page.goto(f"{live_server.url}/org/api-keys/")
    expect(page.locator("main")).to_contain_text("华东区设备物联网监控平台")
    assert fits(page) is None, fits(page)

    page.locator("a[href='/org/api-keys/new/']").click()
    assert fits(page) is None, fits(page)
    page.fill("input[name=name]", "ERP")
    page.check("input[value='requests:read']")
    page.locator("main form [type=submit]").click()
    shown = page.locator("#api-key").input_value()
    key = ApiKey.objects.get(name="ERP")
    assert shown.startswith(f"ask_{key.prefix}_")
    assert fits(page) is None, fits(page)

    page.goto(f"{live_server.url}/org/api-keys/")
    row = page.locator("tr", has_text="ERP")
    row.locator("form[action$='/rotate/'] button").click()
    rotated = page.locator("#api-key").input_value()
    assert rotated != shown
    assert apikeys.find_key(shown) is None
    assert apikeys.find_key(rotated) == key

    page.goto(f"{live_server.url}/org/api-keys/")
    page.locator("tr", has_text="ERP").locator("form[action$='/revoke/'] button").click()
    expect(page.locator(".alert-success, .alert")).to_contain_text("ERP")
    assert apikeys.find_key(rotated) is None
    assert fits(page) is None, fits(page)
