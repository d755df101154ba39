"""The ticket benchmark (`make bench-tickets`): the closed loop's pages at two data sizes.

For each size (100,000 and 1,000,000 tickets, a database each: <bench database>_100k, _1000k) it

1. fills the database (bench.generate: COPY, minutes);
2. serves the app with gunicorn as in production (DEBUG off, sync workers, persistent database
   connections, Redis cache, collected static files);
3. signs in one session per client (a dispatcher; an engineer with ~20 open jobs) and measures,
   from a second process over loopback, each page at 1 and at 8 concurrent clients: with
   Debian's wrk when installed (bench.wrk), else with the threads of bench.client. The JSON
   API's pages (api_*) are called with the bench's API key instead of a session; its report of
   a fault is a POST that creates a real request each time, for one of 200 real units;
4. counts each page's SQL queries once, with nothing cached (Django's test client here).

Both sizes are served at once (a gunicorn each) and measured in the same phase: each round takes
every page at one size and then at the other, so whatever the machine does over the minutes of a
run (its speed drifts) falls on both sizes alike. It prints p50/p95 per page and the ratios the
targets are about, checks the targets, and writes everything to bench/out/tickets-<date>.json.

    python -m bench.tickets [--sizes 100000 1000000] [--seconds 4] [--workers 4] [--reuse]
"""

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from bench import client, generate, wrk

BASE_DIR = generate.BASE_DIR
OUT_DIR = generate.OUT_DIR
HOST = "127.0.0.1"

# Targets of the issue "The closed loop".
LOGGED_IN_OVER_MINIMAL = 4.0  # whoami p95 / healthz p95
PAGE_OVER_LOGGED_IN = 10.0  # page p95 / whoami p95, at the largest size
LARGE_OVER_SMALL = 1.3  # page p95 at the largest size / at the smallest
CONCURRENT_OVER_SINGLE = 5.0  # p95 at 8 clients / at 1 client
# Target of the issue "The customer's side": its pages (tracking, QR code) and the API's,
# p95 at 1 client / whoami p95.
CUSTOMER_SIDE_OVER_LOGGED_IN = 5.0
CUSTOMER_SIDE = ("track", "qr", "api_")
# Target of the issue "The knowledge base": search and suggestions, p95 at 1 client / whoami p95.
KNOWLEDGE_OVER_LOGGED_IN = 5.0
KNOWLEDGE = ("kb_",)
CONCURRENCY = (1, 8)
# The pages every run measures (the others are compared with them).
BASELINES = ("healthz", "whoami")


def analytics_pages(ids):
    """The statistics at their default range (the last 30 days) and over three years."""
    from django.utils import timezone

    today = timezone.localdate()
    three_years = f"start={today.replace(year=today.year - 3) + timedelta(days=1)}&end={today}"
    reports = [
        ("analytics", "statistics overview", "/analytics/"),
        ("an_problems", "statistics by problem type and model", "/analytics/problems/"),
        ("an_agreements", "statistics by agreement", "/analytics/agreements/"),
        ("an_services", "statistics by service type", "/analytics/services/"),
        ("an_sla", "SLA compliance by target, priority, month …", "/analytics/sla/"),
        ("an_engineers", "engineer assessment", "/analytics/engineers/"),
    ]
    return [
        entry
        for key, label, path in reports
        for entry in (
            (key, f"{label}, last 30 days", "manager", path),
            (f"{key}_3y", f"{label}, three years", "manager", f"{path}?{three_years}"),
        )
    ] + [
        (
            "analytics_drill",
            "requests behind a figure (opened in the last 30 days)",
            "manager",
            "/analytics/requests/?event=created",
        ),
        (
            "an_drill_3y",
            "one engineer's requests closed in three years",
            "manager",
            f"/analytics/requests/?event=closed&engineer_id={ids['engineer']}&{three_years}",
        ),
        ("an_scorecard", "GB/T 27922 self-assessments", "manager", "/analytics/scorecard/"),
        ("an_mine", "an engineer's own figures (phone)", "engineer", "/analytics/mine/"),
    ]


