"""The customers' demo data: product models, tags, customers with their contacts and equipment,
service agreements with their SLA targets, the default policy, and maintenance plans.

Planned like the organisation's (`aftersales.demo`): in memory from the one seeded generator,
then only missing rows are written. Contacts, tag links, SLA targets and covered equipment have
no natural key of their own: they are written together with the new customer or agreement they
belong to; a maintenance plan is known by its unit and name.

Keys never depend on the day the command runs. Dates do: they are planned against the fixed
day `ANCHOR` and moved to today, so the demo always has warranties and agreements that are
expired, running, and ending within the next 30 days.
"""

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from aftersales.demo import CITIES, CITY_NAMES, PRODUCT_LINES, DemoPlanner, SummaryRow, pairs
from aftersales.models import ProductLine, Region, ServicePoint

from .models import (
    EXPIRING_SOON_DAYS,
    Contact,
    Customer,
    Equipment,
    MaintenancePlan,
    Priority,
    ProductModel,
    ServiceAgreement,
    SlaTarget,
    Tag,
)

ANCHOR = date(2026, 11, 1)
FIRST_PURCHASE = date(2022, 1, 1)
CUSTOMER_COUNT = 220
AGREEMENT_CUSTOMERS = 60
MAINTENANCE_PLANS = 24


class Segment(NamedTuple):
    weight: int
    names: list  # patterns with {city}, {district}, {trade}
    suffix: str  # e-mail domain
    tags: list
    lines: dict  # product line -> weight
    units: tuple  # units per customer (min, max)
    title: str  # primary contact
    other_titles: list


Charging = ServiceAgreement.Charging
AType = ServiceAgreement.Type
Level = Customer.Level

# The tables below are data, laid out as tables: the formatter would put every item on a line.
# fmt: off

# --- Products -------------------------------------------------------------------------------

# line code -> models as (code, name, warranty months, also sold to households)
PRODUCT_MODELS = {
    "WP": [
        ("WP300", "家用反渗透净水器 RO-300G", 12, True),
        ("WP500", "厨下式净水器 RO-500G", 24, True),
        ("WP1000", "商用直饮水机 1000G", 24, False),
        ("WP3000", "商用中央净水设备 3T/H", 36, False),
    ],
    "AC": [
        ("AC35", "挂壁式变频空调 1.5匹", 36, True),
        ("AC72", "立柜式变频空调 3匹", 36, True),
        ("AC280", "商用多联机 10匹", 24, False),
        ("AC1200", "螺杆式冷水机组 350RT", 24, False),
    ],
    "EL": [
        ("EL1000", "乘客电梯 1000kg", 24, False),
        ("EL1600", "病床电梯 1600kg", 24, False),
        ("EL3000", "载货电梯 3000kg", 24, False),
        ("ES800", "自动扶梯 800mm", 24, False),
    ],
    "IND": [
        ("IND37", "螺杆空压机 37kW", 12, False),
        ("IND450", "数控车床 CK6150", 12, False),
        ("IND850", "立式加工中心 VMC850", 24, False),
        ("IND160", "伺服注塑机 160T", 12, False),
        ("IND500", "工业冷水机 50HP", 24, False),
    ],
    "MED": [
        ("MED200", "血液透析机 HD-200", 12, False),
        ("MED500", "彩色多普勒超声诊断仪", 24, False),
        ("MED700", "医用分子筛制氧机", 12, False),
        ("MED900", "全自动生化分析仪", 36, False),
    ],
}

# Where in the building a unit stands, per product line.
LOCATIONS = {
    "WP": ["一楼大厅", "员工餐厅", "后厨", "茶水间", "3楼开水间", "办公区"],
    "AC": ["办公区", "会议室", "机房", "大堂", "2层走廊"],
    "EL": ["1号楼 1号梯", "1号楼 2号梯", "2号楼 客梯", "A座 货梯", "裙楼 扶梯"],
    "IND": ["一号车间", "二号车间", "空压站", "装配线", "模具车间"],
    "MED": ["血透中心", "影像科", "检验科", "门诊楼3层", "住院部5层"],
}
HOME_LOCATIONS = {"WP": ["厨房", "厨房", "阳台"], "AC": ["客厅", "主卧", "次卧", "书房"]}

