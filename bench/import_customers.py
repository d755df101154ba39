"""Benchmark: import 100,000 customers and their contacts, against a plain bulk_create.

    make bench-import                       # or:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_bench \\
        .venv/bin/python bench/import_customers.py [--rows 100000] [--repeat 2] \\
        [--memory-rows 10000 100000]

Needs PostgreSQL. The database is created (and migrated) when missing; its name must contain
"bench", because every run empties the customer tables. The script

1. writes a CSV of N customers and a CSV of their 1–2 contacts each (Chinese names, mobiles
   1[3-9]xxxxxxxxx), with the column titles of an export;
2. times (a) a plain bulk_create of the same rows (csv module → model instances → bulk_create,
   one transaction), and (b) the dashboard's import of the same files through the services the
   Celery tasks run (count, check, confirm, commit; tasks run eagerly), each on emptied tables;
3. measures the peak memory of (b) at two sizes (tracemalloc's peak of Python allocations, and
   the growth of the process's peak RSS) to show that it does not grow with the file.
"""

import argparse
import csv
import gc
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager, suppress
from itertools import batched
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftersales_bench"

_CITIES = ["杭州", "上海", "南京", "苏州", "宁波", "广州", "深圳", "成都", "武汉", "西安"]
_AREA_CODES = ["0571", "021", "025", "0512", "0574", "020", "0755", "028", "027", "029"]
_DISTRICTS = ["西湖区", "滨江区", "浦东新区", "鼓楼区", "工业园区", "天河区", "南山区", "高新区"]
_STREETS = ["文三路", "江南大道", "张江路", "中山路", "星湖街", "天河路", "科技园路", "天府大道"]
_TRADE = ["明辉", "华瑞", "鑫源", "恒通", "永盛", "金桥", "海纳", "天盛", "宏达", "瑞丰", "嘉禾"]
_INDUSTRY = ["餐饮管理", "食品", "电子科技", "物业管理", "精密机械", "商贸", "酒店管理"]
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强雪梅晓燕红梅海燕"
_TITLES = ["经理", "店长", "采购", "行政主管", "设备主管", "老板", ""]
_MOBILE_PREFIXES = [
    *map(str, range(130, 140)),
    *["150", "151", "152", "153", "155", "156", "157", "158", "159", "166"],
    *["175", "176", "177", "178"],
    *map(str, range(180, 190)),
    *["191", "198", "199"],
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="customers to import")
    parser.add_argument(
        "--memory-rows",
        type=int,
        nargs="*",
        default=[10_000, 100_000],
        help="sizes at which to measure peak memory (none: skip)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time (a) and (b) this many times, alternately (a busy machine skews one run)",
    )
    parser.add_argument("--memory-of", type=int, help=argparse.SUPPRESS)  # one size, in a child
    args = parser.parse_args()
    if args.memory_of:
        setup_django(args.memory_of)
        print(json.dumps(memory_of(args.memory_of)))
        return
    setup_django(max([args.rows, *args.memory_rows]))

    from django.conf import settings

    from customers import imports

    print(f"Database: {settings.DATABASES['default']['NAME']} (PostgreSQL)")
    print(f"Chunk size: {imports.IMPORT_CHUNK_ROWS} rows")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        customers_csv, contacts_csv = write_files(Path(folder), args.rows)
        contacts = count_lines(contacts_csv)
        size = (customers_csv.stat().st_size + contacts_csv.stat().st_size) / 2**20
        print(f"Files: {args.rows:,} customers, {contacts:,} contacts ({size:.1f} MiB CSV)\n")

        ratios = []
        for run in range(1, args.repeat + 1):
            empty_tables()
            baseline = plain_bulk_create(customers_csv, contacts_csv)
            check_counts(args.rows, contacts)
            empty_tables()
            ours = dashboard_import(customers_csv, contacts_csv)
            check_counts(args.rows, contacts)
            ratios.append(report_times(run, baseline, ours))
    if args.repeat > 1:
        ratio = statistics.median(ratios)
        verdict = "within" if ratio <= 3 else "OVER"
        print(
            f"median ratio of {args.repeat} runs      {ratio:8.2f} ×  ({verdict} the 3 × target)\n"
        )

    if args.memory_rows:
        print(
            "Peak memory of the dashboard import (customers, then contacts; a fresh process each):"
        )
        print("      rows   tracemalloc peak   peak RSS growth")
        for rows in args.memory_rows:
            # A fresh process: memory that an earlier run freed cannot hide a peak.
            child = subprocess.run(
                [sys.executable, __file__, "--memory-of", str(rows)],
                capture_output=True,
                text=True,
                check=True,
            )
            traced, rss = json.loads(child.stdout.splitlines()[-1])
            print(f"  {rows:>8,}   {traced / 2**20:12.1f} MiB   {rss / 2**20:11.1f} MiB")
    empty_tables()