def analytics_figures(log=print):
    """Rebuild the statistics when their facts do not cover the generated requests (the
    generator writes by COPY, outside the services); then time the refresh after a real
    transition: a waiting request assigned through the services (its service point, engineer
    and response outcome change in a dozen cubes), its refresh timed; then the engineer declines
    it (the request waits again, as before) and that refresh is timed too."""
    from django.db.models import Q

    from aftersales.models import User
    from analytics import refresh
    from analytics.models import TicketFact
    from tickets import services
    from tickets.models import State, Ticket

    out = {}
    # Requests an earlier run created through the services (the API's pages) are marked for the
    # refresh: counted in first, so that only data written by COPY needs the rebuild.
    refresh.refresh_all()
    if TicketFact.objects.count() != Ticket.objects.count():
        log("  statistics: rebuilding the facts and rollups")
        out["rebuild"] = refresh.rebuild(log=lambda text: log(f"    {text}"))
        log(f"  statistics rebuilt in {out['rebuild']['seconds']} s")
        refresh.refresh_all()
    dispatcher = User.objects.get(username="dispatcher01")
    engineer = User.objects.filter(engineer_profile__isnull=False).order_by("username").first()
    waiting = Ticket.objects.filter(state=State.PENDING_ASSIGNMENT).filter(
        Q(requested_date__isnull=True) | Q(requested_date__gt=date.today() + timedelta(days=1))
    )
    times = []
    for ticket in waiting.order_by("pk")[:51]:
        ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
        started = time.perf_counter()
        refresh.refresh()
        times.append((time.perf_counter() - started) * 1000)
        services.perform(ticket, "decline", engineer, reason="bench: back to the queue")
        started = time.perf_counter()
        refresh.refresh()
        times.append((time.perf_counter() - started) * 1000)
    times = sorted(times[2:])  # the first pays for the connection and the imports
    out["refresh_ms"] = {
        "p50": round(_median(times), 2),
        "p95": round(times[int(len(times) * 0.95)], 2),
    }
    timing = out["refresh_ms"]
    log(f"  statistics refresh after a transition: p50 {timing['p50']} ms, p95 {timing['p95']} ms")
    return out


# The API's report of a fault: a unit of the ones picked (`api_units`) and an event id no other
# request has (bench.client / bench/wrk_request.lua fill in %PICK% and %N%), so that each call
# creates a request, as a stream of different alarms does.
API_REPORT = json.dumps(
    {
        "serial_no": "%PICK%",
        "description": "设备告警 E4：压缩机过热保护（bench）",
        "priority": "high",
        "event_id": "bench-%N%",
    },
    ensure_ascii=False,
)


def api_pages(ids):
    """The JSON API (/api/v1/), called with the bench's key (`who` "api")."""
    return [
        (
            "api_create",
            "API: report a fault (POST, a new request each time)",
            "api",
            "/api/v1/requests",
            {"method": "POST", "body": API_REPORT, "picks": ids["api_units"], "expect": 201},
        ),
        (
            "api_get",
            "API: a request's state (the timeline ticket)",
            "api",
            f"/api/v1/requests/{ids['timeline_number']}",
        ),
        (
            "api_customer",
            "API: a busy customer's open requests",
            "api",
            f"/api/v1/customers/{ids['busy_customer']}/requests",
        ),
    ]