# --- Customers ------------------------------------------------------------------------------

# Trade names (字号) with their pinyin for e-mail domains.
TRADE_NAMES = pairs(
    "明辉 minghui 华瑞 huarui 鑫源 xinyuan 恒通 hengtong 永盛 yongsheng 金桥 jinqiao"
    " 海纳 haina 天盛 tiansheng 宏达 hongda 瑞丰 ruifeng 博远 boyuan 嘉禾 jiahe"
    " 锦程 jincheng 润泽 runze 东方 dongfang 康达 kangda 远航 yuanhang 信达 xinda"
    " 凯盛 kaisheng 中联 zhonglian 万隆 wanlong 华欣 huaxin 昌盛 changsheng 德润 derun"
    " 鼎盛 dingsheng 佳美 jiamei 星辰 xingchen 绿源 lvyuan 安泰 antai 祥和 xianghe"
    " 富春 fuchun 尚品 shangpin 百味 baiwei 禾丰 hefeng 宏图 hongtu 蓝海 lanhai"
    " 北辰 beichen 致远 zhiyuan 同创 tongchuang 精工 jinggong 华力 huali 盛世 shengshi"
    " 聚隆 julong 金鼎 jinding 海川 haichuan 仁和 renhe 康宁 kangning 育才 yucai"
)

# Kinds of company customers.
SEGMENTS = {
    "food": Segment(
        14, ["{city}{trade}食品有限公司", "{city}{trade}乳业有限公司"],
        "com.cn", [], {"WP": 3, "AC": 2, "IND": 2}, (3, 9), "设备主管", ["行政经理", "采购专员"]),
    "chain": Segment(
        16, ["{city}{trade}餐饮管理有限公司", "{city}{trade}便利连锁有限公司",
             "{trade}茶饮{city}分公司"],
        "com", ["连锁门店"], {"WP": 4, "AC": 3}, (4, 12), "店长", ["区域经理", "工程专员"]),
    "hospital": Segment(
        12, ["{city}市{district}人民医院", "{city}{trade}医院", "{city}{trade}口腔医院"],
        "org.cn", ["医院"], {"MED": 5, "WP": 2, "AC": 2, "EL": 2}, (6, 14),
        "设备科科长", ["后勤处主任", "工程师"]),
    "school": Segment(
        10, ["{city}市{district}实验中学", "{city}{trade}外国语学校",
             "{city}市{district}第二小学"],
        "edu.cn", ["学校"], {"WP": 4, "AC": 3, "EL": 1}, (4, 10), "后勤处主任", ["总务老师"]),
    "property": Segment(
        12, ["{city}{trade}物业管理有限公司", "{city}{trade}置业有限公司"],
        "com.cn", ["写字楼"], {"EL": 5, "AC": 3, "WP": 1}, (4, 12),
        "工程部经理", ["物业经理", "值班主管"]),
    "factory": Segment(
        14, ["{city}{trade}精密机械有限公司", "{city}{trade}电子科技有限公司",
             "{city}{trade}汽车零部件有限公司"],
        "com.cn", ["工厂"], {"IND": 6, "AC": 2, "WP": 1}, (5, 14),
        "设备部经理", ["车间主任", "采购经理"]),
    "hotel": Segment(
        8, ["{city}{trade}大酒店有限公司", "{city}{trade}国际酒店"],
        "com", ["酒店"], {"EL": 3, "AC": 3, "WP": 2}, (4, 10), "工程总监", ["前厅经理"]),
    "gov": Segment(
        4, ["{city}市{district}政务服务中心", "{city}市{district}图书馆"],
        "gov.cn", ["政府机关"], {"AC": 3, "EL": 2, "WP": 2}, (3, 8),
        "办公室主任", ["后勤科科员"]),
}
TAGS = ["重点客户", "医院", "学校", "连锁门店", "写字楼", "工厂", "酒店", "政府机关", "家庭用户"]
NOTES = [
    "设备间钥匙在保安室，上门前请先联系物业。",
    "周末不接受上门服务，请提前一天预约。",
    "开具增值税专用发票，抬头与客户名称一致。",
    "进场施工需提前一天报备，并办理临时出入证。",
    "营业时间 10:00–22:00，请避开午餐高峰上门。",
    "客户对服务响应速度要求高，派单优先安排资深工程师。",
]
HOME_NOTES = ["白天家中无人，请提前电话联系。", "小区需登记访客，上门前请告知车牌号。"]

