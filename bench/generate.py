"""A realistic data set for the ticket benchmark, written with PostgreSQL COPY.

Master data once: regions and service points, ~200 engineers and the office staff, product lines
and models, problem types, 100,000 customers with a contact each, ~150,000 units and ~30,000
maintenance plans. Then
tickets, in batches up to the size asked for. The first batch carries today's workload (some
thousands open in each open state, all recent: every engineer has 20 open jobs) and finished
history over three years; later batches add finished history only, because a service
department's archive grows while its open workload does not. Every ticket has its transition
rows, visits and revisit calls as the services would have written them, and one ticket has a
timeline of 50 events for the detail page.

    python -m bench.generate --tickets 100000 --fresh
    python -m bench.generate --tickets 1000000        # adds the 900,000 missing ones

The database must be a dedicated one: its name has to contain "bench" (the developers' and the
test databases are never touched). What the benchmark needs to find again (users, the timeline
ticket, a phone and a serial number to search for) is written to bench/out/dataset-<db>.json.
"""

import argparse
import base64
import json
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftersales_bench_tickets"

SEED = 20261123
CUSTOMERS = 100_000
UNITS = 150_000
ENGINEERS = 200
HISTORY_DAYS = 3 * 365
BATCH = 50_000
# Today's workload: tickets per open state, plus closed ones awaiting verification. Assigned and
# in-service tickets go round-robin to the engineers: 2,400 + 1,600 = 20 open jobs each.
WORKLOAD = {
    "pending_assignment": 2000,
    "suspended": 800,
    "assigned": 2400,
    "in_service": 1600,
    "processed": 2000,
    "locked": 300,
    "closed": 3000,
}
# How many days ago tickets in each state were entered (their flow fits before today).
WINDOWS = {
    "pending_assignment": (0, 3),
    "suspended": (1, 30),
    "assigned": (0.2, 3),
    "in_service": (2.5, 5),
    "processed": (3, 12),
    "locked": (6, 30),
    "closed": (6, 20),
    "verified": (14, HISTORY_DAYS),
    "cancelled": (1, HISTORY_DAYS),
}
CANCELLED_SHARE = 0.08
TIMELINE_EVENTS = 50

SHANGHAI = ZoneInfo("Asia/Shanghai")

