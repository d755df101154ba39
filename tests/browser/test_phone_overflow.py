"""Every page a manager or an engineer may open on a phone fits a 375 px screen, in Chinese and
in English: the page does not scroll sideways, and nothing on it reaches past the screen's edge
(a wide table scrolling in its box, or cut off by it, counts: on a phone its rows stack).

The pages are not listed here. A service manager, a dispatcher, a revisit agent and an engineer
each sign in on a 375×812 phone, open the home page (and its menu) and follow the same-site links
they find, breadth first, one page per URL name (`page_key` says when two URLs of one name are
two pages to check). Pages added later are checked as soon as a menu or a page links to them.
"""

import io
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Error as PlaywrightError

from aftersales.models import Notification
from aftersales.roles import Role
from tickets import services
from tickets.models import Revisit, State, Ticket, VisitPhoto

from ..factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    MaintenancePlanFactory,
    ProblemTypeFactory,
    ProductModelFactory,
    ServiceAgreementFactory,
    ticket_in_state,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 375, 812

# Never followed: signing out, the admin, files rather than pages (an export's own page, such as
# its progress, is a page). A link that turns out to be a file is skipped when it answers.
SKIPPED_NAMES = re.compile(r"^(admin:|logout$|set_language$|visit_file$)|download|export$|_qr$")
FILE_PATH = re.compile(r"\.[A-Za-z0-9]{2,5}$")  # /qr.png, /customers.csv …

# What sticks out of the screen: the page's own width, and every visible element that reaches
# past the right edge, whether the page scrolls sideways, a box scrolls it sideways (a wide table
# in .table-responsive) or a box cuts it off (overflow: hidden). Reported: the widest of them
# (the innermost on a tie: the one to fix), and how many there are.
OVERFLOW_JS = """
([limit, root]) => {
  const doc = document.documentElement;
  const width = Math.min(limit, window.innerWidth, doc.clientWidth);
  const pageWidth = root === "body" ? doc.scrollWidth : width;
  const out = [];
  for (const el of document.querySelector(root).querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const right = box.right + window.scrollX;
    if (right > width + 1 && el.checkVisibility({visibilityProperty: true})) {
      out.push({el, right, width: box.width});
    }
  }
  if (pageWidth <= width && !out.length) return null;
  const selector = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 5; e = e.parentElement) {
      if (e.id) { parts.unshift(e.tagName.toLowerCase() + "#" + e.id); break; }
      const classes = [...e.classList].slice(0, 3).map((c) => "." + c).join("");
      parts.unshift(e.tagName.toLowerCase() + classes);
    }
    return parts.join(" > ");
  };
  let worst = null;
  for (const o of out) {
    const wider = !worst || o.width > worst.width + 0.5;
    if (wider || (o.width > worst.width - 0.5 && worst.el.contains(o.el))) worst = o;
  }
  if (!worst) {  // text wider than its box: the innermost box whose content overflows
    for (const el of document.body.querySelectorAll("*")) {
      const overflows = el.clientWidth && el.scrollWidth > el.clientWidth + 1;
      if (overflows && getComputedStyle(el).overflowX === "visible") {
        const box = el.getBoundingClientRect();
        worst = {el, right: box.right, width: box.width};
      }
    }
  }
  return {
    scrollWidth: pageWidth,
    innerWidth: width,
    count: out.length,
    selector: worst ? selector(worst.el) : "(none found)",
    right: worst ? Math.round(worst.right) : 0,
    width: worst ? Math.round(worst.width) : 0,
    text: worst ? worst.el.textContent.trim().replace(/\\s+/g, " ").slice(0, 40) : "",
  };
}
"""

LINKS_JS = """
() => [...document.querySelectorAll("a[href]")]
  .filter((a) => !a.hasAttribute("download"))
  .map((a) => a.href)
"""

# A link pasted into free texts: one word wider than the screen.
LINK = "https://pan.baidu.com/s/1Qx7ZkVb2WmLrT9yHnPe4AoKcJdUf3Gs8"
LONG_ADDRESS = (
    "广东省深圳市南山区粤海街道科技园社区科苑路 8 号讯美科技广场 3 号楼 12 层 1201–1205 室"
)


def jpeg(size):
    out = io.BytesIO()
    Image.new("RGB", size, (40, 110, 180)).save(out, "JPEG")
    return ContentFile(out.getvalue(), name="photo.jpg")


def png(size):
    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, "PNG")
    return ContentFile(out.getvalue(), name="signature.png")