# --- Agreements -----------------------------------------------------------------------------

CHARGING_CYCLE = [Charging.ANNUAL_FEE, Charging.HOURS_PARTS, Charging.PER_VISIT,
                  Charging.WARRANTY_FREE]
TYPES_FOR_CHARGING = {
    Charging.WARRANTY_FREE: [AType.WARRANTY, AType.EXTENDED],
    Charging.PER_VISIT: [AType.MAINTENANCE],
    Charging.HOURS_PARTS: [AType.MAINTENANCE, AType.FULL_SERVICE],
    Charging.ANNUAL_FEE: [AType.FULL_SERVICE, AType.MAINTENANCE, AType.EXTENDED],
}
TYPE_NAMES = {
    AType.WARRANTY: "保修服务协议", AType.MAINTENANCE: "维保合同",
    AType.FULL_SERVICE: "全包服务合同", AType.EXTENDED: "延保服务协议",
}
SERVICE_ITEMS = {
    "WP": "净水器：每6个月更换滤芯，季度水质检测，管路消毒",
    "AC": "空调：制冷季、制热季前各清洗保养一次，冷媒检测与补充，电气安全检查",
    "EL": "电梯：每15日例行保养，配合年度定期检验，7×24小时困人救援",
    "IND": "工业设备：季度预防性维护，润滑与精度校准，停机故障优先响应",
    "MED": "医疗设备：季度预防性维护与校准，配合计量检定，故障期间提供备用机",
}
TERMS = {
    Charging.WARRANTY_FREE: "协议期内非人为损坏的故障免费维修，含人工与配件；"
                            "人为损坏按价目表收费。",
    Charging.PER_VISIT: "按次收费：上门服务费每次200元，配件按价目表另计。",
    Charging.HOURS_PARTS: "按工时加配件收费：工时费每小时180元，配件按价目表收费，"
                          "报价经客户确认后施工。",
    Charging.ANNUAL_FEE: "按年度固定费用结算，含人工与常用易损件；大件配件按价目表八折收费。",
}
# Yearly price per covered unit (CNY), a range per product line.
ANNUAL_PRICE = {"WP": (300, 800), "AC": (400, 1500), "EL": (6000, 12000),
                "IND": (4000, 15000), "MED": (8000, 30000)}
# Minutes (response, on-site arrival, resolution) per priority, by customer level.
SLA_TIERS = {
    Level.STRATEGIC: {Priority.URGENT: (15, 120, 240), Priority.HIGH: (30, 240, 480),
                      Priority.NORMAL: (60, 480, 1440), Priority.LOW: (240, 1440, 2880)},
    Level.VIP: {Priority.URGENT: (30, 180, 480), Priority.HIGH: (60, 360, 960),
                Priority.NORMAL: (120, 720, 2880), Priority.LOW: (480, 2880, 5760)},
    Level.REGULAR: {Priority.URGENT: (30, 240, 480), Priority.HIGH: (60, 480, 1440),
                    Priority.NORMAL: (120, 1440, 2880), Priority.LOW: (480, 2880, 7200)},
}
DEFAULT_TARGETS = {Priority.URGENT: (60, 480, 1440), Priority.HIGH: (120, 1440, 2880),
                   Priority.NORMAL: (240, 2880, 4320), Priority.LOW: (480, 4320, 10080)}

# fmt: on

# Someone trapped in a lift: rescue is expected on site within 30 minutes.
ELEVATOR_URGENT = (10, 30, 240)
DEFAULT_NUMBER = "DEFAULT"