def pages(dataset, ids):
    """(key, what it is, who asks, path[, request]): `request` for a page that is not a plain
    GET ({"method", "body", "picks", "expect"}). The first two are the baselines."""
    return [
        ("healthz", "minimal view, no database", None, "/healthz"),
        ("whoami", "minimal signed-in view (session + user)", "dispatcher", "/whoami"),
        ("list", "dispatcher list, default view", "dispatcher", "/tickets/"),
        (
            "list_queue",
            "dispatcher list, queue filter (pending, urgent)",
            "dispatcher",
            "/tickets/?state=pending_assignment&priority=urgent",
        ),
        (
            "list_history",
            "dispatcher list, history filter (engineer, repairs)",
            "dispatcher",
            f"/tickets/?engineer={ids['engineer']}&service_type=repair",
        ),
        (
            "search_phone",
            "dispatcher list, search by phone",
            "dispatcher",
            f"/tickets/?q={dataset['phone']}",
        ),
        (
            "search_phone_part",
            "dispatcher list, search by a part of a phone (its last eight digits)",
            "dispatcher",
            f"/tickets/?q={dataset['phone'][-8:]}",
        ),
        *(
            [
                (
                    "search_contact",
                    "dispatcher list, search by a contact's name",
                    "dispatcher",
                    f"/tickets/?q={quote(dataset['contact_name'])}",
                )
            ]
            # Data sets written before contact names were searched have none.
            if "contact_name" in dataset
            else []
        ),
        (
            "search_serial",
            "dispatcher list, search by serial number",
            "dispatcher",
            f"/tickets/?q={dataset['serial']}",
        ),
        (
            "detail",
            "ticket detail, 50 timeline events",
            "dispatcher",
            f"/tickets/{dataset['timeline_ticket']}/",
        ),
        ("jobs", "engineer's job list (/m/)", "engineer", "/m/"),
        ("job", "engineer's job page", "engineer", f"/m/jobs/{dataset['engineer_job']}/"),
        (
            "work_order",
            "work order (电子工单) of the timeline ticket",
            "dispatcher",
            f"/tickets/{dataset['timeline_ticket']}/work-order/",
        ),
        ("revisits", "revisit queue", "revisit", "/tickets/revisits/"),
        (
            "revisits_search",
            "revisit queue, search by phone",
            "revisit",
            f"/tickets/revisits/?q={dataset['phone']}",
        ),
        ("manager", "service manager's queues (locked, to verify)", "manager", "/tickets/manager/"),
        (
            "manager_page",
            "service manager's queues, 3rd page of those to verify",
            "manager",
            "/tickets/manager/?closed_page=3",
        ),
        *analytics_pages(ids),
        ("customers", "customer list, newest first", "dispatcher", "/customers/"),
        ("equipment", "equipment list, newest first", "dispatcher", "/customers/equipment/"),
        ("plans", "maintenance plans, the next due first", "dispatcher", "/customers/plans/"),
        (
            "plans_due",
            "maintenance plans, due in 30 days at one service point",
            "dispatcher",
            f"/customers/plans/?due=30&service_point={ids['plan_point']}",
        ),
        # The customer's pages (no login): a request's tracking page, a unit's QR code page.
        (
            "track",
            "customer's tracking page of the timeline ticket (/t/…)",
            None,
            f"/t/{ids['track_token']}/",
        ),
        ("qr", "a unit's QR code page (fault report)", None, f"/q/{ids['qr_token']}/"),
        ("calendars", "business calendars list", "manager", "/org/calendars/"),
        (
            "calendar_year",
            "a calendar's year (12 month grids), the default calendar",
            "manager",
            "/org/calendars/cn-statutory/?year=2027",
        ),
        *api_pages(ids),
        (
            "kb_search",
            "knowledge base search, two words (100,000 articles)",
            "dispatcher",
            f"/knowledge/?q={quote('净水器 漏水')}",
        ),
        (
            "kb_suggest",
            "suggestions beside a description: articles and similar processed requests",
            "dispatcher",
            f"/knowledge/suggest/?description={quote('机器底部漏水，地面有积水')}"
            f"&line={ids['kb_line']}",
        ),
    ]


# --- The server -----------------------------------------------------------------------------


def server_environment():
    """A production-like environment (this process and gunicorn share it)."""
    env = os.environ
    env.update(
        DEBUG="0",
        ALLOWED_HOSTS=HOST,
        SITE_URL=f"http://{HOST}",
        AXES_ENABLED="False",
        CONN_MAX_AGE=env.get("CONN_MAX_AGE", "600"),
        LOG_LEVEL="WARNING",
        STATIC_ROOT=str(BASE_DIR / "var" / "bench-static"),
        CACHE_KEY_PREFIX="bench",
        # One address asks for every page: the public pages' limit per address would answer 429.
        PUBLIC_RATE_LIMIT="100000000/m",
    )
    env["REDIS_URL"] = env.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    if not _answers(env["REDIS_URL"]):
        env["REDIS_URL"] = ""  # the in-process cache; sessions live in the database anyway
    return env


def _answers(redis_url):
    try:
        import redis

        return redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 (any failure means: no Redis here)
        return False