def realistic_data(dispatcher, engineer, people):
    """Customers with long names and addresses, their units, agreements and plans, and service
    requests in every state (visits with a photo and a signature, an unsatisfied revisit, a
    locked one, a closed one awaiting 核销 and one sent back for correction), and notifications,
    read and unread, for everyone. Returns each request's kind (its state, or "closed correction")
    for page_key."""
    names = [
        "深圳市华瑞恒通精密机械电子科技股份有限公司南山第一分公司",
        "重庆天盛物业管理有限公司渝北区金开大道星光天地商业综合体项目部",
        "杭州明达食品有限公司",
    ]
    customers = []
    for n, name in enumerate(names):
        customer = CustomerFactory(name=name, address=LONG_ADDRESS, notes=f"图纸：{LINK}")
        ContactFactory(
            customer=customer,
            name="欧阳建国" if n == 0 else "王立新",
            title="设备部经理兼行政后勤保障中心副主任",
            email=f"ouyang.jianguo.equipment-department{n}@huarui-precision-machinery.com.cn",
            is_primary=True,
        )
        ContactFactory(customer=customer)
        customers.append(customer)
    CustomerFactory.create_batch(8)  # with PAGE_SIZE 10 (the test's), the list has a pager
    model = ProductModelFactory(
        name="商用中央空调冷水机组（螺杆式，变频，R134a）", code="LSBLGR-1160M/Z-HE"
    )
    problem = ProblemTypeFactory(name="压缩机过载保护频繁跳闸，无法制冷")
    units = [
        EquipmentFactory(
            customer=customer,
            product_model=model,
            serial_no=f"LSBLGR1160MZ-2026-0000{n}4321",
            install_address=LONG_ADDRESS,
        )
        for n, customer in enumerate(customers)
    ]
    agreement = ServiceAgreementFactory(
        customer=customers[0],
        name=f"{customers[0].name} 2026 年度全包维保及应急抢修服务合同",
        service_items="每季度巡检一次；每年深度保养两次；7×24 小时应急抢修，2 小时内响应",
        equipment=units[:1],
        annual=True,
    )
    MaintenancePlanFactory(equipment=units[0], name="冷水机组季度巡检（含冷凝器清洗与制冷剂检漏）")
    MaintenancePlanFactory(equipment=None, agreement=agreement, name="年度深度保养（合同内）")

    fields = {
        "customer": customers[0],
        "equipment": units[0],
        "problem_type": problem,
        "address": LONG_ADDRESS,
        "contact_name": "欧阳建国",
        "contact_phone": "0755-86001234-8021",
        "description": (
            "冷库空调不制冷，温度升到 12 度，控制面板报警 E4-COMPRESSOR-OVERLOAD-PROTECTION，"
            f"客户要求今天下午三点以前到场，进门需要在东门保安室登记并出示工作证。现场照片：{LINK}"
        ),
        "requested_date": timezone.localdate(),
    }
    tickets = {}
    for state in State.values:
        tickets[state] = ticket_in_state(state, dispatcher=dispatcher, engineer=engineer, **fields)
    for customer, unit in zip(customers[1:], units[1:], strict=True):
        ticket_in_state(
            State.ASSIGNED,
            dispatcher=dispatcher,
            engineer=engineer,
            **{**fields, "customer": customer, "equipment": unit},
        )

    # The processed request: a photo and the customer's signature on its visit.
    visit = tickets[State.PROCESSED].visits.get()
    visit.work_done = f"更换压缩机启动电容和 PP 棉滤芯，试机制冷正常，库温降至 2 度。视频：{LINK}"
    visit.save(update_fields=["work_done"])
    VisitPhoto.objects.create(visit=visit, image=jpeg((1600, 1200)))
    visit.signature.save("signature.png", png((900, 300)))

    # A second round after an unsatisfied revisit, waiting for assignment again.
    again = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer, **fields)
    services.record_revisit(
        again,
        people[Role.REVISIT_AGENT],
        version=None,
        outcome=Revisit.Outcome.UNSATISFIED,
        score=2,
        comment=f"客户反映维修后第二天又出现同样的故障，要求换一位经验更丰富的工程师上门 {LINK}",
    )

    # A closed one the service manager sent back: the engineer's page offers the correction.
    sent_back = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer, **fields)
    services.perform(
        sent_back,
        "send_back",
        people[Role.SERVICE_MANAGER],
        reason=f"人工费与工时不符，请按实际工时 2.5 小时重新填写，见 {LINK}",
    )

    # Read ones are links to the request (the engineer's to his job page); two are still unread.
    for role, user in people.items():
        for n, ticket in enumerate([*tickets.values(), sent_back]):
            if role == Role.ENGINEER:
                url = reverse("mobile:job", args=[ticket.pk])
            else:
                url = ticket.get_absolute_url()
            Notification.objects.create(
                user=user,
                event="breach",
                title=f"{ticket.number} 的到场时限已超时：{customers[0].name}",
                body=f"{LONG_ADDRESS}；{fields['description']}",
                url=url,
                key=f"phone-check:{n}",
                read_at=timezone.now() if n >= 2 else None,
            )
    # What tells a request's pages apart (page_key): its state, and a correction asked for.
    return {
        pk: f"{state} correction" if correction else state
        for pk, state, correction in Ticket.objects.values_list(
            "pk", "state", "correction_requested"
        )
    }


