"""Shared fixtures: one user per role, logged-in clients, and browser support.

Role users
    `dispatcher`, `engineer`, `service_manager`, `revisit_agent`, `parts_clerk`, `finance`,
    `complaint_handler`, `manager`, `administrator`: a user in the auth group of that
    `aftersales.roles.Role` (the groups come from the roles migration), username = the role's
    value, password `PASSWORD`. `make_user(role, username=...)` makes more of them.

Logged-in clients
    `dispatcher_client`, `engineer_client`, … (one per role), or `client_for(user)` for any user.

Browser tests (Playwright driving Debian's /usr/bin/chromium; nothing is downloaded)
    `page` (zh-CN, desktop), `mobile_page` (375×812, touch, zh-CN), and
    `login(page, live_server, user)` which signs in through the real login form.

Markers `postgres`, `redis` and `browser` skip a test, with a message naming what is missing,
when that service is not available here. CI (.ci/run) provides all three and fails on any skip.
"""

import os
from pathlib import Path

import pytest
from django.test import Client

from aftersales.roles import Role

PASSWORD = "test-Pa55word"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # This machine reaches no network but the package registries: without these flags
    # Chromium keeps trying Google's services and its connections are refused.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BROWSER_FIXTURES = {"page", "mobile_page", "context", "new_context", "browser"}

SKIP_POSTGRES = "needs PostgreSQL: set DATABASE_URL=postgres://…"
SKIP_REDIS = "needs Redis: set REDIS_URL=redis://…"
SKIP_BROWSER = "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"


# --- Skipping what this machine cannot run ---------------------------------------------------


def _redis_answers():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return False
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.RedisError, OSError):
        return False


def _restore_migration_data(item):
    """Make a transactional test start from the migrated database, role groups included.

    Transactional tests (live_server, worker threads, two connections) empty every table when
    they finish, and so delete the rows that data migrations wrote, such as the role groups and
    their permissions. Django's rollback emulation reloads them before each such test.
    """
    from pytest_django.fixtures import validate_django_db

    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    if marker:
        transaction, reset_sequences, databases, _, available_apps = validate_django_db(marker)
    else:
        transaction, reset_sequences, databases, available_apps = False, False, None, None
    if not (transaction or {"transactional_db", "live_server"} & fixtures):
        return
    item.add_marker(
        pytest.mark.django_db(
            transaction=True,
            reset_sequences=reset_sequences,
            databases=databases,
            serialized_rollback=True,
            available_apps=available_apps,
        ),
        append=False,  # ahead of the test's own django_db marker: the closest one counts
    )


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    for item in items:
        # A test that drives a browser is a browser test even if nobody marked it.
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        _restore_migration_data(item)

    redis_ok = None  # asked once, and only when a test needs it
    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason=SKIP_POSTGRES))
        if item.get_closest_marker("redis"):
            if redis_ok is None:
                redis_ok = _redis_answers()
            if not redis_ok:
                item.add_marker(pytest.mark.skip(reason=SKIP_REDIS))
        if item.get_closest_marker("browser") and not CHROMIUM.exists():
            item.add_marker(pytest.mark.skip(reason=SKIP_BROWSER))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """Keep the migrated data that rollback emulation restores reachable from every test.

    Playwright's sync API leaves an event loop running in the main thread, and Django's
    connection handler then hands out a second connection object (asgiref keeps async-context
    connections apart). The copy of the migrated data lives on the first one only, so later
    transactional tests would start without the role groups. One database: the class carries it.
    """
    from django.db import connections

    connection = connections["default"]
    contents = getattr(connection, "_test_serialized_contents", None)
    if contents is not None:
        type(connection)._test_serialized_contents = contents


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with none of the product's cache entries: a user, role or count cached
    by an earlier test must not answer for this one's data."""
    from tests import cache

    cache.empty()


# --- Users per role ----------------------------------------------------------------------------


@pytest.fixture
def make_user(db, django_user_model):
    """make_user(role, username=None, **fields): a user in that role's group, password PASSWORD."""
    from django.contrib.auth.models import Group

    def make(role=None, username=None, **fields):
        username = username or (Role(role).value if role else "user")
        user = django_user_model(username=username, **fields)
        user.set_password(PASSWORD)
        user.save()
        if role:
            user.groups.add(Group.objects.get(name=Role(role).value))
        return user

    return make


@pytest.fixture
def dispatcher(make_user):
    return make_user(Role.DISPATCHER)


@pytest.fixture
def engineer(make_user):
    return make_user(Role.ENGINEER)


@pytest.fixture
def service_manager(make_user):
    return make_user(Role.SERVICE_MANAGER)


@pytest.fixture
def revisit_agent(make_user):
    return make_user(Role.REVISIT_AGENT)


@pytest.fixture
def parts_clerk(make_user):
    return make_user(Role.PARTS_CLERK)


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def complaint_handler(make_user):
    return make_user(Role.COMPLAINT_HANDLER)


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR)


# --- Logged-in clients -------------------------------------------------------------------------


@pytest.fixture
def client_for(db):
    """client_for(user): a new test client with that user logged in."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def dispatcher_client(client_for, dispatcher):
    return client_for(dispatcher)


@pytest.fixture
def engineer_client(client_for, engineer):
    return client_for(engineer)


@pytest.fixture
def service_manager_client(client_for, service_manager):
    return client_for(service_manager)


@pytest.fixture
def revisit_agent_client(client_for, revisit_agent):
    return client_for(revisit_agent)


@pytest.fixture
def parts_clerk_client(client_for, parts_clerk):
    return client_for(parts_clerk)


@pytest.fixture
def finance_client(client_for, finance):
    return client_for(finance)


@pytest.fixture
def complaint_handler_client(client_for, complaint_handler):
    return client_for(complaint_handler)


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


@pytest.fixture
def administrator_client(client_for, administrator):
    return client_for(administrator)


# --- Browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Playwright ignores PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH; never `playwright install` here.
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def mobile_page(new_context):
    """A page on a phone-sized screen (375 px wide, touch), as engineers and customers use it."""
    context = new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    return context.new_page()


@pytest.fixture
def login():
    """login(page, live_server, user): sign in through the real login form, as a person does."""

    def sign_in(page, live_server, user, password=PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.locator("form:has(input[name=password]) [type=submit]").first.click()
        assert "/accounts/login/" not in page.url, "login failed for " + user.get_username()
        return page

    return sign_in