def collect_static(env):
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )


class Gunicorn:
    def __init__(self, env, port, workers):
        self.env, self.port, self.workers = env, port, workers
        self.log = OUT_DIR / f"gunicorn-{port}.log"

    def __enter__(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "aftersales.wsgi:application",
                f"--bind={HOST}:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=sync",
                "--timeout=60",
                f"--error-logfile={self.log}",
            ],
            cwd=BASE_DIR,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log}")
            try:
                result = client.run(HOST, self.port, "/healthz", requests=1, concurrency=1)
            except OSError:
                result = {"errors": 1}
            if not result["errors"]:
                return self
            time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"gunicorn did not answer on port {self.port}; see {self.log}")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def server_cpu(gunicorn_pid, database):
    """{pid: CPU seconds} of the gunicorn workers and of the PostgreSQL backends serving the
    bench database (Linux /proc): work per request, whatever else the machine is doing."""
    from django.db import connection

    pids = _children(gunicorn_pid)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        pids += [pid for (pid,) in cursor.fetchall()]
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone, or not this machine's
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return cpu


def _children(pid):
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_ms_per_request(before, after, requests):
    used = sum(seconds - before.get(pid, 0) for pid, seconds in after.items())
    return used * 1000 / requests if requests else None


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- Sessions and query counts ----------------------------------------------------------------


def sessions(username, count):
    """`count` signed-in sessions of one user, created the way login() stores them."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from aftersales.models import User

    user = User.objects.get(username=username)
    keys = []
    for _ in range(count):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "aftersales.caching.AuthFactsBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)
    return keys


def query_count(path, session_key, request=None, headers=None):
    """Status and SQL queries of one request, served in this process."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    browser = Client(HTTP_HOST=HOST, headers=headers)
    if session_key:
        browser.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with CaptureQueriesContext(connection) as queries:
        if request:
            body = request["body"].replace("%N%", f"count-{time.time_ns():x}")
            body = body.replace("%PICK%", request["picks"][0])
            response = browser.generic(
                request["method"], path, body.encode(), content_type="application/json"
            )
        else:
            response = browser.get(path)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
    return {
        "status": response.status_code,
        "ok": response.status_code == (request or {}).get("expect", 200),
        "queries": len(queries.captured_queries),
        "slowest_query_ms": round(float(slowest["time"]) * 1000, 1) if slowest else 0,
        "slowest_query": slowest["sql"][:300] if slowest else "",
    }


# --- One size -------------------------------------------------------------------------------


def api_ids(dataset):
    """What the API's pages name: the timeline ticket's number, the busy customer's code, and
    200 units of customers far from the busy ones (their requests change no other page)."""
    from customers.models import Customer, Equipment
    from tickets.models import Ticket

    units = Equipment.objects.filter(customer_id__gt=1000).order_by("pk")[:200]
    return {
        "timeline_number": Ticket.objects.values_list("number", flat=True).get(
            pk=dataset["timeline_ticket"]
        ),
        "busy_customer": dataset.get("customer_code")
        or Customer.objects.values_list("code", flat=True).get(pk=3),
        "api_units": list(units.values_list("serial_no", flat=True)),
    }


def bench_api_key():
    """The whole key of the bench's API key (issued once per database, rotated each run: the
    secret of the last run is not kept anywhere)."""
    from aftersales import apikeys
    from aftersales.models import ApiKey

    key = ApiKey.objects.filter(name="bench", revoked_at__isnull=True).first()
    if key is None:
        _key, whole = apikeys.issue_key(
            name="bench",
            note="bench.tickets",
            scopes=list(apikeys.scope_labels()),
            actor=None,
        )
        return whole
    _key, whole = apikeys.rotate_key(key, None, prefix=key.prefix)
    return whole


def size_url(base_url, size):
    """The database of one size: the bench database's name with _100k, _1000k, … appended."""
    parts = urlsplit(base_url)
    return parts._replace(path=f"{parts.path}_{size // 1000}k").geturl()


def use_database(url):
    """Point this process's Django connection (and bench.generate) at another bench database."""
    from django.db import connections

    os.environ["DATABASE_URL"] = url
    connections["default"].close()
    connections["default"].settings_dict["NAME"] = generate.check_bench_url(url)