def report_times(run, baseline, ours):
    total = ours["customers"] + ours["contacts"]
    print(f"Run {run}")
    print(f"(a) plain bulk_create          {baseline:8.1f} s")
    print(f"(b) dashboard import           {total:8.1f} s")
    for phase, seconds in ours.items():
        if phase not in ("customers", "contacts"):
            print(f"      {phase:<24} {seconds:8.1f} s")
    ratio = total / baseline
    verdict = "within" if ratio <= 3 else "OVER"
    print(f"ratio (b) / (a)                {ratio:8.2f} ×  ({verdict} the 3 × target)\n")
    return ratio


def memory_of(rows):
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        customers_csv, contacts_csv = write_files(Path(folder), rows)
        empty_tables()
        result = measure_memory(customers_csv, contacts_csv)
    empty_tables()
    return result


# -- Set-up ------------------------------------------------------------------------------------


def setup_django(rows):
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # DEBUG would keep every query in memory (and slow everything down).
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ["IMPORT_MAX_ROWS"] = str(max(rows * 2, int(os.environ.get("IMPORT_MAX_ROWS", 0))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    sys.path.insert(0, str(BASE_DIR))

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not url.scheme.startswith("postgres"):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    if "bench" not in name:
        sys.exit(f"Refusing to empty the customer tables of {name!r}: use a *bench* database.")
    create_database(url, name)

    import django

    django.setup()
    from django.core.management import call_command

    from aftersales.celery import app

    call_command("migrate", verbosity=0, interactive=False)
    # Each eager task run would log a line.
    logging.getLogger("celery").setLevel(logging.WARNING)
    # The tasks run in this process, as soon as they are sent: no broker, no worker.
    app.conf.task_always_eager = True


def create_database(url, name):
    import psycopg

    admin_url = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}")


def empty_tables():
    from django.db import connection

    from customers.models import Contact, Customer, ImportJob

    tables = [Contact._meta.db_table, Customer.tags.through._meta.db_table, Customer._meta.db_table]
    with connection.cursor() as cursor:
        # CASCADE: equipment, agreements and tickets of a previous run refer to customers.
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    ImportJob.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def regions():
    from aftersales.models import Region

    return {
        city: Region.objects.get_or_create(name=city, defaults={"code": f"BENCH-{i:02d}"})[0]
        for i, city in enumerate(_CITIES)
    }


def bench_user():
    from aftersales.models import User
    from aftersales.roles import Role

    user, _created = User.objects.get_or_create(username="bench-importer")
    user.groups.add(_group(Role.DISPATCHER))
    return user


def _group(role):
    from django.contrib.auth.models import Group

    return Group.objects.get(name=role.value)


# -- Files -------------------------------------------------------------------------------------


def write_files(folder, rows):
    """customers.csv and contacts.csv with the titles of an export, in Chinese."""
    from django.utils import translation

    from customers.models import Customer
    from customers.resources import ContactResource, CustomerResource

    cities = [r.name for r in regions().values()]
    rng = random.Random(20261123)
    with translation.override("zh-hans"):
        customer_fields = ["code", "name", "kind", "level", "region", "address", "phone", "notes"]
        contact_fields = ["customer", "name", "title", "mobile", "email", "is_primary"]
        customer_titles = [str(CustomerResource().title_for(n)) for n in customer_fields]
        contact_titles = [str(ContactResource().title_for(n)) for n in contact_fields]
        kinds = {k: str(k.label) for k in Customer.Kind}
        levels = [str(v.label) for v in Customer.Level]
    customers_csv, contacts_csv = folder / "customers.csv", folder / "contacts.csv"
    with (
        customers_csv.open("w", newline="", encoding="utf-8-sig") as cf,
        contacts_csv.open("w", newline="", encoding="utf-8-sig") as kf,
    ):
        customers, contacts = csv.writer(cf), csv.writer(kf)
        customers.writerow(customer_titles)
        contacts.writerow(contact_titles)
        for i in range(rows):
            code = f"C{i + 1:07d}"
            city = rng.randrange(len(cities))
            individual = i % 5 == 4
            if individual:
                name = person(rng)
                phone = mobile(rng)
            else:
                name = (
                    f"{cities[city]}{rng.choice(_TRADE)}{rng.choice(_INDUSTRY)}有限公司"
                    f"{'' if i < 50 else i}"
                )
                phone = f"{_AREA_CODES[city]}-8{rng.randrange(10**6, 10**7)}"
            customers.writerow(
                [
                    code,
                    name,
                    kinds[Customer.Kind.INDIVIDUAL if individual else Customer.Kind.COMPANY],
                    levels[0] if i % 10 else rng.choice(levels),
                    cities[city],
                    f"{cities[city]}市{rng.choice(_DISTRICTS)}{rng.choice(_STREETS)}"
                    f"{rng.randrange(1, 999)}号",
                    phone,
                    "" if i % 20 else "周末不上门",
                ]
            )
            mobiles = set()
            while len(mobiles) < 1 + i % 2:
                mobiles.add(mobile(rng))
            for n, number in enumerate(sorted(mobiles)):
                contacts.writerow(
                    [
                        code,
                        person(rng),
                        rng.choice(_TITLES),
                        number,
                        f"c{i + 1}-{n}@example.com" if n == 0 and i % 3 == 0 else "",
                        "是" if n == 0 else "否",
                    ]
                )
    return customers_csv, contacts_csv


def person(rng):
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))