class Planner(DemoPlanner):
    """Draws the customers, their equipment and agreements, touching no database."""

    def __init__(self):
        super().__init__()
        self.customer_names = set()
        self.serial_seq = Counter()
        # One generator used to plan the whole department: the organisation's engineers first,
        # then customers, then agreements. Replaying the engineers' draws here (they touch no
        # database) leaves the generator, and the mobile numbers already taken, where they were,
        # so the same customers, serial numbers and mobile numbers come out on every run.
        self.engineers()

    def customers(self):
        cities = list(CITIES)
        city_weights = [CITIES[c].weight for c in cities]
        segments = list(SEGMENTS)
        segment_weights = [SEGMENTS[s].weight for s in segments]
        plans = []
        for number in range(1, CUSTOMER_COUNT + 1):
            city = self.rng.choices(cities, weights=city_weights)[0]
            if self.rng.random() < 0.32:
                plan = self.individual(city)
            else:
                segment = self.rng.choices(segments, weights=segment_weights)[0]
                plan = self.company(city, segment)
            plan["code"] = f"C{number:05d}"
            plan["city"] = city
            plan["units"] = self.units(plan)
            plans.append(plan)
        return plans

    def individual(self, city):
        person = self.person()
        level = Level.VIP if self.rng.random() < 0.06 else Level.REGULAR
        contacts = [self.contact(person, "业主", primary=True)]
        if self.rng.random() < 0.4:
            relative = self.person()
            relative["surname"] = person["surname"]
            relative["name"] = person["surname"][0] + relative["given"][0]
            contacts.append(self.contact(relative, "家属", primary=False))
        return {
            "kind": Customer.Kind.INDIVIDUAL,
            "segment": None,
            "name": person["surname"][0] + ("女士" if person["female"] else "先生"),
            "level": level,
            "tags": ["家庭用户"] + (["重点客户"] if level != Level.REGULAR else []),
            "address": self.address(city, home=True),
            "phone": "+86" + contacts[0]["mobile"],
            "notes": self.rng.choice(HOME_NOTES) if self.rng.random() < 0.15 else "",
            "contacts": contacts,
        }

    def company(self, city, segment):
        spec = SEGMENTS[segment]
        city_name = CITY_NAMES[city]
        while True:
            trade = self.rng.choice(TRADE_NAMES)
            district, district_abbr = self.rng.choice(CITIES[city].districts)
            template = self.rng.choice(spec.names)
            name = template.format(city=city_name, district=district, trade=trade[0])
            if name not in self.customer_names:
                self.customer_names.add(name)
                break
        if "{trade}" in template:
            domain = f"{trade[1]}.{spec.suffix}"
        else:
            domain = f"{CITIES[city].abbr}{district_abbr}{segment}.{spec.suffix}"
        roll = self.rng.random()
        if roll < 0.10:
            level = Level.STRATEGIC
        elif roll < 0.32:
            level = Level.VIP
        else:
            level = Level.REGULAR
        tags = list(spec.tags)
        if level == Level.STRATEGIC or (level == Level.VIP and roll < 0.2):
            tags.append("重点客户")
        contacts = [self.contact(self.person(), spec.title, primary=True, domain=domain)]
        for title in self.rng.sample(
            spec.other_titles,
            self.rng.randint(0, 2) if len(spec.other_titles) > 1 else self.rng.randint(0, 1),
        ):
            contacts.append(self.contact(self.person(), title, primary=False, domain=domain))
        return {
            "kind": Customer.Kind.COMPANY,
            "segment": segment,
            "name": name,
            "level": level,
            "tags": tags,
            "address": self.address(city),
            "phone": self.landline(city),
            "notes": self.rng.choice(NOTES) if self.rng.random() < 0.25 else "",
            "contacts": contacts,
        }

    def contact(self, person, title, primary, domain=None):
        email = ""
        if domain:
            email = f"{person['given'][1]}.{person['surname'][1]}@{domain}"
        return {
            "name": person["name"],
            "title": title,
            "mobile": self.mobile(),
            "email": email,
            "is_primary": primary,
        }

    def units(self, customer):
        if customer["segment"] is None:
            lines = {"WP": 5, "AC": 4}
            count = self.rng.choices([1, 2, 3], weights=[5, 4, 1])[0]
        else:
            spec = SEGMENTS[customer["segment"]]
            lines = spec.lines
            count = self.rng.randint(*spec.units)
        household = customer["segment"] is None
        units = []
        for _i in range(count):
            line = self.rng.choices(list(lines), weights=list(lines.values()))[0]
            models = [m for m in PRODUCT_MODELS[line] if m[3] or not household]
            model_code, _name, months, _home = self.rng.choice(models)
            # About one unit in 25 is planned to run out of warranty within the coming weeks;
            # the rest were bought on a day between 2022 and the anchor.
            if self.rng.random() < 0.04:
                ends_in = self.rng.randint(4, 28)  # month arithmetic can move the end by 3 days
                days_before_anchor = None
                purchased = ANCHOR + timedelta(days=ends_in + 1) - relativedelta(months=months)
            else:
                ends_in = None
                # More units were sold in recent years than in 2022.
                span = (ANCHOR - FIRST_PURCHASE).days
                days_before_anchor = round(self.rng.triangular(1, span, 1))
                purchased = ANCHOR - timedelta(days=days_before_anchor)
            self.serial_seq[model_code] += 1
            locations = HOME_LOCATIONS[line] if household else LOCATIONS[line]
            units.append(
                {
                    "line": line,
                    "model": model_code,
                    "serial": f"{model_code}-{purchased.year}-{self.serial_seq[model_code]:06d}",
                    "ends_in": ends_in,
                    "days_before_anchor": days_before_anchor,
                    "install_lag": self.rng.randint(0, 20),
                    "status_roll": self.rng.random(),
                    "location": self.rng.choice(locations),
                }
            )
        return units

    # --- agreements ---

    def agreements(self, customers):
        companies = [c for c in customers if c["kind"] == Customer.Kind.COMPANY]
        key = [c for c in companies if c["level"] != Level.REGULAR]
        others = [c for c in companies if c["level"] == Level.REGULAR]
        homes = [c for c in customers if c["kind"] == Customer.Kind.INDIVIDUAL]
        chosen = key[: AGREEMENT_CUSTOMERS - 4]
        chosen += self.rng.sample(others, AGREEMENT_CUSTOMERS - 4 - len(chosen))
        chosen += self.rng.sample(homes, 4)
        chosen.sort(key=lambda c: c["code"])
        plans = []
        for customer in chosen:
            timing = "expiring" if self.rng.random() < 0.18 else "running"
            current = self.agreement(customer, len(plans), timing)
            # Some customers renewed: an expired agreement ran until the current one started.
            if self.rng.random() < 0.2:
                previous = self.agreement(customer, len(plans), "expired", before=current)
                plans.append(previous)
            plans.append(current)
        for index, plan in enumerate(plans, start=1):
            plan["number"] = f"SA-{plan['start'].year}-{index:04d}"
        return plans

    def agreement(self, customer, index, timing, before=None):
        charging = CHARGING_CYCLE[index % len(CHARGING_CYCLE)]
        if customer["kind"] == Customer.Kind.INDIVIDUAL:
            charging = self.rng.choice([Charging.WARRANTY_FREE, Charging.ANNUAL_FEE])
            kind = AType.EXTENDED
        else:
            kind = self.rng.choice(TYPES_FOR_CHARGING[charging])
        if before is not None:
            lines = before["lines"]
            covered = before["units"]
        else:
            lines = sorted({u["line"] for u in customer["units"]})
            lines = sorted(self.rng.sample(lines, min(len(lines), self.rng.randint(1, 2))))
            in_lines = [u for u in customer["units"] if u["line"] in lines]
            covered = [u for u in in_lines if self.rng.random() < 0.85] or in_lines[:1]
        # Dates are planned against the anchor; `ends_in` ones are placed relative to today.
        ends_in = None
        if timing == "expiring":
            ends_in = self.rng.randint(1, EXPIRING_SOON_DAYS)
            end = ANCHOR + timedelta(days=ends_in)
            start = end - relativedelta(years=1) + timedelta(days=1)
        elif timing == "expired":
            end = before["start"] - timedelta(days=1)
            start = end - relativedelta(years=self.rng.choice([1, 2])) + timedelta(days=1)
        else:
            start = ANCHOR - timedelta(days=self.rng.randint(30, 500))
            end = start + relativedelta(years=self.rng.choice([1, 1, 2, 3])) - timedelta(days=1)
            if end <= ANCHOR + timedelta(days=EXPIRING_SOON_DAYS):
                end += relativedelta(years=1)
        fee = None
        if charging == Charging.ANNUAL_FEE:
            total = sum(self.rng.randint(*ANNUAL_PRICE[u["line"]]) for u in covered)
            fee = Decimal(max(round(total, -2), 1000)).quantize(Decimal("0.01"))
        targets = dict(SLA_TIERS[customer["level"]])
        if "EL" in lines:
            targets[Priority.URGENT] = ELEVATOR_URGENT
        line_names = "、".join(PRODUCT_LINES[line] for line in lines)
        return {
            "name": f"{customer['name']} {line_names}{TYPE_NAMES[kind]}",
            "customer": customer["code"],
            "type": kind,
            "charging": charging,
            "fee": fee,
            "start": start,
            "end": end,
            "ends_in": ends_in,
            "items": "\n".join(SERVICE_ITEMS[line] for line in lines),
            "terms": TERMS[charging],
            "targets": targets,
            "lines": lines,
            "units": covered,
            "equipment": [(u["model"], u["serial"]) for u in covered],
        }