def prepare_size(size, url, args, env, log=print):
    """Fill this size's database, sign in the clients, count each page's queries."""
    from django.core.cache import cache
    from django.db.models import Count

    from aftersales.models import ProductLine, User
    from customers.models import Equipment, MaintenancePlan
    from tickets.models import Ticket

    use_database(url)
    # Each size's server keeps its cache entries under its own prefix (this process too).
    prefix = f"bench{size}"
    cache.key_prefix = prefix
    generation = generate.generate(size, fresh=not args.reuse, log=log)
    generation["analytics"] = analytics_figures(log=log)
    dataset = json.loads(generate.dataset_file().read_text())
    ids = {
        **api_ids(dataset),
        "engineer": User.objects.get(username=dataset["engineer"]).pk,
        # The service point with the most plans (bench.generate.ensure_maintenance_plans).
        "plan_point": MaintenancePlan.objects.values("service_point_id")
        .annotate(plans=Count("pk"))
        .order_by("-plans")
        .values_list("service_point_id", flat=True)
        .first(),
        "track_token": Ticket.objects.filter(pk=dataset["timeline_ticket"])
        .values_list("public_token", flat=True)
        .get(),
        "kb_line": ProductLine.objects.filter(code="WP").values_list("pk", flat=True).first(),
        "qr_token": Equipment.objects.filter(serial_no=dataset["serial"])
        .values_list("qr_token", flat=True)
        .first(),
    }
    users = {
        "dispatcher": sessions(dataset["dispatcher"], max(CONCURRENCY)),
        "engineer": sessions(dataset["engineer"], max(CONCURRENCY)),
        "revisit": sessions(dataset["revisit"], max(CONCURRENCY)),
        "manager": sessions(dataset["manager"], max(CONCURRENCY)),
    }
    api_key = bench_api_key()
    results = {}
    for key, label, who, path, *request in pages(dataset, ids):
        if args.only and key not in BASELINES and not key.startswith(tuple(args.only)):
            continue
        request = request[0] if request else None
        keys = users.get(who, [None])
        headers = {"Authorization": f"Bearer {api_key}"} if who == "api" else None
        counted = query_count(path, keys[0], request, headers)
        if not counted.pop("ok"):
            log(f"  {key}: HTTP {counted['status']} at {path}; not measured")
            results[key] = {"label": label, "path": path, "skipped": counted, "runs": {}}
            continue
        results[key] = {"label": label, "path": path, **counted, "runs": {}, "who": who}
        if request:
            results[key]["request"] = request
    return {
        "size": size,
        "database": generate.check_bench_url(url),
        "env": dict(env, DATABASE_URL=url, CACHE_KEY_PREFIX=prefix),
        "dataset": dataset,
        "users": users,
        "api_key": api_key,
        "results": results,
        "generation": generation,
    }


