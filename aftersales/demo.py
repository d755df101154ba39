"""The organisation's demo data, and what every app's demo data stands on.

The organisation: regions, product lines, the demo logins (one per role), service points and
engineers with their skills. What the apps share: the demo geography and people's names
(`CITIES`, `SURNAMES`, …), the seeded random helpers (`DemoPlanner`) and the line each app adds
to the summary (`SummaryRow`).

Each app's `demo.seed(out)` (its plugin's `seed_demo`, called in app order by the `seed_demo`
command, in one transaction) draws its rows from seeded generators (the organisation and the
customers from one `random.Random(SEED)`), so the same keys come out on every run, and writes
only those whose natural key (code, username, employee number, serial number, agreement
number) is missing: rows that exist are left exactly as they are, so a second run writes
nothing. It returns its summary rows.
"""

import random
from collections import Counter
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from .models import EngineerProfile, ProductLine, Region, ServicePoint, User
from .roles import Role

SEED = 2026
DEMO_PASSWORD = "demo12345"


class SummaryRow(NamedTuple):
    """A table's part of its app's line in the `seed_demo` summary: its name, its rows, how many
    this run added (counted for the run's line, not shown) and a short detail."""

    label: str
    count: int
    created: int
    detail: str = ""


def pairs(text):
    """'浦东新区 pd 徐汇区 xh' -> [("浦东新区", "pd"), ("徐汇区", "xh")]"""
    words = text.split()
    return list(zip(words[::2], words[1::2], strict=True))


class City(NamedTuple):
    province: str  # prefix of addresses, empty for the municipalities
    abbr: str  # pinyin abbreviation, for e-mail domains
    area: str  # telephone area code
    local: str  # first digits of local numbers
    weight: int  # share of the customers
    districts: list  # (name, abbreviation)
    roads: list


# The tables below are data, laid out as tables: the formatter would put every item on a line.
# fmt: off

# --- Organisation ---------------------------------------------------------------------------

# (code, name, cities as (code, name))
REGIONS = [
    ("HD", "华东", [("HD-SH", "上海"), ("HD-HZ", "杭州"), ("HD-NJ", "南京"), ("HD-SU", "苏州")]),
    ("HN", "华南", [("HN-GZ", "广州"), ("HN-SZ", "深圳")]),
    ("HB", "华北", [("HB-BJ", "北京"), ("HB-TJ", "天津")]),
    ("HZ", "华中", [("HZ-WH", "武汉")]),
    ("XN", "西南", [("XN-CD", "成都"), ("XN-CQ", "重庆")]),
]
CITY_NAMES = {code: name for _c, _n, cities in REGIONS for code, name in cities}

CITIES = {
    "HD-SH": City("", "sh", "21", "56", 30,
              pairs("浦东新区 pd 徐汇区 xh 闵行区 mh 静安区 ja 嘉定区 jd 松江区 sj"),
              ["张江路", "世纪大道", "漕溪北路", "虹梅路", "莘庄路", "南京西路", "曹安公路"]),
    "HD-HZ": City("浙江省", "hz", "571", "8", 12,
              pairs("西湖区 xh 滨江区 bj 余杭区 yh 拱墅区 gs 萧山区 xs"),
              ["文三路", "江南大道", "文一西路", "莫干山路", "市心中路", "学院路"]),
    "HD-NJ": City("江苏省", "nj", "25", "58", 10,
              pairs("玄武区 xw 鼓楼区 gl 江宁区 jn 建邺区 jy 栖霞区 qx"),
              ["中山路", "汉中门大街", "双龙大道", "江东中路", "仙林大道", "龙蟠路"]),
    "HD-SU": City("江苏省", "suz", "512", "6", 8,
              pairs("姑苏区 gs 工业园区 yq 吴中区 wz 相城区 xc"),
              ["人民路", "星湖街", "东吴北路", "阳澄湖大道", "金鸡湖大道"]),
    "HN-GZ": City("广东省", "gz", "20", "38", 14,
              pairs("天河区 th 越秀区 yx 海珠区 hz 白云区 by 番禺区 py 黄埔区 hp"),
              ["天河路", "中山五路", "新港中路", "白云大道", "科学大道", "环市东路"]),
    "HN-SZ": City("广东省", "sz", "755", "28", 14,
              pairs("南山区 ns 福田区 ft 宝安区 ba 龙岗区 lg 罗湖区 lh"),
              ["科技园路", "深南大道", "宝安大道", "龙岗大道", "人民南路", "滨海大道"]),
    "HB-BJ": City("", "bj", "10", "68", 18,
              pairs("朝阳区 cy 海淀区 hd 东城区 dc 丰台区 ft 大兴区 dx 通州区 tz"),
              ["建国路", "中关村大街", "东长安街", "南三环西路", "经海路", "新华大街"]),
    "HB-TJ": City("", "tj", "22", "28", 6,
              pairs("和平区 hp 南开区 nk 河西区 hx 滨海新区 bh 西青区 xq"),
              ["南京路", "卫津路", "友谊路", "第三大街", "中北大道"]),
    "HZ-WH": City("湖北省", "wh", "27", "8", 8,
              pairs("江汉区 jh 武昌区 wc 洪山区 hs 江岸区 ja 东西湖区 dxh"),
              ["解放大道", "中南路", "珞喻路", "沿江大道", "金银湖路"]),
    "XN-CD": City("四川省", "cd", "28", "68", 8,
              pairs("锦江区 jj 武侯区 wh 高新区 gx 青羊区 qy 成华区 ch"),
              ["春熙路", "人民南路", "天府大道", "蜀都大道", "建设路"]),
    "XN-CQ": City("", "cq", "23", "68", 6,
              pairs("渝中区 yz 江北区 jb 渝北区 yb 九龙坡区 jlp 沙坪坝区 spb"),
              ["民生路", "建新北路", "金开大道", "科园一路", "小龙坎正街"]),
}