def mobile(rng):
    # Prefixes that carriers use: libphonenumber (the customer's phone field) refuses the rest.
    return f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def count_lines(path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for _row in csv.reader(f)) - 1


def check_counts(customers, contacts):
    from customers.models import Contact, Customer

    found = (Customer.objects.count(), Contact.objects.count())
    if found != (customers, contacts):
        sys.exit(f"Expected {customers:,} customers and {contacts:,} contacts, found {found}")


# -- (a) and (b) -------------------------------------------------------------------------------


def plain_bulk_create(customers_csv, contacts_csv):
    """The same rows with csv + bulk_create: no checks beyond what the database does."""
    from django.db import transaction

    from customers.models import Contact, Customer

    region_ids = {name: r.pk for name, r in regions().items()}
    kinds = {str(k.label): k.value for k in Customer.Kind}
    levels = {str(v.label): v.value for v in Customer.Level}
    start = time.perf_counter()
    with transaction.atomic():
        with customers_csv.open(encoding="utf-8-sig", newline="") as f:
            rows = csv.reader(f)
            next(rows)
            for chunk in batched(rows, 1000):
                Customer.objects.bulk_create(
                    Customer(
                        code=code,
                        name=name,
                        kind=kinds[kind],
                        level=levels[level],
                        region_id=region_ids[region],
                        address=address,
                        phone=phone,
                        notes=notes,
                    )
                    for code, name, kind, level, region, address, phone, notes in chunk
                )
        customer_ids = dict(Customer.objects.values_list("code", "pk"))
        with contacts_csv.open(encoding="utf-8-sig", newline="") as f:
            rows = csv.reader(f)
            next(rows)
            for chunk in batched(rows, 1000):
                Contact.objects.bulk_create(
                    Contact(
                        customer_id=customer_ids[code],
                        name=name,
                        title=title,
                        mobile=number,
                        email=email,
                        is_primary=primary == "是",
                    )
                    for code, name, title, number, email, primary in chunk
                )
    return time.perf_counter() - start


def dashboard_import(customers_csv, contacts_csv):
    """Both files through the import job's services; seconds per phase and per file."""
    seconds = {}
    for kind, path in (("customers", customers_csv), ("contacts", contacts_csv)):
        phases = run_job(kind, path)
        seconds[kind] = sum(phases.values())
        seconds |= {f"{kind}: {phase}": t for phase, t in phases.items()}
    return seconds


def run_job(kind, path):
    """Upload → count → check (task) → confirm → import (task), as the job pages drive it."""
    from django.core.files import File

    from customers import imports
    from customers.models import ImportJob

    user = bench_user()
    phases = {}
    with path.open("rb") as f:
        stored = imports.keep_upload(File(f, name=path.name))
    with timed(phases, "count + check"):
        rows = imports.count_rows(path.name, stored)
        job = imports.start_import_job(user, kind, path.name, stored, rows)
    job.refresh_from_db()
    if job.state != ImportJob.State.CHECKED or job.bad_rows:
        problems = job.report.get("problems", [])[:5]
        sys.exit(f"The check of {path.name} failed: {job.state} {job.error} {problems}")
    with timed(phases, "import"):
        imports.confirm_import_job(job)
    job.refresh_from_db()
    if job.state != ImportJob.State.DONE:
        sys.exit(f"The import of {path.name} failed: {job.state} {job.error}")
    return phases


@contextmanager
def timed(phases, name):
    start = time.perf_counter()
    yield
    phases[name] = time.perf_counter() - start


def measure_memory(customers_csv, contacts_csv):
    """(tracemalloc peak, peak RSS growth) in bytes while both files are imported.

    The RSS is measured in a run of its own: tracemalloc's bookkeeping would add to it.
    """
    gc.collect()
    rss_before = _reset_peak_rss()
    dashboard_import(customers_csv, contacts_csv)
    rss = max(0, _peak_rss() - rss_before)
    empty_tables()
    gc.collect()
    tracemalloc.start()
    try:
        dashboard_import(customers_csv, contacts_csv)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, rss


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux: clear_refs 5); returns the current RSS."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS") * 1024


def _peak_rss():
    return _status_kib("VmHWM") * 1024


def _status_kib(key):
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