def measure(prepared, args, log=print, load=None):
    """Measure every page at every size, interleaved; {size: results}. `load` collects the
    machine's load averages."""
    load = [] if load is None else load
    use_wrk = wrk.available() and not args.python_client
    keys = list(prepared[0]["results"])
    with ExitStack() as stack:
        servers = {
            p["size"]: stack.enter_context(Gunicorn(p["env"], free_port(), args.workers))
            for p in prepared
        }
        # Rounds over all pages and sizes, so that a burst of load from elsewhere on the machine
        # spoils one round of every page rather than all of one page or one size; each figure
        # is the median of the rounds' figures.
        for round_no in range(args.rounds):
            load.append(os.getloadavg()[0])
            for key in keys:
                for p in prepared:
                    entry = p["results"].get(key)
                    if not entry or "skipped" in entry:
                        continue
                    server = servers[p["size"]]
                    who = entry["who"]
                    users = p["users"].get(who, [])
                    headers = [{"Cookie": f"sessionid={k}"} for k in users] or [{}]
                    if who == "api":
                        headers = [
                            {
                                "Authorization": f"Bearer {p['api_key']}",
                                "Content-Type": "application/json",
                            }
                        ]
                    request = entry.get("request") or {}
                    sends = {
                        "method": request.get("method", "GET"),
                        "body": request.get("body"),
                        "picks": request.get("picks", ()),
                    }
                    for concurrency in CONCURRENCY:
                        common = {"concurrency": concurrency, "headers": headers, **sends}
                        common["expect"] = request.get("expect", 200)
                        # Warm every worker (imports, templates, connection) before counting.
                        client.run(
                            HOST, server.port, entry["path"], requests=4 * args.workers, **common
                        )
                        before = server_cpu(server.process.pid, p["database"])
                        if use_wrk:
                            run = wrk.run(
                                HOST,
                                server.port,
                                entry["path"],
                                seconds=args.seconds,
                                concurrency=concurrency,
                                cookies=users,
                                headers=headers[0] if who == "api" else None,
                                **sends,
                            )
                        else:
                            requests = args.requests * (2 if concurrency > 1 else 1)
                            run = client.run(
                                HOST, server.port, entry["path"], requests=requests, **common
                            )
                        run["cpu_ms"] = cpu_ms_per_request(
                            before, server_cpu(server.process.pid, p["database"]), run["requests"]
                        )
                        entry.setdefault("rounds", {}).setdefault(str(concurrency), []).append(run)
                        log(
                            f"  round {round_no + 1} {p['size']:>9,} {key:<14} c={concurrency}:"
                            f" p50 {run['p50']:7.1f} ms  p95 {run['p95']:7.1f} ms"
                            f"  {run['rps']:6.0f} req/s  errors {run['errors']}"
                            f"  server CPU {run['cpu_ms']:5.1f} ms/request"
                        )
        load.append(os.getloadavg()[0])
    by_size = {}
    for p in prepared:
        for entry in p["results"].values():
            for concurrency, runs in entry.get("rounds", {}).items():
                entry["runs"][concurrency] = {
                    "p50": _median([r["p50"] for r in runs]),
                    "p95": _median([r["p95"] for r in runs]),
                    "rps": _median([r["rps"] for r in runs]),
                    "cpu_ms": _median([r["cpu_ms"] for r in runs]),
                    "requests": sum(r["requests"] for r in runs),
                    "errors": sum(r["errors"] for r in runs),
                    "error_samples": sorted({e for r in runs for e in r["error_samples"]})[:3],
                }
        by_size[p["size"]] = p["results"]
    return by_size


# --- Report ---------------------------------------------------------------------------------


def _median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _p95(results, key, concurrency):
    run = results.get(key, {}).get("runs", {}).get(str(concurrency))
    return run["p95"] if run else None


def _cpu(results, key):
    run = results.get(key, {}).get("runs", {}).get("1")
    return run["cpu_ms"] if run else None