def page_key(match, role, kinds):
    """What makes a page another one to check. Pages with no object in their URL are a role's
    lists and forms: what they show and offer depends on who looks, so each role checks its own.
    An object's page is checked once, whoever opens it first, except a service request's: once
    per kind (each state shows other panels), and its own page also once per role (other
    actions)."""
    if not match.kwargs:
        return (match.view_name, role)
    pk = match.kwargs.get("pk")
    if match.namespace not in ("tickets", "mobile") or pk is None:
        return (match.view_name,)
    if match.view_name in ("tickets:detail", "mobile:job"):
        return (match.view_name, kinds.get(int(pk)), role)
    return (match.view_name, kinds.get(int(pk)))


def followable(url, origin):
    url = urldefrag(url).url
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin or FILE_PATH.search(parts.path):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if SKIPPED_NAMES.search(match.view_name):
        return None
    return url, match


def open_page(page, url):
    """Go to `url`; False when it is not a page to check (refused, a file, a download)."""
    try:
        response = page.goto(url)
    except PlaywrightError as error:
        if "Download is starting" in str(error):
            return False
        raise
    if response is None:  # the same document (a link to a fragment of it)
        return False
    assert response.status < 500, f"{url} answered {response.status}"
    return response.status == 200 and response.headers.get("content-type", "").startswith(
        "text/html"
    )


def crawl(page, origin, role, seen, kinds):
    """Check the home page (open in `page`) with its menu open, then every page reachable from it
    whose key is not in `seen` yet, breadth first; return the problems and the pages checked."""
    problems, checked = [], 0
    queue = deque([None])  # None: the home page, where signing in landed
    seen.add(page_key(resolve("/"), role, kinds))
    while queue:
        url = queue.popleft()
        if url is not None and not open_page(page, url):
            continue
        landed = followable(page.url, origin)
        name = landed[1].view_name if landed else "?"
        if landed:  # the home page redirects to the role's first page
            seen.add(page_key(landed[1], role, kinds))
        where = f"{urlsplit(page.url).path} ({name})"
        if checked == 0:
            toggler = page.locator(".navbar-toggler")
            if toggler.is_visible():
                toggler.click()
                page.locator("#app-menu.show").wait_for()
                problems += check(page, f"{where}, the menu open", root="#app-menu")
                toggler.click()
                page.locator("#app-menu:not(.show):not(.collapsing)").wait_for(state="attached")
        problems += check(page, where)
        checked += 1
        for href in page.evaluate(LINKS_JS):
            found = followable(href, origin)
            if not found:
                continue
            key = page_key(found[1], role, kinds)
            if key not in seen:
                seen.add(key)
                queue.append(found[0])
    return problems, checked


def check(page, where, root="body"):
    found = page.evaluate(OVERFLOW_JS, [WIDTH, root])
    if not found:
        return []
    return [
        f"{where}: the page is {found['scrollWidth']} px wide on a {found['innerWidth']} px "
        f"screen, {found['count']} elements reach past its edge, the widest: "
        f"{found['selector']} ({found['width']} px to {found['right']} px, “{found['text']}”)"
    ]


def test_every_page_a_manager_or_engineer_opens_fits_a_phone(
    browser, live_server, login, make_user, dispatcher, engineer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.PAGE_SIZE = 10  # pagers under the lists, without hundreds of rows
    people = {
        Role.SERVICE_MANAGER: make_user(Role.SERVICE_MANAGER),
        Role.DISPATCHER: dispatcher,
        Role.REVISIT_AGENT: make_user(Role.REVISIT_AGENT),
        Role.ENGINEER: engineer,
    }
    kinds = realistic_data(dispatcher, engineer, people)

    problems = []
    for language in ("zh-hans", "en"):
        seen, total = set(), 0
        for role, user in people.items():
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT},
                is_mobile=True,
                has_touch=True,
                locale="zh-CN" if language == "zh-hans" else "en-US",
                timezone_id="Asia/Shanghai",
            )
            context.add_cookies(
                [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
            )
            page = context.new_page()
            if not total:
                page.goto(f"{live_server.url}/accounts/login/")
                problems += [f"{language} · {p}" for p in check(page, "/accounts/login/ (login)")]
            login(page, live_server, user)
            assert page.locator("html").get_attribute("lang") == language
            found, checked = crawl(page, live_server.url, role, seen, kinds)
            context.close()
            total += checked
            problems += [f"{language} · {role} · {problem}" for problem in found]
        assert total > 60, f"only {total} pages found in {language}"
    assert not problems, "pages wider than a phone:\n" + "\n".join(problems)
