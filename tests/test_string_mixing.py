"""No mixed languages: the Chinese UI shows no English label, the English UI no Chinese one.

The pages are found, not listed: signed in as each demo login, a crawl starts at the home page
and follows every same-site link (the menu, each list's first rows, the links and addresses on
those pages), one page per URL pattern and login; then each public page a link led to is
opened without a login, with the login page. A page added later is checked once it is linked.

Chinese: the visible text of each page (text, and the title, placeholder, aria-label, alt and
button values people read) must contain no English msgid of the product's catalogue
(locale/zh_Hans/LC_MESSAGES/django.po) as a whole phrase. English: no Chinese character may
appear that does not come from the data (the demo's data is Chinese).
"""

import re
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client
from django.urls import Resolver404, resolve

from aftersales.demo import DEMO_USERS
from aftersales.models import User
from aftersales.registry import project_app_labels
from tickets import demo as tickets_demo

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
HOST = "testserver"
# Not product pages: Django's admin speaks Django's catalogue; files, downloads and actions.
SKIP = ("/admin/", "/static/", "/media/", "/accounts/logout/", "/i18n/")
# Links tried per URL pattern before giving up on it (a row may be out of the login's reach).
TRIES = 3
# A smaller history than `make demo`'s, with every state and every twist of a story.
PLAN = [(state, 2, window) for state, _count, window in tickets_demo.PLAN]

# English msgids that a Chinese page may show, each for a reason.
ALLOWED_ENGLISH = {
    "SLA": "the industry's own abbreviation, used as such in Chinese",
    "QR": "二维码 is spelt QR in product names too",
    "OK": "a universal word on buttons",
    "CSV": "a file format's name",
    "PDF": "a file format's name (a knowledge article's attachment kind)",
    "Excel": "a product's name",
    "English": "the language switch names each language in that language",
    "VIP": "VIP 客户 is how a Chinese service department names the level",
    "API": "an interface's name (a channel requests come in by)",
    "Webhook": "WeCom, DingTalk and Feishu name a robot's address Webhook 地址 in Chinese",
}
# Chinese text an English page may show, each for a reason.
ALLOWED_CHINESE = {
    "简体中文": "the language switch names each language in that language",
}

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class Page(HTMLParser):
    """What a person reads on a page, and the same-site addresses it names."""

    def __init__(self, url):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.texts = []
        self.links = []
        self.hidden = 0
        # A search hit's highlight (<mark>) stays in its run of text: 损坏则<mark>更换</mark>.
        self.glue = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "mark":
            self.glue = True
        if tag in ("script", "style", "template"):
            self.hidden += 1
        for name in READ_ATTRIBUTES:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset"):
            self.texts.append(attrs.get("value") or "")
        if tag == "a" and attrs.get("href"):
            self.links.append(urljoin(self.url, attrs["href"]))
        for value in attrs.values():
            # Addresses shown to be copied or encoded (the tracking link, a QR code's title).
            if value and value.startswith(f"http://{HOST}/"):
                self.links.append(value)

    def handle_endtag(self, tag):
        if tag == "mark":
            self.glue = True
        if tag in ("script", "style", "template") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if self.hidden:
            return
        if self.glue and self.texts:
            self.texts[-1] += data
        else:
            self.texts.append(data)
        self.glue = False

    @property
    def text(self):
        return "\n".join(t.strip() for t in self.texts if t.strip())


def read(url, response):
    page = Page(url)
    page.feed(response.content.decode())
    return page


def is_html(response):
    return response.status_code == 200 and response["Content-Type"].startswith("text/html")


def route(url):
    """(URL pattern, whether it takes arguments) of a same-site address; None for another
    site's or a page that is not the product's."""
    parts = urlsplit(url)
    if parts.netloc not in ("", HOST) or parts.path.startswith(SKIP):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    return f"{match.namespace}:{match.url_name}", bool(match.args or match.kwargs)


def crawl(client, start):
    """{key: (url, visible text)} of the pages reachable from `start` through links, in the
    client's language: one per URL pattern, and the first row of each list of an app (the
    desk's, the revisit queue's and the manager's first request), with its sub-pages (that
    request's work order)."""
    found, tries = {}, {}
    queue = deque([(start, None)])
    while queue:
        url, parent = queue.popleft()
        pattern = route(url)
        if pattern is None:
            continue
        name, of_one = pattern
        same_app = parent is not None and parent.split(":")[0] == name.split(":")[0]
        key = (name, parent if of_one and same_app else None)
        if key in found or tries.get(key, 0) >= TRIES:
            continue
        tries[key] = tries.get(key, 0) + 1
        response = client.get(url)
        if response.status_code in (301, 302):
            tries[key] -= 1  # a redirect (the home page to a role's desk) is no try
            queue.append((urljoin(url, response["Location"]), parent))
            continue
        if not is_html(response):
            continue
        page = read(url, response)
        found[key] = (url, page.text)
        path = urlsplit(url).path
        main = None  # what a list lists: the first object its rows lead to
        for link in page.links:
            target = route(link)
            if not of_one and target and target[1] and main in (None, target[0]):
                main = target[0]
                queue.append((link, name))
            elif of_one and key[1] and urlsplit(link).path.startswith(path):
                queue.append((link, key[1]))  # a sub-page of this object's page
            else:
                queue.append((link, None))
    return found