def checks(sizes, by_size):
    """Every target, PASS or FAIL, with the figures it compares."""
    out = []
    small, large = by_size[sizes[0]], by_size[sizes[-1]]

    def add(target, page, size, concurrency, value, limit, ok, note=""):
        out.append(
            {
                "target": target,
                "page": page,
                "size": size,
                "concurrency": concurrency,
                "value": round(value, 2) if value is not None else None,
                "limit": limit,
                "result": "PASS" if ok else "FAIL",
                "note": note,
            }
        )

    for size in sizes:
        results = by_size[size]
        for c in CONCURRENCY:
            base, who = _p95(results, "healthz", c), _p95(results, "whoami", c)
            if base and who:
                ratio = who / base
                add(
                    "whoami ≤ 4× healthz",
                    "whoami",
                    size,
                    c,
                    ratio,
                    LOGGED_IN_OVER_MINIMAL,
                    ratio <= LOGGED_IN_OVER_MINIMAL,
                )
    who = _p95(large, "whoami", 1)
    for key in large:
        if not key.startswith(CUSTOMER_SIDE):
            continue
        p95 = _p95(large, key, 1)
        ratio = p95 / who if p95 is not None and who else None
        add(
            "customer's side ≤ 5× whoami",
            key,
            sizes[-1],
            1,
            ratio,
            CUSTOMER_SIDE_OVER_LOGGED_IN,
            ratio is not None and ratio <= CUSTOMER_SIDE_OVER_LOGGED_IN,
            "" if ratio is not None else "n/a",
        )
    for size in sizes:
        who = _p95(by_size[size], "whoami", 1)
        for key in by_size[size]:
            if not key.startswith(KNOWLEDGE):
                continue
            p95 = _p95(by_size[size], key, 1)
            ratio = p95 / who if p95 is not None and who else None
            add(
                "knowledge ≤ 5× whoami",
                key,
                size,
                1,
                ratio,
                KNOWLEDGE_OVER_LOGGED_IN,
                ratio is not None and ratio <= KNOWLEDGE_OVER_LOGGED_IN,
                "" if ratio is not None else "n/a",
            )
    for c in CONCURRENCY:
        who = _p95(large, "whoami", c)
        for key in large:
            if key in ("healthz", "whoami"):
                continue
            p95 = _p95(large, key, c)
            if p95 is None or not who:
                add("page ≤ 10× whoami", key, sizes[-1], c, None, PAGE_OVER_LOGGED_IN, False, "n/a")
                continue
            ratio = p95 / who
            add(
                "page ≤ 10× whoami",
                key,
                sizes[-1],
                c,
                ratio,
                PAGE_OVER_LOGGED_IN,
                ratio <= PAGE_OVER_LOGGED_IN,
            )
    if len(sizes) > 1:
        for c in CONCURRENCY:
            for key in large:
                before, after = _p95(small, key, c), _p95(large, key, c)
                if before is None or after is None:
                    add(
                        "large ≤ 1.3× small",
                        key,
                        sizes[-1],
                        c,
                        None,
                        LARGE_OVER_SMALL,
                        False,
                        "n/a",
                    )
                    continue
                ratio = after / before
                add(
                    "large ≤ 1.3× small",
                    key,
                    sizes[-1],
                    c,
                    ratio,
                    LARGE_OVER_SMALL,
                    ratio <= LARGE_OVER_SMALL,
                )
    for size in sizes:
        for key, entry in by_size[size].items():
            one, eight = _p95(by_size[size], key, 1), _p95(by_size[size], key, 8)
            if one is None or eight is None:
                add("8 clients ≤ 5× 1 client", key, size, 8, None, CONCURRENT_OVER_SINGLE, False)
                continue
            errors = sum(r["errors"] for r in entry["runs"].values())
            ratio = eight / one
            add(
                "8 clients ≤ 5× 1 client, no errors",
                key,
                size,
                8,
                ratio,
                CONCURRENT_OVER_SINGLE,
                ratio <= CONCURRENT_OVER_SINGLE and not errors,
                f"{errors} errors" if errors else "",
            )
    return out


def print_tables(sizes, by_size, generation, results_checks, write=print):
    for size in sizes:
        results = by_size[size]
        write("")
        write(f"== {size:,} tickets (data generated in {generation[size]['seconds']:.0f} s) ==")
        load = generation[size].get("load", [])
        if load:
            write(
                f"load average while measuring: {min(load):.1f}–{max(load):.1f}"
                f" on {os.cpu_count()} CPUs (anything else running on the machine shows here)"
            )
        write(
            f"{'page':<14} {'c1 p50':>7} {'c1 p95':>7} {'c8 p50':>7} {'c8 p95':>7}"
            f" {'p95/whoami':>10} {'c8/c1':>6} {'queries':>7} {'cpu ms':>7} {'cpu/whoami':>10}"
            "  errors"
        )
        who, who_cpu = _p95(results, "whoami", 1), _cpu(results, "whoami")
        for key, entry in results.items():
            runs = entry["runs"]
            if not runs:
                write(f"{key:<14} not measured: {entry.get('skipped')}")
                continue
            one, eight = runs["1"], runs["8"]
            write(
                f"{key:<14} {one['p50']:7.1f} {one['p95']:7.1f} {eight['p50']:7.1f}"
                f" {eight['p95']:7.1f} {one['p95'] / who:10.2f} {eight['p95'] / one['p95']:6.2f}"
                f" {entry['queries']:7d} {one['cpu_ms']:7.1f} {one['cpu_ms'] / who_cpu:10.2f}"
                f"  {one['errors'] + eight['errors']}"
            )
        write(
            "(cpu ms: CPU time of gunicorn and PostgreSQL per request at 1 client, the work a"
            " page costs whatever else the machine runs)"
        )
    if len(sizes) > 1:
        small, large = by_size[sizes[0]], by_size[sizes[-1]]
        write("")
        write(f"== {sizes[-1]:,} / {sizes[0]:,} tickets ==")
        for key in large:
            cells = []
            for c in CONCURRENCY:
                before, after = _p95(small, key, c), _p95(large, key, c)
                cells.append(f"p95 c{c} {after / before:5.2f}" if before and after else "n/a")
            before, after = _cpu(small, key), _cpu(large, key)
            cells.append(f"cpu {after / before:5.2f}" if before and after else "n/a")
            write(f"{key:<14} " + "  ".join(cells))
    write("")
    write("== targets ==")
    for check in results_checks:
        value = "n/a" if check["value"] is None else f"{check['value']:.2f}"
        write(
            f"{check['result']}  {check['target']:<36} {check['page']:<14} {check['size']:>9,}"
            f" c{check['concurrency']}  {value:>6} (limit {check['limit']}) {check['note']}"
        )
    failed = [c for c in results_checks if c["result"] == "FAIL"]
    write(f"{len(results_checks) - len(failed)} passed, {len(failed)} failed")