REGIONS = {
    "华东": [("上海", "21"), ("杭州", "571"), ("南京", "25"), ("苏州", "512"), ("宁波", "574")],
    "华南": [("广州", "20"), ("深圳", "755"), ("厦门", "592"), ("福州", "591"), ("南宁", "771")],
    "华北": [("北京", "10"), ("天津", "22"), ("石家庄", "311"), ("济南", "531"), ("青岛", "532")],
    "华中": [("武汉", "27"), ("长沙", "731"), ("郑州", "371"), ("南昌", "791")],
    "西南": [("成都", "28"), ("重庆", "23"), ("昆明", "871"), ("贵阳", "851")],
    "西北": [("西安", "29"), ("兰州", "931"), ("乌鲁木齐", "991")],
    "东北": [("沈阳", "24"), ("大连", "411"), ("长春", "431"), ("哈尔滨", "451")],
}
# Area codes whose local numbers have seven digits, not eight.
SEVEN_DIGIT_CITIES = {"592", "771", "931", "991"}
SECOND_POINT = {"上海", "北京", "广州", "深圳"}
PRODUCT_LINES = [
    ("WP", "商用净水设备"),
    ("IM", "商用制冰机"),
    ("RF", "商用冷柜"),
    ("CM", "商用咖啡机"),
    ("DW", "商用洗碗机"),
    ("AP", "空气净化设备"),
    ("WH", "商用热水器"),
    ("KE", "厨房设备"),
]
# Problem types, each with the product lines it applies to (none: every line).
PROBLEMS = [
    ("不制冷", ["IM", "RF"]),
    ("漏水", ["WP", "IM", "RF", "CM", "DW", "WH"]),
    ("不通电", []),
    ("噪音大", []),
    ("显示故障代码", []),
    ("出水慢", ["WP", "CM", "WH"]),
    ("滤芯到期", ["WP", "IM", "CM", "AP"]),
    ("制冰少", ["IM"]),
    ("温度异常", ["IM", "RF", "CM", "DW", "WH"]),
    ("门封损坏", ["IM", "RF", "DW"]),
    ("压缩机故障", ["IM", "RF"]),
    ("电路板故障", []),
    ("传感器故障", []),
    ("水泵故障", ["WP", "IM", "CM", "DW"]),
    ("加热不良", ["CM", "DW", "WH", "KE"]),
    ("有异味", ["WP", "IM", "RF", "AP"]),
    ("安装调试", []),
    ("定期保养", []),
    ("移机", []),
    ("操作咨询", []),
    ("配件更换", []),
    ("漏电保护跳闸", []),
    ("面板失灵", []),
    ("排水不畅", ["WP", "IM", "DW"]),
    ("结冰", ["RF"]),
    ("风扇不转", ["RF", "AP", "KE"]),
    ("指示灯异常", []),
    ("管路堵塞", ["WP", "IM", "CM", "DW"]),
    ("外观损坏", []),
    ("其他", []),
]
TRADES = [
    "明辉",
    "华瑞",
    "鑫源",
    "恒通",
    "永盛",
    "金桥",
    "海纳",
    "天盛",
    "宏达",
    "瑞丰",
    "嘉禾",
    "润泽",
    "百川",
    "远航",
    "新元",
    "东方",
    "同创",
    "德信",
    "中联",
    "优品",
    "锦江",
    "绿源",
    "阳光",
    "星河",
    "恒大",
    "盛世",
    "康达",
    "万家",
    "福满",
    "悦来",
]
INDUSTRIES = [
    "食品",
    "餐饮管理",
    "酒店管理",
    "咖啡",
    "烘焙",
    "超市",
    "便利店",
    "物业管理",
    "医院",
    "学校后勤",
    "健身",
    "茶饮",
    "连锁餐饮",
    "冷链物流",
    "商贸",
    "电子科技",
    "精密机械",
    "生物科技",
    "养老服务",
    "文化传媒",
]
MOBILE_PREFIXES = [
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "158",
    "159",
    "186",
    "187",
    "188",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = [
    "伟",
    "敏",
    "静",
    "强",
    "磊",
    "丽",
    "军",
    "婷",
    "洋",
    "芳",
    "建国",
    "晓燕",
    "志强",
    "雪梅",
    "海峰",
    "丽华",
    "俊杰",
    "秀英",
    "明",
    "浩",
    "宇",
    "欣",
    "悦",
]
ROADS = [
    "中山路",
    "人民路",
    "解放路",
    "建设路",
    "和平路",
    "长江路",
    "黄河路",
    "滨江大道",
    "科技园路",
    "工业大道",
]
DESCRIPTIONS = [
    "设备不制冷，显示故障代码 E4",
    "机器底部漏水，地面有积水",
    "开机无反应，指示灯不亮",
    "运行时噪音很大，有异响",
    "出水量明显变小",
    "制冰量不足，冰块很小",
    "温度显示异常，忽高忽低",
    "门封条破损，柜门关不严",
    "需要年度保养，请安排工程师",
    "新设备到货，需要安装调试",
    "店面搬迁，需要移机",
    "滤芯提示到期，需要更换",
    "跳闸，插上电源后漏电保护器断开",
    "面板按键失灵",
    "排水不畅，水槽积水",
]
WORK_DONE = [
    "更换压缩机启动电容，试机正常",
    "更换进水电磁阀，检查管路无渗漏",
    "清洗冷凝器，补充制冷剂",
    "更换主控板，恢复出厂设置后试机正常",
    "更换滤芯三支，冲洗后水质合格",
    "调整门铰链，更换门封条",
    "疏通排水管，清理积垢",
    "完成年度保养：清洁、紧固、检测",
]
PARTS = ["压缩机电容", "进水电磁阀", "主控板", "门封条", "滤芯", "温度传感器", "水泵", "风扇电机"]
REASONS = {
    "suspend": ["客户出差，下周再约", "等待客户确认费用", "店面装修，暂停服务"],
    "cancel": ["客户撤回", "重复报修", "客户已自行解决"],
    "not_resolved": ["缺少备件", "需要厂家技术支持", "客户现场不具备维修条件"],
    "decline": ["不在服务范围", "当天排满，无法上门"],
}
WEIGHTED = {
    "service_type": (
        ["repair", "maintenance", "installation", "inspection", "return_repair", "consultation"],
        [55, 15, 12, 8, 5, 5],
    ),
    "priority": (["urgent", "high", "normal", "low"], [5, 15, 65, 15]),
    "channel": (["phone", "portal", "qr", "wechat", "email", "api"], [50, 10, 15, 20, 3, 2]),
}


def configure(database_url=None):
    """Point Django at the bench database and set it up (the process's first Django call)."""
    url = database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    check_bench_url(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", base64.urlsafe_b64encode(os.urandom(48)).decode())
    os.environ.setdefault("AXES_ENABLED", "False")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    return url


def check_bench_url(url):
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"The benchmark needs PostgreSQL, not {parts.scheme!r}.")
    if "bench" not in name:
        raise SystemExit(f"Refusing database {name!r}: a bench database's name contains 'bench'.")
    return name


def create_database(url, fresh=False):
    """Create the bench database if missing (dropped first with `fresh`)."""
    import psycopg

    name = check_bench_url(url)
    admin = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        quoted = psycopg.sql.Identifier(name)
        if fresh:
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(quoted))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(quoted))
            return True
    return False


_migrated = set()


def migrate():
    """Once per database and process: the models in memory must stay those the schema was
    migrated to (bench.tickets fills one database per size)."""
    from django.core.management import call_command
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if name not in _migrated:
        call_command("migrate", verbosity=0, interactive=False)
        _migrated.add(name)


# --- Writing rows ------------------------------------------------------------------------------


class Copier:
    """COPY rows into a model's table; columns not given get the model field's default."""

    def __init__(self, connection):
        connection.ensure_connection()
        self.django_connection = connection
        self.pg = connection.connection

    def copy(self, model, columns, rows):
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        # Columns another migration may have added since: their defaults, converted once.
        extra = [
            f
            for column, f in fields.items()
            if column not in columns and not f.primary_key and not f.has_db_default()
        ]
        tail = tuple(f.get_db_prep_save(f.get_default(), self.django_connection) for f in extra)
        names = ", ".join(f'"{c}"' for c in [*columns, *(f.column for f in extra)])
        count = 0
        sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"
        with self.pg.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row + tail if tail else row)
                count += 1
        if not self.pg.autocommit:
            self.pg.commit()
        return count

    def execute(self, sql, params=None):
        with self.pg.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else None


def _token(rng, n=16):
    return base64.urlsafe_b64encode(rng.randbytes(n)).rstrip(b"=").decode()


def _person(n):
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]