# Preventive plans per product line: (kind, name, interval); other lines get a yearly service.
PLAN_KINDS = {
    "WP": (MaintenancePlan.Kind.CONSUMABLES, "滤芯更换", {"interval_months": 6}),
    "AC": (MaintenancePlan.Kind.MAINTENANCE, "季度保养", {"interval_months": 3}),
    "EL": (MaintenancePlan.Kind.INSPECTION, "电梯半月检", {"interval_days": 15}),
}
YEARLY_PLAN = (MaintenancePlan.Kind.MAINTENANCE, "年度保养", {"interval_months": 12})


def seed(out):
    """Write the customers' missing rows; return their summary rows (`out` is not written to:
    the command prints the summary)."""
    planner = Planner()
    customer_plans = planner.customers()
    agreement_plans = planner.agreements(customer_plans)
    writer = _Writer(timezone.localdate())
    writer.seed_products()
    writer.seed_customers(customer_plans)
    writer.seed_equipment(customer_plans)
    writer.seed_agreements(agreement_plans)
    writer.seed_maintenance_plans()
    return writer.summary()


class _Writer:
    def __init__(self, today):
        self.today = today
        self.shift = today - ANCHOR
        self.created = Counter()

    def seed_products(self):
        lines = {line.code: line for line in ProductLine.objects.filter(code__in=PRODUCT_MODELS)}
        self.models = {}
        for line, models in PRODUCT_MODELS.items():
            for model_code, model_name, months, _home in models:
                model, created = ProductModel.objects.get_or_create(
                    code=model_code,
                    defaults={"line": lines[line], "name": model_name, "warranty_months": months},
                )
                self.created["product models"] += created
                self.models[model_code] = model

    def seed_customers(self, plans):
        tags = {}
        for name in TAGS:
            tags[name], created = Tag.objects.get_or_create(name=name)
            self.created["tags"] += created
        codes = [p["code"] for p in plans]
        existing = set(Customer.objects.filter(code__in=codes).values_list("code", flat=True))
        new = [p for p in plans if p["code"] not in existing]
        regions = dict(Region.objects.filter(code__in=CITIES).values_list("code", "pk"))
        Customer.objects.bulk_create(
            Customer(
                code=p["code"],
                name=p["name"],
                kind=p["kind"],
                level=p["level"],
                region_id=regions[p["city"]],
                address=p["address"],
                phone=p["phone"],
                notes=p["notes"],
            )
            for p in new
        )
        self.customer_ids = dict(Customer.objects.filter(code__in=codes).values_list("code", "pk"))
        TagLink = Customer.tags.through
        TagLink.objects.bulk_create(
            [
                TagLink(customer_id=self.customer_ids[p["code"]], tag_id=tags[name].pk)
                for p in new
                for name in p["tags"]
            ],
            ignore_conflicts=True,
        )
        # Contacts have no natural key: they come only with a customer created now.
        Contact.objects.bulk_create(
            Contact(customer_id=self.customer_ids[p["code"]], **contact)
            for p in new
            for contact in p["contacts"]
        )
        self.created["customers"] += len(new)
        self.created["contacts"] += sum(len(p["contacts"]) for p in new)

    def seed_equipment(self, plans):
        serials = [u["serial"] for p in plans for u in p["units"]]
        existing = set(
            Equipment.objects.filter(serial_no__in=serials).values_list(
                "product_model__code", "serial_no"
            )
        )
        customers = {p["code"]: p for p in plans}
        new = []
        for code, plan in customers.items():
            for unit in plan["units"]:
                if (unit["model"], unit["serial"]) in existing:
                    continue
                new.append(self.build_unit(unit, plan, self.customer_ids[code]))
        Equipment.objects.bulk_create(new)
        self.created["equipment"] += len(new)

    def build_unit(self, unit, customer, customer_id):
        model = self.models[unit["model"]]
        if unit["ends_in"] is not None:
            purchased = (
                self.today
                + timedelta(days=unit["ends_in"] + 1)
                - relativedelta(months=model.warranty_months)
            )
        else:
            purchased = ANCHOR - timedelta(days=unit["days_before_anchor"]) + self.shift
        installed = min(purchased + timedelta(days=unit["install_lag"]), self.today)
        equipment = Equipment(
            serial_no=unit["serial"],
            product_model=model,
            customer_id=customer_id,
            install_address=f"{customer['address']} {unit['location']}"[:200],
            install_date=installed,
            purchase_date=purchased,
        )
        equipment.warranty_end = equipment.default_warranty_end()
        roll = unit["status_roll"]
        if roll < 0.04:
            # Bought recently and still in the customer's store room.
            if purchased > self.today - timedelta(days=180):
                equipment.status = Equipment.Status.IN_STOCK
                equipment.install_date = None
                equipment.install_address = ""
        elif roll < 0.08:
            equipment.status = Equipment.Status.UNDER_REPAIR
        elif roll < 0.14 and equipment.warranty_end < self.today - timedelta(days=180):
            equipment.status = Equipment.Status.SCRAPPED
        return equipment

    # --- agreements ---

    def seed_agreements(self, plans):
        numbers = [p["number"] for p in plans] + [DEFAULT_NUMBER]
        existing = set(
            ServiceAgreement.objects.filter(number__in=numbers).values_list("number", flat=True)
        )
        new = [p for p in plans if p["number"] not in existing]
        agreements = [self.build_agreement(p) for p in new]
        targets = {p["number"]: p["targets"] for p in new}
        if (
            DEFAULT_NUMBER not in existing
            # Someone may have made another agreement the default policy already.
            and not ServiceAgreement.objects.filter(is_default=True).exists()
        ):
            agreements.append(
                ServiceAgreement(
                    number=DEFAULT_NUMBER,
                    name="标准服务政策（未签协议客户适用）",
                    customer=None,
                    is_default=True,
                    type=AType.WARRANTY,
                    charging_method=Charging.PER_VISIT,
                    start_date=date(2020, 1, 1),
                    end_date=date(2099, 12, 31),
                    service_items="保修期内故障免费维修；保修期外提供上门维修服务",
                    terms="保修期内非人为损坏免费维修；保修期外按次收费，上门服务费每次200元，"
                    "配件按价目表另计。",
                )
            )
            targets[DEFAULT_NUMBER] = DEFAULT_TARGETS
        ServiceAgreement.objects.bulk_create(agreements)
        ids = dict(
            ServiceAgreement.objects.filter(number__in=list(targets)).values_list("number", "pk")
        )
        SlaTarget.objects.bulk_create(
            [
                SlaTarget(
                    agreement_id=ids[number],
                    priority=priority,
                    response_minutes=minutes[0],
                    arrival_minutes=minutes[1],
                    resolution_minutes=minutes[2],
                )
                for number, per_priority in targets.items()
                for priority, minutes in per_priority.items()
            ],
            ignore_conflicts=True,
        )
        covered = {(model, serial) for p in new for model, serial in p["equipment"]}
        unit_ids = {
            (model, serial): pk
            for pk, model, serial in Equipment.objects.filter(
                serial_no__in=[serial for _m, serial in covered]
            ).values_list("pk", "product_model__code", "serial_no")
        }
        Link = ServiceAgreement.equipment.through
        links = [
            Link(serviceagreement_id=ids[p["number"]], equipment_id=unit_ids[key])
            for p in new
            for key in p["equipment"]
            if key in unit_ids
        ]
        Link.objects.bulk_create(links, ignore_conflicts=True)
        self.created["agreements"] += len(agreements)
        self.created["SLA targets"] += 4 * len(targets)

    def build_agreement(self, plan):
        if plan["ends_in"] is not None:
            end = self.today + timedelta(days=plan["ends_in"])
            start = end - relativedelta(years=1) + timedelta(days=1)
        else:
            start, end = plan["start"] + self.shift, plan["end"] + self.shift
        return ServiceAgreement(
            number=plan["number"],
            name=plan["name"][:120],
            customer_id=self.customer_ids[plan["customer"]],
            type=plan["type"],
            start_date=start,
            end_date=end,
            service_items=plan["items"],
            terms=plan["terms"],
            charging_method=plan["charging"],
            annual_fee=plan["fee"],
        )

    def seed_maintenance_plans(self):
        """Preventive maintenance plans on some units; the daily job turns the due ones into
        service requests (the first run of `make demo` creates those due within their lead
        time)."""
        rng = random.Random(7)
        units = list(
            Equipment.objects.select_related("product_model__line", "customer").order_by("id")[:400]
        )
        # Carried out by the service point of the customer's city (the first one there).
        points = {}
        for point in ServicePoint.objects.filter(is_active=True).order_by("code"):
            points.setdefault(point.region_id, point)
        # Drawn in full before anything is written, so the same plans come out on every run.
        wanted = []
        for unit in rng.sample(units, min(MAINTENANCE_PLANS, len(units))):
            kind, name, interval = PLAN_KINDS.get(unit.product_model.line.code, YEARLY_PLAN)
            next_date = self.today + timedelta(days=rng.randint(2, 40))
            wanted.append((unit, f"{name} {unit.serial_no}", kind, next_date, interval))
        existing = set(
            MaintenancePlan.objects.filter(equipment__in=[w[0] for w in wanted]).values_list(
                "equipment_id", "name"
            )
        )
        for unit, name, kind, next_date, interval in wanted:
            if (unit.pk, name) in existing:
                continue
            # One by one: save() derives the indexed `create_on` the daily job reads.
            MaintenancePlan.objects.create(
                name=name,
                kind=kind,
                equipment=unit,
                next_date=next_date,
                lead_days=7,
                service_point=points.get(unit.customer.region_id),
                **interval,
            )
            self.created["maintenance plans"] += 1

    def summary(self):
        created = self.created
        return [
            SummaryRow("product models", ProductModel.objects.count(), created["product models"]),
            SummaryRow("tags", Tag.objects.count(), created["tags"]),
            SummaryRow("customers", Customer.objects.count(), created["customers"]),
            SummaryRow("contacts", Contact.objects.count(), created["contacts"]),
            SummaryRow("equipment", Equipment.objects.count(), created["equipment"]),
            SummaryRow("agreements", ServiceAgreement.objects.count(), created["agreements"]),
            SummaryRow("SLA targets", SlaTarget.objects.count(), created["SLA targets"]),
            SummaryRow(
                "maintenance plans", MaintenancePlan.objects.count(), created["maintenance plans"]
            ),
        ]