REFRESH_MS = 20.0  # the statistics' refresh after one change, p95


def refresh_checks(sizes, generation):
    out = []
    for size in sizes:
        timing = generation[size].get("analytics", {}).get("refresh_ms")
        if timing:
            out.append(
                {
                    "target": "statistics refresh ≤ 20 ms",
                    "page": "refresh",
                    "size": size,
                    "concurrency": 1,
                    "value": timing["p95"],
                    "limit": REFRESH_MS,
                    "result": "PASS" if timing["p95"] <= REFRESH_MS else "FAIL",
                    "note": "p95 ms, the refresh after one transition",
                }
            )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--seconds", type=int, default=4, help="per page, round and concurrency (wrk)"
    )
    parser.add_argument(
        "--python-client", action="store_true", help="bench.client even where wrk is installed"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=100,
        help="per page and round at 1 client, ×2 at 8 (bench.client, without wrk)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="figures are the rounds' median")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it exists")
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="PREFIX",
        help="measure only the pages whose keys start so (and the baselines), e.g. --only an_",
    )
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)

    env = server_environment()
    url = generate.configure(args.database_url)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(f"Bench database: {generate.check_bench_url(url)}; static files collected for gunicorn")
    collect_static(env)
    generation = {}
    started = time.monotonic()
    # Cached counts and lists of an earlier run would not match data made again by COPY.
    from django.core.cache import cache

    cache.clear()  # the bench's own Redis database (server_environment)
    prepared = []
    for size in sizes:
        print(f"\n-- {size:,} tickets: data ({generate.check_bench_url(size_url(url, size))})")
        prepared.append(prepare_size(size, size_url(url, size), args, env))
        generation[size] = prepared[-1]["generation"]
    generator = "wrk" if wrk.available() and not args.python_client else "bench.client"
    print(
        f"\n-- measuring, sizes interleaved ({args.workers} gunicorn sync workers per size,"
        f" {generator})"
    )
    load = []
    by_size = measure(prepared, args, load=load)
    for size in sizes:
        generation[size]["load"] = load
    results_checks = checks(sizes, by_size) + refresh_checks(sizes, generation)
    print_tables(sizes, by_size, generation, results_checks)
    record = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "workers": args.workers,
            "load_generator": "wrk"
            if wrk.available() and not args.python_client
            else "bench.client",
            "seconds": args.seconds,
            "requests": args.requests,
            "rounds": args.rounds,
            "concurrency": CONCURRENCY,
            "redis": bool(env["REDIS_URL"]),
            "conn_max_age": env["CONN_MAX_AGE"],
        },
        "dataset": {str(p["size"]): p["dataset"] for p in prepared},
        "generation": {str(k): v for k, v in generation.items()},
        "results": {str(k): v for k, v in by_size.items()},
        "checks": results_checks,
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    path = OUT_DIR / f"tickets-{datetime.now():%Y-%m-%d}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2))
    print(f"\nWritten to {path.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