def _scrambled(n, digits):
    """`n`'s place in a fixed shuffle of the numbers of `digits` digits: one per n, with
    digits that look random, so that a search for a part of a phone number meets the trigram
    statistics of real numbers rather than one prefix that every number shares."""
    return f"{n * 7_919_993 % 10**digits:0{digits}d}"


def _mobile(n):
    return MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)] + _scrambled(n, 8)


def _fix_sequences(copier, models):
    for model in models:
        table = model._meta.db_table
        copier.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT max(id) FROM {table}), 1))"
        )


# --- Master data -------------------------------------------------------------------------------


def ensure_master_data(rng, now):
    """Organisation, people, products and customers, created once per database."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection

    from aftersales.lib.phones import phone_digits
    from aftersales.models import EngineerProfile, ProductLine, Region, ServicePoint, User
    from aftersales.roles import Role
    from customers.models import Contact, Customer, Equipment, ProductModel
    from tickets.models import ProblemType

    if User.objects.filter(username="engineer001").exists():
        return False

    regions, cities = {}, []
    for i, (area, towns) in enumerate(REGIONS.items()):
        parent = Region.objects.create(code=f"B{i:02d}", name=f"{area}大区")
        for j, (town, phone_code) in enumerate(towns):
            region = Region.objects.create(code=f"B{i:02d}{j:02d}", name=town, parent=parent)
            regions[town] = region
            cities.append((town, phone_code, region))

    points = []
    for town, phone_code, region in cities:
        for k in range(2 if town in SECOND_POINT else 1):
            n = len(points) + 1
            points.append(
                ServicePoint(
                    code=f"SP{n:03d}",
                    name=f"{town}{'第二' if k else ''}服务站",
                    region=region,
                    address=f"{town}市{ROADS[n % len(ROADS)]}{n * 7}号",
                    phone=f"0{phone_code}-6{n:07d}",
                )
            )
    points = ServicePoint.objects.bulk_create(points)

    password = make_password("bench-Pa55word")
    people = [("dispatcher", 10, Role.DISPATCHER), ("revisit", 8, Role.REVISIT_AGENT)]
    people += [("manager", 4, Role.SERVICE_MANAGER), ("engineer", ENGINEERS, Role.ENGINEER)]
    users, memberships = [], []
    for prefix, count, role in people:
        width = 3 if prefix == "engineer" else 2
        for k in range(1, count + 1):
            n = len(users)
            name = _person(n + 7)
            users.append(
                User(
                    username=f"{prefix}{k:0{width}d}",
                    password=password,
                    last_name=name[0],
                    first_name=name[1:],
                    display_name=name,
                    mobile=f"136{n:08d}",
                    date_joined=now - timedelta(days=1200),
                )
            )
            memberships.append(role)
    users = User.objects.bulk_create(users)
    groups = {g.name: g for g in Group.objects.all()}
    Membership = User.groups.through
    Membership.objects.bulk_create(
        Membership(user_id=u.pk, group_id=groups[role.value].pk)
        for u, role in zip(users, memberships, strict=True)
    )
    lines = ProductLine.objects.bulk_create(
        ProductLine(code=code, name=name) for code, name in PRODUCT_LINES
    )
    engineers = [u for u in users if u.username.startswith("engineer")]
    profiles = EngineerProfile.objects.bulk_create(
        EngineerProfile(
            user=u,
            employee_no=f"E{k + 1:04d}",
            phone=f"137{k:08d}",
            service_point=points[k % len(points)],
            level=1 + k % 4,
            availability="on_leave" if k % 25 == 24 else "on_duty",
        )
        for k, u in enumerate(engineers)
    )
    Skill = EngineerProfile.skills.through
    Skill.objects.bulk_create(
        Skill(engineerprofile_id=p.pk, productline_id=lines[(k + s) % len(lines)].pk)
        for k, p in enumerate(profiles)
        for s in range(1 + k % 3)
    )
    models = ProductModel.objects.bulk_create(
        ProductModel(
            line=line,
            code=f"{line.code}-{100 + 10 * m}",
            name=f"{line.name} {m + 1}型",
            warranty_months=[12, 24, 36][m % 3],
        )
        for line in lines
        for m in range(15)
    )
    problems = ProblemType.objects.bulk_create(
        ProblemType(code=f"P{k + 1:02d}", name=name) for k, (name, _lines) in enumerate(PROBLEMS)
    )
    line_of = {line.code: line for line in lines}
    ProblemLine = ProblemType.product_lines.through
    ProblemLine.objects.bulk_create(
        ProblemLine(problemtype_id=problem.pk, productline_id=line_of[code].pk)
        for problem, (_name, codes) in zip(problems, PROBLEMS, strict=True)
        for code in codes
    )

    copier = Copier(connection)
    # Customers 1..N (ids given, so that contacts and units can point at them).
    customer_rows, contact_rows = [], []
    for i in range(1, CUSTOMERS + 1):
        town, phone_code, region = cities[i % len(cities)]
        individual = i % 7 == 0
        if individual:
            name = _person(i) + ("先生" if i % 2 else "女士")
        else:
            trade = TRADES[(i // len(cities)) % len(TRADES)]
            industry = INDUSTRIES[(i // (len(cities) * len(TRADES))) % len(INDUSTRIES)]
            rank = i // (len(cities) * len(TRADES) * len(INDUSTRIES))
            name = f"{town}{trade}{industry}有限公司" + (f"第{rank + 1}分公司" if rank else "")
        level = "strategic" if i % 50 == 0 else "vip" if i % 12 == 0 else "regular"
        created = now - timedelta(days=HISTORY_DAYS + 30 + i % 700, seconds=i)
        local = f"{2 + i % 6}{_scrambled(i, 7)}"
        phone = f"+86{phone_code}{local[:7] if phone_code in SEVEN_DIGIT_CITIES else local}"
        customer_rows.append(
            (
                i,
                f"C{i:07d}",
                name,
                "individual" if individual else "company",
                level,
                region.pk,
                f"{town}市{ROADS[i % len(ROADS)]}{i % 997 + 1}号",
                phone,
                phone_digits(phone),
                "",
                created,
                created,
            )
        )
        contact_rows.append(
            (i, i, _person(i * 31), "设备主管", _mobile(i), "", True),
        )
    copier.copy(
        Customer,
        [
            "id",
            "code",
            "name",
            "kind",
            "level",
            "region_id",
            "address",
            "phone",
            "phone_digits",
            "notes",
            "created_at",
            "updated_at",
        ],
        customer_rows,
    )
    copier.copy(
        Contact,
        ["id", "customer_id", "name", "title", "mobile", "email", "is_primary"],
        contact_rows,
    )
    unit_rows = []
    for j in range(UNITS):
        customer = j % CUSTOMERS + 1
        model = models[rng.randrange(len(models))]
        bought = (now - timedelta(days=rng.randrange(30, 5 * 365))).date()
        end = _add_months(bought, model.warranty_months) - timedelta(days=1)
        unit_rows.append(
            (
                j + 1,
                f"{model.line.code}{bought:%y}{j + 1:07d}",
                model.pk,
                customer,
                customer_rows[customer - 1][6],
                bought + timedelta(days=3),
                bought,
                end,
                "scrapped" if j % 97 == 0 else "in_use",
                _token(rng),
                datetime.combine(bought, datetime.min.time(), tzinfo=SHANGHAI),
            )
        )
    copier.copy(
        Equipment,
        [
            "id",
            "serial_no",
            "product_model_id",
            "customer_id",
            "install_address",
            "install_date",
            "purchase_date",
            "warranty_end",
            "status",
            "qr_token",
            "created_at",
        ],
        unit_rows,
    )
    _fix_sequences(copier, [Customer, Contact, Equipment])
    return True


# Maintenance plans (the plan list's pages): one unit in PLAN_EVERY (drawn) has one, and so do
# the units of the first customers (the benchmark's customer 3 among them).
PLAN_EVERY = 5
PLAN_KINDS = [
    ("maintenance", "季度保养", None, 3),
    ("consumables", "滤芯更换", None, 6),
    ("maintenance", "年度保养", None, 12),
    ("inspection", "半月巡检", 15, None),
]


def ensure_maintenance_plans(rng, now):
    """Maintenance plans on ~30,000 units, carried out by a service point of the customer's
    city, next due over the coming year (a few overdue, a few deactivated); once per database
    (also in a database generated before plans had pages)."""
    from django.db import connection

    from aftersales.models import ServicePoint
    from customers.models import Equipment, MaintenancePlan

    if MaintenancePlan.objects.exists():
        return 0
    points = {}
    for pk, region in ServicePoint.objects.order_by("pk").values_list("pk", "region_id"):
        points.setdefault(region, []).append(pk)
    units = Equipment.objects.filter(status="in_use").order_by("pk")
    today = now.astimezone(SHANGHAI).date()
    rows = []
    for unit, customer, region in units.values_list("pk", "customer_id", "customer__region_id"):
        if rng.random() >= 1 / PLAN_EVERY and customer > 10:
            continue
        kind, name, days, months = rng.choice(PLAN_KINDS)
        overdue = rng.random() < 0.01
        ahead = -rng.randint(1, 5) if overdue else rng.randint(1, 365)
        next_date = today + timedelta(days=ahead)
        interval = timedelta(days=days) if days else timedelta(days=30 * months)
        rows.append(
            (
                len(rows) + 1,
                f"{name} {unit}",
                kind,
                unit,
                None,
                days,
                months,
                next_date,
                7,
                next_date - timedelta(days=7),
                "normal",
                rng.random() > 0.05,
                rng.choice(points[region]),
                next_date - interval,
            )
        )
    copier = Copier(connection)
    copier.copy(
        MaintenancePlan,
        [
            "id",
            "name",
            "kind",
            "equipment_id",
            "agreement_id",
            "interval_days",
            "interval_months",
            "next_date",
            "lead_days",
            "create_on",
            "priority",
            "active",
            "service_point_id",
            "last_date",
        ],
        rows,
    )
    _fix_sequences(copier, [MaintenancePlan])
    return len(rows)


def _add_months(day, months):
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))


# --- Tickets -----------------------------------------------------------------------------------


class World:
    """What ticket rows point at, read back from the database."""

    def __init__(self):
        from aftersales.lib.phones import phone_digits
        from aftersales.models import User
        from customers.models import Contact, Equipment, ProductModel
        from tickets.models import ProblemType

        # (customer, contact, name, mobile, the mobile's digits as the searches compare them,
        # address): a ticket's contact_phone and contact_phone_digits.
        self.customers = [
            (customer, contact, name, mobile, phone_digits(mobile), address)
            for customer, contact, name, mobile, address in Contact.objects.filter(is_primary=True)
            .order_by("customer_id")
            .values_list("customer_id", "pk", "name", "mobile", "customer__address")
        ]
        self.units = {}
        for pk, customer_id, model_id in Equipment.objects.order_by("pk").values_list(
            "pk", "customer_id", "product_model_id"
        ):
            self.units.setdefault(customer_id, []).append((pk, model_id))
        staff = dict.fromkeys(["dispatcher", "revisit", "manager", "engineer"], None)
        for prefix in staff:
            staff[prefix] = list(
                User.objects.filter(username__startswith=prefix)
                .order_by("username")
                .values_list("pk", flat=True)
            )
        self.dispatchers = staff["dispatcher"]
        self.agents = staff["revisit"]
        self.managers = staff["manager"]
        self.engineers = staff["engineer"]
        self.point_of = dict(
            User.objects.filter(pk__in=self.engineers).values_list(
                "pk", "engineer_profile__service_point_id"
            )
        )
        # The problem types a ticket may have, per product model (a unit's problem fits its
        # line) and for tickets without a unit (None: every type).
        problems = list(ProblemType.objects.order_by("pk").values_list("pk", flat=True))
        lines_of = {}
        for problem, line in ProblemType.product_lines.through.objects.values_list(
            "problemtype_id", "productline_id"
        ):
            lines_of.setdefault(problem, set()).add(line)
        by_line = {}
        self.problems = {None: problems}
        for model, line in ProductModel.objects.values_list("pk", "line_id"):
            if line not in by_line:
                by_line[line] = [p for p in problems if line in lines_of.get(p, {line})]
            self.problems[model] = by_line[line]


TICKET_COLUMNS = [
    "id",
    "number",
    "customer_id",
    "contact_id",
    "contact_name",
    "contact_phone",
    "contact_phone_digits",
    "address",
    "equipment_id",
    "product_id",
    "service_type",
    "problem_type_id",
    "description",
    "analysis",
    "priority",
    "channel",
    "requested_date",
    "service_point_id",
    "engineer_id",
    "state",
    "round",
    "unresolved_rounds",
    "state_reason",
    "correction_requested",
    "correction_note",
    "version",
    "public_token",
    "created_by_id",
    "created_at",
    "updated_at",
    "assigned_at",
    "accepted_at",
    "checked_in_at",
    "processed_at",
    "closed_at",
    "verified_at",
    "locked_at",
    "cancelled_at",
]
TRANSITION_COLUMNS = ["ticket_id", "action", "source", "target", "actor_id", "at", "reason", "data"]
VISIT_COLUMNS = [
    "ticket_id",
    "engineer_id",
    "round",
    "checked_in_at",
    "latitude",
    "longitude",
    "finished_at",
    "work_done",
    "result",
    "labour_hours",
    "labour_fee",
    "travel_fee",
    "other_fee",
    "charge",
    "signature",
]
REVISIT_COLUMNS = ["ticket_id", "agent_id", "at", "outcome", "score", "comment"]
HOURS = [Decimal(h) for h in ("0.5", "1.0", "1.5", "2.0", "3.0")]
FEES = [Decimal(f) for f in ("0", "80", "120", "200", "350")]
TRAVEL = [Decimal(f) for f in ("0", "30", "50", "80")]
ZERO = Decimal("0")


class TicketMaker:
    """Builds one ticket with its transition, visit and revisit rows, as the services would."""

    def __init__(self, world, rng, now, numbers):
        self.w, self.rng, self.now, self.numbers = world, rng, now, numbers
        self.choices = {
            key: (values, list(_cumulative(weights))) for key, (values, weights) in WEIGHTED.items()
        }
        self.transitions, self.visits, self.revisits = [], [], []

    def pick(self, key):
        values, cum = self.choices[key]
        return self.rng.choices(values, cum_weights=cum)[0]

    def number(self, created):
        day = created.astimezone(SHANGHAI).date()
        last = self.numbers.get(day, 0) + 1
        self.numbers[day] = last
        return f"SR{day:%Y%m%d}-{last:04d}"

    def later(self, t, low_hours, high_hours):
        t = t + timedelta(hours=self.rng.uniform(low_hours, high_hours))
        return min(t, self.now - timedelta(minutes=1))

    def make(self, pk, state, created, engineer=None):
        rng, w = self.rng, self.w
        customer_id, contact_id, contact_name, mobile, digits, address = w.customers[
            int(len(w.customers) * rng.random() ** 2)
        ]
        unit = product = None
        units = w.units.get(customer_id)
        if units and rng.random() < 0.8:
            unit, product = units[rng.randrange(len(units))]
        dispatcher = w.dispatchers[rng.randrange(len(w.dispatchers))]
        if engineer is None and state not in ("pending_assignment", "suspended", "cancelled"):
            engineer = w.engineers[rng.randrange(len(w.engineers))]
        row = {
            "round": 0,
            "unresolved_rounds": 0,
            "state_reason": "",
            "analysis": "",
            "engineer_id": None,
            "service_point_id": None,
        }
        stamps = dict.fromkeys(
            [
                "assigned_at",
                "accepted_at",
                "checked_in_at",
                "processed_at",
                "closed_at",
                "verified_at",
                "locked_at",
                "cancelled_at",
            ]
        )
        log = [("enter", "", "pending_assignment", dispatcher, created, "", "{}")]
        t = created

        def step(action, source, target, actor, low, high, reason="", data="{}"):
            nonlocal t
            t = self.later(t, low, high)
            log.append((action, source, target, actor, t, reason, data))
            return t

        if state == "suspended":
            reason = rng.choice(REASONS["suspend"])
            step("suspend", "pending_assignment", "suspended", dispatcher, 0.2, 3, reason)
            row["state_reason"] = reason
        elif state == "cancelled":
            reason = rng.choice(REASONS["cancel"])
            stamps["cancelled_at"] = step(
                "cancel", "pending_assignment", "cancelled", dispatcher, 0.2, 24, reason
            )
            row["state_reason"] = reason
        elif state == "locked":
            for rnd in (1, 2):
                stamps["assigned_at"] = step(
                    "assign", "pending_assignment", "assigned", dispatcher, 0.5, 6
                )
                checked = step("check_in", "assigned", "in_service", engineer, 2, 30)
                reason = rng.choice(REASONS["not_resolved"])
                target = "locked" if rnd == 2 else "pending_assignment"
                done = step("not_resolved", "in_service", target, engineer, 0.5, 3, reason)
                self.visit(pk, engineer, rnd, checked, done, "unresolved")
            row.update(round=2, unresolved_rounds=2, state_reason=reason)
            stamps["assigned_at"] = None
            stamps["locked_at"] = t
            row["service_point_id"] = w.point_of[engineer]
        elif state != "pending_assignment":
            row["round"] = 1
            row["engineer_id"] = engineer
            row["service_point_id"] = w.point_of[engineer]
            stamps["assigned_at"] = step(
                "assign", "pending_assignment", "assigned", dispatcher, 0.3, 4
            )
            if state == "assigned":
                if rng.random() < 0.6:
                    stamps["accepted_at"] = step("accept", "assigned", "assigned", engineer, 0.1, 1)
            else:
                stamps["checked_in_at"] = checked = step(
                    "check_in", "assigned", "in_service", engineer, 2, 40
                )
                stamps["accepted_at"] = checked
                if state == "in_service":
                    self.visit(pk, engineer, 1, checked, None, "")
                else:
                    stamps["processed_at"] = done = step(
                        "resolve", "in_service", "processed", engineer, 0.5, 4
                    )
                    self.visit(pk, engineer, 1, checked, done, "resolved")
                    row["analysis"] = "现场检查确认故障点，已处理。"
            if state in ("closed", "verified"):
                agent = w.agents[rng.randrange(len(w.agents))]
                score = 5 if rng.random() < 0.7 else 4
                stamps["closed_at"] = called = step(
                    "close_satisfied",
                    "processed",
                    "closed",
                    agent,
                    4,
                    72,
                    data=f'{{"outcome": "satisfied", "score": {score}}}',
                )
                self.revisits.append((pk, agent, called, "satisfied", score, ""))
            if state == "verified":
                manager = w.managers[rng.randrange(len(w.managers))]
                stamps["verified_at"] = step("verify", "closed", "verified", manager, 24, 120)
        for action, source, target, actor, at, reason, data in log:
            self.transitions.append((pk, action, source, target, actor, at, reason, data))
        requested = None
        if rng.random() < 0.7:
            requested = created.astimezone(SHANGHAI).date() + timedelta(days=rng.randrange(6))
        problem = None
        if rng.random() < 0.85:
            fitting = w.problems[product]
            problem = fitting[int(len(fitting) * rng.random() ** 1.5)]
        return (
            pk,
            self.number(created),
            customer_id,
            contact_id,
            contact_name,
            mobile,
            digits,
            address,
            unit,
            product,
            self.pick("service_type"),
            problem,
            DESCRIPTIONS[rng.randrange(len(DESCRIPTIONS))],
            row["analysis"],
            self.pick("priority"),
            self.pick("channel"),
            requested,
            row["service_point_id"],
            row["engineer_id"],
            state,
            row["round"],
            row["unresolved_rounds"],
            row["state_reason"],
            False,
            "",
            len(log),
            _token(rng),
            dispatcher,
            created,
            t,
            stamps["assigned_at"],
            stamps["accepted_at"],
            stamps["checked_in_at"],
            stamps["processed_at"],
            stamps["closed_at"],
            stamps["verified_at"],
            stamps["locked_at"],
            stamps["cancelled_at"],
        )

    def visit(self, ticket_id, engineer, rnd, checked, finished, result):
        rng = self.rng
        finished_row = result != ""
        self.visits.append(
            (
                ticket_id,
                engineer,
                rnd,
                checked,
                None,
                None,
                finished,
                WORK_DONE[rng.randrange(len(WORK_DONE))] if finished_row else "",
                result,
                HOURS[rng.randrange(len(HOURS))] if finished_row else ZERO,
                FEES[rng.randrange(len(FEES))] if finished_row else ZERO,
                TRAVEL[rng.randrange(len(TRAVEL))] if finished_row else ZERO,
                ZERO,
                "warranty" if rng.random() < 0.4 else "charged",
                "",
            )
        )

    def flush(self, copier):
        from tickets.models import Revisit, TicketTransition, Visit

        copier.copy(TicketTransition, TRANSITION_COLUMNS, self.transitions)
        copier.copy(Visit, VISIT_COLUMNS, self.visits)
        copier.copy(Revisit, REVISIT_COLUMNS, self.revisits)
        self.transitions, self.visits, self.revisits = [], [], []


def _cumulative(weights):
    total = 0
    for weight in weights:
        total += weight
        yield total


def _plans(count, workload, rng, now):
    """(state, created_at) of `count` new tickets, oldest first."""
    plans = []
    for state, n in workload.items():
        plans += [(state, _ago(now, WINDOWS[state], rng)) for _ in range(n)]
    for _ in range(count - len(plans)):
        state = "cancelled" if rng.random() < CANCELLED_SHARE else "verified"
        plans.append((state, _ago(now, WINDOWS[state], rng)))
    plans.sort(key=lambda p: p[1])
    return plans


def _ago(now, window, rng):
    low, high = window
    t = now - timedelta(days=rng.uniform(low, high))
    # Requests come in during the day (08:00–20:00 in China).
    local = t.astimezone(SHANGHAI)
    hour = 8 + (local.hour * 60 + local.minute) % 720 / 60
    return local.replace(hour=int(hour), minute=int(hour * 60) % 60)


def add_tickets(target, rng, now, log=print):
    """Add tickets until the table holds `target` (the first batch also brings the workload)."""
    from django.db import connection
    from django.db.models import Max

    from tickets.models import Ticket, TicketSequence

    existing = Ticket.objects.count()
    if existing >= target:
        return 0
    workload = {}
    if not Ticket.objects.filter(state="in_service").exists():
        scale = min(1.0, target / 100_000)
        workload = {state: int(n * scale) for state, n in WORKLOAD.items()}
    world = World()
    numbers = dict(TicketSequence.objects.values_list("day", "last"))
    maker = TicketMaker(world, rng, now, numbers)
    copier = Copier(connection)
    # Session-local bulk-load settings: foreign keys are checked by construction here, and the
    # rows are not worth a disk flush per commit.
    copier.execute("SET synchronous_commit = off")
    copier.execute("SET session_replication_role = replica")
    next_id = (Ticket.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    plans = _plans(target - existing, workload, rng, now)
    open_jobs = {"assigned": 0, "in_service": 0}
    started = time.monotonic()
    for offset in range(0, len(plans), BATCH):
        rows = []
        for state, created in plans[offset : offset + BATCH]:
            engineer = None
            if state in open_jobs:
                engineer = world.engineers[open_jobs[state] % len(world.engineers)]
                open_jobs[state] += 1
            rows.append(maker.make(next_id, state, created, engineer))
            next_id += 1
        copier.copy(Ticket, TICKET_COLUMNS, rows)
        maker.flush(copier)
        done = offset + len(rows)
        log(f"  tickets: {existing + done:,} ({time.monotonic() - started:.0f} s)")
    copier.execute("SET session_replication_role = origin")
    if workload:
        add_timeline_ticket(world, maker, next_id, rng, now, copier)
    _fix_sequences(copier, [Ticket])
    copier.execute(
        "INSERT INTO tickets_ticketsequence (day, last) SELECT * FROM unnest(%s::date[], %s::int[])"
        " ON CONFLICT (day) DO UPDATE SET last = GREATEST(tickets_ticketsequence.last,"
        " EXCLUDED.last)",
        [list(numbers), list(numbers.values())],
    )
    # The counters the ticket entry raises one by one.
    copier.execute(
        "UPDATE tickets_problemtype p SET ticket_count = c.n FROM (SELECT problem_type_id,"
        " count(*) n FROM tickets_ticket GROUP BY 1) c WHERE c.problem_type_id = p.id"
    )
    copier.execute(
        "UPDATE customers_productmodel p SET ticket_count = c.n FROM (SELECT product_id,"
        " count(*) n FROM tickets_ticket GROUP BY 1) c WHERE c.product_id = p.id"
    )
    return len(plans)


def add_timeline_ticket(world, maker, pk, rng, now, copier):
    """A ticket 20 days old whose timeline has 50 events: declines, rounds, revisits, a lock."""
    from tickets.models import PartLine, Revisit, Ticket, TicketTransition, Visit

    d, a, m = world.dispatchers[0], world.agents[0], world.managers[0]
    e1, e2 = world.engineers[0], world.engineers[1]
    P, S, A, D, L = "pending_assignment", "suspended", "assigned", "processed", "locked"
    I = "in_service"  # noqa: E741 (the states' initials keep the story readable)
    head = [("enter", "", P, d), ("suspend", P, S, d), ("resume", S, P, d)]
    story = [("assign", P, A, d), ("accept", A, A, e1), ("check_in", A, I, e1)]
    story += [("not_resolved", I, P, e1)]
    story += [("assign", P, A, d), ("accept", A, A, e1), ("check_in", A, I, e1)]
    story += [("resolve", I, D, e1), ("revisit_attempt", D, D, a), ("revisit_attempt", D, D, a)]
    story += [("reopen_unsatisfied", D, L, a), ("unlock", L, A, m), ("accept", A, A, e2)]
    revisit_outcomes = {"revisit_attempt": "unreachable", "reopen_unsatisfied": "unsatisfied"}
    extra = sum(1 for e in story if e[0] == "check_in" or e[0] in revisit_outcomes)
    # Pad with assignments the engineers declined, until transitions + visits + revisits = 50.
    padding = []
    while len(head) + len(padding) + len(story) + extra < TIMELINE_EVENTS - 1:
        padding += [("assign", P, A, d), ("decline", A, P, e2)]
    if len(head) + len(padding) + len(story) + extra < TIMELINE_EVENTS:
        story.append(("assign", A, A, d))  # reassigned to the first engineer
    events = head + padding + story
    created = now - timedelta(days=20)
    times, t = [], created
    for _ in events:
        times.append(t)
        t += timedelta(hours=rng.uniform(1, 6))
    row = list(maker.make(pk, P, created))
    maker.transitions.clear()
    values = {
        "state": A,
        "engineer_id": e1,
        "service_point_id": world.point_of[e1],
        "round": 3,
        "unresolved_rounds": 2,
        "version": len(events),
        "updated_at": times[-1],
        "assigned_at": times[-2],
        "accepted_at": None,
    }
    for column, value in values.items():
        row[TICKET_COLUMNS.index(column)] = value
    copier.copy(Ticket, TICKET_COLUMNS, [tuple(row)])
    TicketTransition.objects.bulk_create(
        TicketTransition(
            ticket_id=pk,
            action=action,
            source=source,
            target=target,
            actor_id=actor,
            at=times[i],
            reason=rng.choice(REASONS["decline"]) if action == "decline" else "",
        )
        for i, (action, source, target, actor) in enumerate(events)
    )
    checks = [i for i, e in enumerate(events) if e[0] == "check_in"]
    visits = Visit.objects.bulk_create(
        Visit(
            ticket_id=pk,
            engineer_id=e1,
            round=k,
            checked_in_at=times[i],
            finished_at=times[i + 1],
            work_done=WORK_DONE[k],
            result="resolved" if events[i + 1][0] == "resolve" else "unresolved",
            labour_hours=HOURS[k],
            labour_fee=FEES[k],
            travel_fee=TRAVEL[k],
        )
        for k, i in enumerate(checks, start=1)
    )
    PartLine.objects.bulk_create(
        PartLine(visit=v, name=PARTS[(v.round + n) % len(PARTS)], quantity=1 + n)
        for v in visits
        for n in range(2)
    )
    Revisit.objects.bulk_create(
        Revisit(
            ticket_id=pk,
            agent_id=a,
            at=times[i],
            outcome=revisit_outcomes[e[0]],
            score=2 if e[0] == "reopen_unsatisfied" else None,
            comment="" if e[0] == "revisit_attempt" else "两次上门仍未修好",
        )
        for i, e in enumerate(events)
        if e[0] in revisit_outcomes
    )


def vacuum(copier):
    """VACUUM ANALYZE the tables written: fresh statistics and the visibility map."""
    autocommit = copier.pg.autocommit
    copier.pg.autocommit = True
    for table in [
        "customers_customer",
        "customers_contact",
        "customers_equipment",
        "customers_maintenanceplan",
        "tickets_ticket",
        "tickets_tickettransition",
        "tickets_visit",
        "tickets_revisit",
        "tickets_partline",
        "tickets_ticketsequence",
        "aftersales_user",
    ]:
        copier.execute(f"VACUUM ANALYZE {table}")
    copier.pg.autocommit = autocommit


def dataset_file():
    """bench/out/dataset-<database>.json: one per bench database (other benchmarks reuse this
    generator in databases of their own)."""
    return OUT_DIR / f"dataset-{check_bench_url(os.environ['DATABASE_URL'])}.json"


def describe_dataset():
    """What the benchmark looks up: its users, the timeline ticket, search terms.

    The searches are for a busy regular customer (id 3: ~90 tickets at 100,000, ~1,000
    at 1,000,000) and one of its units, so that both sizes show a full first page and measure
    the same work. The contact's name is the first busy customer's with three characters, as
    a full name mostly has: a part of a name shorter than three characters has no trigram,
    and its search reads every customer (PostgreSQL's trigram indexes cannot serve it).
    """
    from customers.models import Contact, Equipment
    from tickets.models import Ticket

    timeline = Ticket.objects.order_by("-version").values_list("pk", flat=True)[0]
    job = (
        Ticket.objects.filter(engineer__username="engineer001", state="in_service")
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    customer = 3  # customer ids are 1..N, and the ticket generator favours the low ones
    return {
        "dispatcher": "dispatcher01",
        "engineer": "engineer001",
        "revisit": "revisit01",
        "manager": "manager01",
        "timeline_ticket": timeline,
        "engineer_job": job,
        "phone": Contact.objects.get(customer=customer, is_primary=True).mobile,
        "contact_name": next(
            name
            for name in Contact.objects.filter(is_primary=True)
            .order_by("customer_id")
            .values_list("name", flat=True)[:100]
            if len(name) >= 3
        ),
        "serial": Equipment.objects.filter(customer=customer).order_by("pk")[0].serial_no,
        "customer_code": f"C{customer:07d}",
    }


def generate(tickets, fresh=False, log=print):
    """Create and migrate the database if needed, and fill it up to `tickets` tickets.

    `configure()` must have run first (it points Django at the bench database).
    """
    from django.db import connection
    from django.utils import timezone

    created = create_database(os.environ["DATABASE_URL"], fresh=fresh)
    started = time.monotonic()
    migrate()
    now = timezone.now()
    if ensure_master_data(random.Random(SEED), now):
        log(f"  master data: {time.monotonic() - started:.0f} s")
    if plans := ensure_maintenance_plans(random.Random(SEED + 1), now):
        log(f"  {plans:,} maintenance plans")
    added = add_tickets(tickets, random.Random(SEED + tickets), now, log=log)
    vacuum(Copier(connection))
    from bench.knowledge import ensure_knowledge  # the knowledge base's articles and texts

    knowledge = ensure_knowledge(Copier(connection), log=log)
    seconds = time.monotonic() - started
    log(f"  {added:,} tickets added in {seconds:.0f} s ({'new' if created else 'existing'} db)")
    if created or added and not dataset_file().exists():
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        dataset_file().write_text(json.dumps(describe_dataset(), ensure_ascii=False, indent=2))
    return {"tickets_added": added, "seconds": round(seconds, 1), "knowledge": knowledge}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--database-url", default=None, help=f"default {DEFAULT_DATABASE_URL}")
    args = parser.parse_args(argv)
    configure(args.database_url)
    print(generate(args.tickets, fresh=args.fresh))


if __name__ == "__main__":
    main()