# (code, name, city, address, phone)
SERVICE_POINTS = [
    ("SP-SH01", "上海浦东服务中心", "HD-SH", "上海市浦东新区张江路1388号", "021-50801234"),
    ("SP-SH02", "上海闵行服务站", "HD-SH", "上海市闵行区虹梅南路2588号", "021-64965566"),
    ("SP-HZ01", "杭州滨江服务站", "HD-HZ", "浙江省杭州市滨江区江南大道3850号",
     "0571-86682200"),
    ("SP-NJ01", "南京江宁服务站", "HD-NJ", "江苏省南京市江宁区双龙大道1222号",
     "025-52106688"),
    ("SP-GZ01", "广州天河服务中心", "HN-GZ", "广东省广州市天河区天河北路233号",
     "020-38862233"),
    ("SP-SZ01", "深圳南山服务站", "HN-SZ", "广东省深圳市南山区科技园路18号", "0755-26551818"),
    ("SP-BJ01", "北京朝阳服务中心", "HB-BJ", "北京市朝阳区建国路88号", "010-65908899"),
    ("SP-WH01", "武汉光谷服务站", "HZ-WH", "湖北省武汉市洪山区珞喻路1037号", "027-87541037"),
    ("SP-CD01", "成都高新服务站", "XN-CD", "四川省成都市高新区天府大道中段666号",
     "028-85326666"),
]
# Generated engineers per service point (the demo engineer works at SP-SH01 as well).
ENGINEERS_PER_POINT = {
    "SP-SH01": 3, "SP-SH02": 2, "SP-HZ01": 2, "SP-NJ01": 1, "SP-GZ01": 2,
    "SP-SZ01": 2, "SP-BJ01": 2, "SP-WH01": 1, "SP-CD01": 1,
}
ENGINEERS_ON_LEAVE = 2

# username -> (roles, surname, given name, display title, mobile, superuser)
DEMO_USERS = {
    "admin": ([Role.ADMINISTRATOR], "陈", "立", "系统管理员", "13901010001", True),
    "dispatcher": ([Role.DISPATCHER], "张", "敏", "调度员", "13901010002", False),
    "engineer": ([Role.ENGINEER], "李", "强", "服务工程师", "13901010003", False),
    "svcmanager": ([Role.SERVICE_MANAGER], "王", "磊", "服务经理", "13901010004", False),
    "revisit": ([Role.REVISIT_AGENT], "赵", "静", "回访员", "13901010005", False),
    "parts": ([Role.PARTS_CLERK], "刘", "洋", "备件管理员", "13901010006", False),
    "finance": ([Role.FINANCE], "孙", "丽", "财务", "13901010007", False),
    "complaints": ([Role.COMPLAINT_HANDLER], "周", "婷", "投诉专员", "13901010008", False),
    "manager": ([Role.MANAGER], "吴", "建华", "管理层", "13901010009", False),
}
DEMO_ENGINEER = {"employee_no": "E1000", "point": "SP-SH01", "skills": ["WP", "AC", "EL"],
                 "level": EngineerProfile.Level.SENIOR}