def client(user=None, language="zh-hans"):
    c = Client()
    if user is not None:
        c.force_login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return c


@dataclass
class Demo:
    """The pages found in a demo seeded for the module: [(login or None, url)], and their
    visible text in Chinese (read while crawling)."""

    pages: list
    chinese: list


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(tickets_demo, "PLAN", PLAN)
        call_command("seed_demo", stdout=StringIO())
        found, crawled = {}, set()
        for username in DEMO_USERS:
            user = User.objects.get(username=username)
            # Logins with the same permissions see the same pages: one crawl for them.
            permissions = frozenset(user.get_all_permissions()) | {user.is_superuser}
            if permissions in crawled:
                continue
            crawled.add(permissions)
            for key, page in crawl(client(user), "/").items():
                found.setdefault((username, key), page)
        # Pages a person reaches without signing in: the login page and the public pages.
        anonymous = client()
        tried = set()
        for (_username, (name, _parent)), (url, _text) in list(found.items()):
            if name not in tried:
                tried.add(name)
                response = anonymous.get(url)
                if is_html(response):
                    found[None, (name, None)] = (url, read(url, response).text)
        login = anonymous.get("/accounts/login/")
        found[None, ("login", None)] = ("/accounts/login/", read("/", login).text)
        # The same page may be the first row of two lists: read once.
        pages = {(who, url): text for (who, _key), (url, text) in found.items()}
        yield Demo(
            pages=list(pages),
            chinese=[(who or "anonymous", url, text) for (who, url), text in pages.items()],
        )
        transaction.set_rollback(True)


def render(pages, language):
    """[(who, url, visible text)] of every page in `language`."""
    clients = {}
    out = []
    for username, url in pages:
        if username not in clients:
            user = User.objects.get(username=username) if username else None
            clients[username] = client(user, language)
        response = clients[username].get(url)
        assert response.status_code == 200, (username, url, response.status_code)
        out.append((username or "anonymous", url, read(url, response).text))
    return out


def english_phrases():
    """The catalogue's English msgids (translated or not: an untranslated one is what shows)
    worth looking for: whole phrases of ≥ 2 letters (the literal parts of those with
    placeholders), except the allowed ones."""
    phrases = set()
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete:
            continue
        for msgid in filter(None, [entry.msgid, entry.msgid_plural]):
            for part in PLACEHOLDER.split(msgid):
                part = part.strip(" .,:;!?()[]\"'“”‘’…-–—/%\n")
                if len(re.findall(r"[A-Za-z]", part)) >= 2 and part not in ALLOWED_ENGLISH:
                    phrases.add(part)
    return phrases


def data_strings():
    """Every text value of the project's tables: what a page may show as data."""
    values = []
    for model in apps.get_models():
        if model._meta.app_label not in project_app_labels() and model._meta.app_label != "auth":
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
        ]
        if fields:
            for row in model._default_manager.values_list(*fields):
                values.extend(str(v) for v in row if v)
    return values


def test_pages_are_found_for_every_login(demo):
    logins = {username for username, _url in demo.pages}
    assert len(logins) >= 6
    assert {"dispatcher", "engineer", "svcmanager", "revisit", None} <= logins
    paths = [urlsplit(url).path for _username, url in demo.pages]
    # The crawl reached the rows behind the lists and the public pages, not only the menu.
    for expected in ("/tickets/", "/m/", "/customers/", "/org/", "/t/"):
        assert any(path.startswith(expected) and path != expected for path in paths), expected
    assert "/accounts/login/" in paths


def test_chinese_pages_show_no_english_label(demo):
    phrases = english_phrases()
    # One pattern for all phrases, longest first, each a whole phrase (not inside a word).
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    pattern = re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])")
    # Data and code, not labels: logins, e-mail addresses, dotted names ("tickets.view_ticket").
    data_words = re.compile(
        r"\b(?:"
        + "|".join(re.escape(u) for u in User.objects.values_list("username", flat=True))
        + r")\b|\S+@\S+|\b\w+(?:\.\w+)+\b"
    )
    found = []
    for who, url, text in demo.chinese:
        text = data_words.sub(" ", text)  # logins and e-mail addresses are data
        for match in sorted(set(pattern.findall(text))):
            found.append(f"{who} {url}: {match!r}")
    assert not found, "English on Chinese pages:\n" + "\n".join(found)


def test_english_pages_show_no_chinese_text(demo):
    # A run of Chinese is data when it is a whole piece of a data value (values are cut at
    # their punctuation and spaces), or a longer part of one (a truncated description).
    pieces = set()
    blob = []
    for value in data_strings():
        pieces.update(CJK.findall(value))
        blob.append(value)
    blob = "\n".join(blob)
    found = []
    for who, url, text in render(demo.pages, "en"):
        # A masked name (上海******公司, aftersales.lib.masking) is data cut into pieces.
        text = re.sub(r"\S*\*{2,}\S*", " ", text)
        for run in sorted(set(CJK.findall(text))):
            if run in pieces or run in ALLOWED_CHINESE or (len(run) >= 4 and run in blob):
                continue
            found.append(f"{who} {url}: {run!r}")
    assert not found, "Chinese on English pages:\n" + "\n".join(found)