# line code -> name (the product models of each line are customers': `customers.demo`)
PRODUCT_LINES = {"WP": "净水器", "AC": "空调", "EL": "电梯", "IND": "工业设备", "MED": "医疗设备"}

# --- People and names -----------------------------------------------------------------------

SURNAMES = pairs(
    "王 wang 李 li 张 zhang 刘 liu 陈 chen 杨 yang 赵 zhao 黄 huang 周 zhou 吴 wu 徐 xu"
    " 孙 sun 胡 hu 朱 zhu 高 gao 林 lin 何 he 郭 guo 马 ma 罗 luo 梁 liang 宋 song"
    " 郑 zheng 谢 xie 韩 han 唐 tang 冯 feng 邓 deng 曹 cao 彭 peng"
)
MALE_NAMES = pairs(
    "伟 wei 强 qiang 磊 lei 军 jun 勇 yong 杰 jie 涛 tao 明 ming 超 chao 建国 jianguo"
    " 志强 zhiqiang 海峰 haifeng 文博 wenbo 俊杰 junjie 浩然 haoran 建华 jianhua"
    " 国庆 guoqing 宇航 yuhang 立新 lixin 振华 zhenhua"
)
FEMALE_NAMES = pairs(
    "芳 fang 敏 min 静 jing 丽 li 婷 ting 娟 juan 霞 xia 艳 yan 秀英 xiuying"
    " 晓燕 xiaoyan 雪梅 xuemei 丽娟 lijuan 欣怡 xinyi 思琪 siqi 佳怡 jiayi 美玲 meiling"
)
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "199",
]
# Housing estates, for home addresses.
ESTATES = ["阳光花园", "锦绣江南", "翠湖天地", "滨江花园", "世纪名苑", "金色家园", "绿地新城",
           "紫荆公寓", "御景湾", "桂花苑", "碧水云天", "丽都花园"]

# fmt: on


class DemoPlanner:
    """Draws demo people, phone numbers and addresses from one seeded generator, touching no
    database; `engineers()` plans the organisation's engineers.

    The order of draws never depends on the database or on today, so the same keys come out on
    every run. An app that plans more (`customers.demo`) subclasses it and draws after the
    organisation's draws.
    """

    def __init__(self):
        self.rng = random.Random(SEED)
        self.mobiles = {user[4] for user in DEMO_USERS.values()}
        self.usernames = set(DEMO_USERS)

    def mobile(self):
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def person(self, female=None):
        if female is None:
            female = self.rng.random() < 0.45
        surname = self.rng.choice(SURNAMES)
        given = self.rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        return {
            "surname": surname,
            "given": given,
            "female": female,
            "name": surname[0] + given[0],
            "pinyin": surname[1] + given[1],
        }

    def landline(self, city):
        info = CITIES[city]
        digits = self.rng.choice(info.local) + f"{self.rng.randrange(10**7):07d}"
        return f"+86{info.area}{digits}"

    def address(self, city, home=False):
        info = CITIES[city]
        name = CITY_NAMES[city]
        district = self.rng.choice(info.districts)[0]
        road = self.rng.choice(info.roads)
        number = self.rng.randint(1, 2999)
        place = f"{info.province}{name}市{district}{road}{number}号"
        if home:
            estate = self.rng.choice(ESTATES)
            building, unit = self.rng.randint(1, 30), self.rng.randint(1, 4)
            room = self.rng.randint(2, 33) * 100 + self.rng.randint(1, 4)
            place = f"{info.province}{name}市{district}{estate}{building}栋{unit}单元{room}室"
        return place

    def engineers(self):
        lines = list(PRODUCT_LINES)
        plans = []
        index = 0
        for point, count in ENGINEERS_PER_POINT.items():
            for _i in range(count):
                person = self.person(female=self.rng.random() < 0.15)
                username = person["pinyin"]
                suffix = 2
                while username in self.usernames:
                    username = f"{person['pinyin']}{suffix}"
                    suffix += 1
                self.usernames.add(username)
                # Every line gets a specialist; extra skills are drawn.
                skills = {lines[index % len(lines)]}
                skills.update(self.rng.sample(lines, self.rng.randint(0, 2)))
                plans.append(
                    {
                        "username": username,
                        "person": person,
                        "point": point,
                        "employee_no": f"E{1001 + index}",
                        "mobile": self.mobile(),
                        "skills": sorted(skills),
                        "level": self.rng.choices([1, 2, 3, 4], weights=[3, 4, 3, 1])[0],
                        "on_leave": False,
                    }
                )
                index += 1
        for plan in self.rng.sample(plans, ENGINEERS_ON_LEAVE):
            plan["on_leave"] = True
        return plans


def seed(out):
    """Write the organisation's missing rows; return its summary rows (`out` is not written to:
    the command prints the summary)."""
    organisation = _Organisation()
    organisation.write(DemoPlanner().engineers())
    return organisation.summary()


class _Organisation:
    def __init__(self):
        self.created = Counter()

    def write(self, engineer_plans):
        self.seed_regions()
        self.seed_product_lines()
        self.seed_users(engineer_plans)

    def seed_regions(self):
        self.regions = {}
        for code, name, cities in REGIONS:
            parent, created = Region.objects.get_or_create(code=code, defaults={"name": name})
            self.created["regions"] += created
            for city_code, city_name in cities:
                city, created = Region.objects.get_or_create(
                    code=city_code, defaults={"name": city_name, "parent": parent}
                )
                self.created["regions"] += created
                self.regions[city_code] = city

    def seed_product_lines(self):
        for code, name in PRODUCT_LINES.items():
            _line, created = ProductLine.objects.get_or_create(code=code, defaults={"name": name})
            self.created["product lines"] += created
        self.lines = {
            line.code: line for line in ProductLine.objects.filter(code__in=PRODUCT_LINES)
        }

    def seed_users(self, engineer_plans):
        wanted = set(DEMO_USERS) | {p["username"] for p in engineer_plans}
        existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
        # Hashing is slow on purpose; hash once and only when a login is actually missing.
        password = make_password(DEMO_PASSWORD) if wanted - existing else None
        groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}

        users = {}
        for username, (roles, surname, given, title, mobile, superuser) in DEMO_USERS.items():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "password": password,
                    "first_name": given,
                    "last_name": surname,
                    "display_name": f"{title} {surname}{given}",
                    "mobile": mobile,
                    "email": f"{username}@example.com",
                    "is_staff": superuser,
                    "is_superuser": superuser,
                },
            )
            self.created["users"] += created
            if created:
                user.groups.add(*(groups[role] for role in roles))
            users[username] = user

        self.points = {}
        for code, name, city, address, phone in SERVICE_POINTS:
            point, created = ServicePoint.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "region": self.regions[city],
                    "address": address,
                    "phone": phone,
                    "manager": users["svcmanager"] if code.startswith("SP-SH") else None,
                },
            )
            self.created["service points"] += created
            self.points[code] = point

        self.ensure_engineer(users["engineer"], **DEMO_ENGINEER, mobile=DEMO_USERS["engineer"][4])
        for plan in engineer_plans:
            surname, given = plan["person"]["surname"][0], plan["person"]["given"][0]
            user, created = User.objects.get_or_create(
                username=plan["username"],
                defaults={
                    "password": password,
                    "first_name": given,
                    "last_name": surname,
                    "display_name": surname + given,
                    "mobile": plan["mobile"],
                    "email": f"{plan['username']}@example.com",
                },
            )
            self.created["users"] += created
            if created:
                user.groups.add(groups[Role.ENGINEER])
            self.ensure_engineer(
                user,
                employee_no=plan["employee_no"],
                point=plan["point"],
                skills=plan["skills"],
                level=plan["level"],
                mobile=plan["mobile"],
                on_leave=plan["on_leave"],
            )

    def ensure_engineer(self, user, employee_no, point, skills, level, mobile, on_leave=False):
        if EngineerProfile.objects.filter(user=user).exists():
            return
        if EngineerProfile.objects.filter(employee_no=employee_no).exists():
            return
        profile = EngineerProfile.objects.create(
            user=user,
            employee_no=employee_no,
            phone=mobile,
            service_point=self.points[point],
            level=level,
            availability=(
                EngineerProfile.Availability.ON_LEAVE
                if on_leave
                else EngineerProfile.Availability.ON_DUTY
            ),
        )
        profile.skills.set([self.lines[code] for code in skills])
        self.created["engineers"] += 1

    def summary(self):
        engineers = EngineerProfile.objects.all()
        on_leave = engineers.filter(availability=EngineerProfile.Availability.ON_LEAVE).count()
        created = self.created
        return [
            SummaryRow("regions", Region.objects.count(), created["regions"]),
            SummaryRow("service points", ServicePoint.objects.count(), created["service points"]),
            SummaryRow(
                "engineers", engineers.count(), created["engineers"], f"{on_leave} on leave"
            ),
            SummaryRow("users", User.objects.count(), created["users"]),
            SummaryRow("product lines", ProductLine.objects.count(), created["product lines"]),
        ]
