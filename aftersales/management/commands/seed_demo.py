"""Fill the database with a realistic demo service department (README: demo logins).

The data is planned in memory from `random.Random(2026)` first, then written: only rows whose
natural key (code, username, serial number, agreement number) is missing are created, and rows
that exist are left exactly as they are, so a second run writes nothing. Contacts, tag links,
SLA targets and covered equipment have no natural key of their own: they are written together
with the new customer or agreement they belong to.

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
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from aftersales.models import EngineerProfile, ProductLine, Region, ServicePoint, User
from aftersales.roles import Role
from customers.models import (
    EXPIRING_SOON_DAYS,
    Contact,
    Customer,
    Equipment,
    Priority,
    ProductModel,
    ServiceAgreement,
    SlaTarget,
    Tag,
)
from tickets.demo import seed_tickets
from tickets.models import Ticket

SEED = 2026
DEMO_PASSWORD = "demo12345"
ANCHOR = date(2026, 11, 1)
FIRST_PURCHASE = date(2022, 1, 1)
CUSTOMER_COUNT = 220
AGREEMENT_CUSTOMERS = 60


def _pairs(text):
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
              _pairs("浦东新区 pd 徐汇区 xh 闵行区 mh 静安区 ja 嘉定区 jd 松江区 sj"),
              ["张江路", "世纪大道", "漕溪北路", "虹梅路", "莘庄路", "南京西路", "曹安公路"]),
    "HD-HZ": City("浙江省", "hz", "571", "8", 12,
              _pairs("西湖区 xh 滨江区 bj 余杭区 yh 拱墅区 gs 萧山区 xs"),
              ["文三路", "江南大道", "文一西路", "莫干山路", "市心中路", "学院路"]),
    "HD-NJ": City("江苏省", "nj", "25", "58", 10,
              _pairs("玄武区 xw 鼓楼区 gl 江宁区 jn 建邺区 jy 栖霞区 qx"),
              ["中山路", "汉中门大街", "双龙大道", "江东中路", "仙林大道", "龙蟠路"]),
    "HD-SU": City("江苏省", "suz", "512", "6", 8,
              _pairs("姑苏区 gs 工业园区 yq 吴中区 wz 相城区 xc"),
              ["人民路", "星湖街", "东吴北路", "阳澄湖大道", "金鸡湖大道"]),
    "HN-GZ": City("广东省", "gz", "20", "38", 14,
              _pairs("天河区 th 越秀区 yx 海珠区 hz 白云区 by 番禺区 py 黄埔区 hp"),
              ["天河路", "中山五路", "新港中路", "白云大道", "科学大道", "环市东路"]),
    "HN-SZ": City("广东省", "sz", "755", "28", 14,
              _pairs("南山区 ns 福田区 ft 宝安区 ba 龙岗区 lg 罗湖区 lh"),
              ["科技园路", "深南大道", "宝安大道", "龙岗大道", "人民南路", "滨海大道"]),
    "HB-BJ": City("", "bj", "10", "68", 18,
              _pairs("朝阳区 cy 海淀区 hd 东城区 dc 丰台区 ft 大兴区 dx 通州区 tz"),
              ["建国路", "中关村大街", "东长安街", "南三环西路", "经海路", "新华大街"]),
    "HB-TJ": City("", "tj", "22", "28", 6,
              _pairs("和平区 hp 南开区 nk 河西区 hx 滨海新区 bh 西青区 xq"),
              ["南京路", "卫津路", "友谊路", "第三大街", "中北大道"]),
    "HZ-WH": City("湖北省", "wh", "27", "8", 8,
              _pairs("江汉区 jh 武昌区 wc 洪山区 hs 江岸区 ja 东西湖区 dxh"),
              ["解放大道", "中南路", "珞喻路", "沿江大道", "金银湖路"]),
    "XN-CD": City("四川省", "cd", "28", "68", 8,
              _pairs("锦江区 jj 武侯区 wh 高新区 gx 青羊区 qy 成华区 ch"),
              ["春熙路", "人民南路", "天府大道", "蜀都大道", "建设路"]),
    "XN-CQ": City("", "cq", "23", "68", 6,
              _pairs("渝中区 yz 江北区 jb 渝北区 yb 九龙坡区 jlp 沙坪坝区 spb"),
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

# --- Products -------------------------------------------------------------------------------

# line code -> (name, models as (code, name, warranty months, also sold to households))
PRODUCT_LINES = {
    "WP": ("净水器", [
        ("WP300", "家用反渗透净水器 RO-300G", 12, True),
        ("WP500", "厨下式净水器 RO-500G", 24, True),
        ("WP1000", "商用直饮水机 1000G", 24, False),
        ("WP3000", "商用中央净水设备 3T/H", 36, False),
    ]),
    "AC": ("空调", [
        ("AC35", "挂壁式变频空调 1.5匹", 36, True),
        ("AC72", "立柜式变频空调 3匹", 36, True),
        ("AC280", "商用多联机 10匹", 24, False),
        ("AC1200", "螺杆式冷水机组 350RT", 24, False),
    ]),
    "EL": ("电梯", [
        ("EL1000", "乘客电梯 1000kg", 24, False),
        ("EL1600", "病床电梯 1600kg", 24, False),
        ("EL3000", "载货电梯 3000kg", 24, False),
        ("ES800", "自动扶梯 800mm", 24, False),
    ]),
    "IND": ("工业设备", [
        ("IND37", "螺杆空压机 37kW", 12, False),
        ("IND450", "数控车床 CK6150", 12, False),
        ("IND850", "立式加工中心 VMC850", 24, False),
        ("IND160", "伺服注塑机 160T", 12, False),
        ("IND500", "工业冷水机 50HP", 24, False),
    ]),
    "MED": ("医疗设备", [
        ("MED200", "血液透析机 HD-200", 12, False),
        ("MED500", "彩色多普勒超声诊断仪", 24, False),
        ("MED700", "医用分子筛制氧机", 12, False),
        ("MED900", "全自动生化分析仪", 36, False),
    ]),
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

# --- People and names -----------------------------------------------------------------------

SURNAMES = _pairs(
    "王 wang 李 li 张 zhang 刘 liu 陈 chen 杨 yang 赵 zhao 黄 huang 周 zhou 吴 wu 徐 xu"
    " 孙 sun 胡 hu 朱 zhu 高 gao 林 lin 何 he 郭 guo 马 ma 罗 luo 梁 liang 宋 song"
    " 郑 zheng 谢 xie 韩 han 唐 tang 冯 feng 邓 deng 曹 cao 彭 peng"
)
MALE_NAMES = _pairs(
    "伟 wei 强 qiang 磊 lei 军 jun 勇 yong 杰 jie 涛 tao 明 ming 超 chao 建国 jianguo"
    " 志强 zhiqiang 海峰 haifeng 文博 wenbo 俊杰 junjie 浩然 haoran 建华 jianhua"
    " 国庆 guoqing 宇航 yuhang 立新 lixin 振华 zhenhua"
)
FEMALE_NAMES = _pairs(
    "芳 fang 敏 min 静 jing 丽 li 婷 ting 娟 juan 霞 xia 艳 yan 秀英 xiuying"
    " 晓燕 xiaoyan 雪梅 xuemei 丽娟 lijuan 欣怡 xinyi 思琪 siqi 佳怡 jiayi 美玲 meiling"
)
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "199",
]
# Trade names (字号) with their pinyin for e-mail domains.
TRADE_NAMES = _pairs(
    "明辉 minghui 华瑞 huarui 鑫源 xinyuan 恒通 hengtong 永盛 yongsheng 金桥 jinqiao"
    " 海纳 haina 天盛 tiansheng 宏达 hongda 瑞丰 ruifeng 博远 boyuan 嘉禾 jiahe"
    " 锦程 jincheng 润泽 runze 东方 dongfang 康达 kangda 远航 yuanhang 信达 xinda"
    " 凯盛 kaisheng 中联 zhonglian 万隆 wanlong 华欣 huaxin 昌盛 changsheng 德润 derun"
    " 鼎盛 dingsheng 佳美 jiamei 星辰 xingchen 绿源 lvyuan 安泰 antai 祥和 xianghe"
    " 富春 fuchun 尚品 shangpin 百味 baiwei 禾丰 hefeng 宏图 hongtu 蓝海 lanhai"
    " 北辰 beichen 致远 zhiyuan 同创 tongchuang 精工 jinggong 华力 huali 盛世 shengshi"
    " 聚隆 julong 金鼎 jinding 海川 haichuan 仁和 renhe 康宁 kangning 育才 yucai"
)
ESTATES = ["阳光花园", "锦绣江南", "翠湖天地", "滨江花园", "世纪名苑", "金色家园", "绿地新城",
           "紫荆公寓", "御景湾", "桂花苑", "碧水云天", "丽都花园"]

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


class Planner:
    """Draws the whole demo department from one seeded generator, touching no database.

    The order of draws never depends on the database or on today, so the same keys come out on
    every run.
    """

    def __init__(self):
        self.rng = random.Random(SEED)
        self.mobiles = {user[4] for user in DEMO_USERS.values()}
        self.usernames = set(DEMO_USERS)
        self.customer_names = set()
        self.serial_seq = Counter()

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

    # --- engineers ---

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

    # --- customers and equipment ---

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
            models = [m for m in PRODUCT_LINES[line][1] if m[3] or not household]
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
        line_names = "、".join(PRODUCT_LINES[line][0] for line in lines)
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


class Command(BaseCommand):
    help = "Fill the database with a demo service department (idempotent; demo password demo12345)."

    def handle(self, *args, **options):
        self.today = timezone.localdate()
        self.shift = self.today - ANCHOR
        self.created = Counter()
        planner = Planner()
        engineer_plans = planner.engineers()
        customer_plans = planner.customers()
        agreement_plans = planner.agreements(customer_plans)
        with transaction.atomic():
            self.seed_regions()
            self.seed_products()
            self.seed_users(engineer_plans)
            self.seed_customers(customer_plans)
            self.seed_equipment(customer_plans)
            self.seed_agreements(agreement_plans)
            self.created["service requests"] += seed_tickets(self.today)
        self.summary()

    # --- organisation ---

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

    def seed_products(self):
        self.models = {}
        for code, (name, models) in PRODUCT_LINES.items():
            line, created = ProductLine.objects.get_or_create(code=code, defaults={"name": name})
            self.created["product lines"] += created
            for model_code, model_name, months, _home in models:
                model, created = ProductModel.objects.get_or_create(
                    code=model_code,
                    defaults={"line": line, "name": model_name, "warranty_months": months},
                )
                self.created["product models"] += created
                self.models[model_code] = model
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

    # --- customers ---

    def seed_customers(self, plans):
        tags = {}
        for name in TAGS:
            tags[name], created = Tag.objects.get_or_create(name=name)
            self.created["tags"] += created
        codes = [p["code"] for p in plans]
        existing = set(Customer.objects.filter(code__in=codes).values_list("code", flat=True))
        new = [p for p in plans if p["code"] not in existing]
        Customer.objects.bulk_create(
            Customer(
                code=p["code"],
                name=p["name"],
                kind=p["kind"],
                level=p["level"],
                region=self.regions[p["city"]],
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

    # --- report ---

    def summary(self):
        soon = self.today + timedelta(days=EXPIRING_SOON_DAYS)
        units = Equipment.objects.all()
        agreements = ServiceAgreement.objects.all()
        by_charging = Counter(agreements.values_list("charging_method", flat=True))
        engineers = EngineerProfile.objects.all()
        rows = [
            ("regions", Region.objects.count(), ""),
            ("service points", ServicePoint.objects.count(), ""),
            (
                "engineers",
                engineers.count(),
                f"{engineers.filter(availability='on_leave').count()} on leave",
            ),
            ("users", User.objects.count(), ""),
            (
                "product models",
                ProductModel.objects.count(),
                f"{ProductLine.objects.count()} product lines",
            ),
            ("customers", Customer.objects.count(), ""),
            ("contacts", Contact.objects.count(), ""),
            (
                "equipment",
                units.count(),
                f"{units.filter(warranty_end__lt=self.today).count()} out of warranty, "
                f"{units.filter(warranty_end__gte=self.today, warranty_end__lte=soon).count()} "
                f"expiring within {EXPIRING_SOON_DAYS} days",
            ),
            (
                "agreements",
                agreements.count(),
                ", ".join(f"{by_charging[c]} {c}" for c in Charging.values)
                + f"; {agreements.filter(end_date__gte=self.today, end_date__lte=soon).count()}"
                f" ending within {EXPIRING_SOON_DAYS} days",
            ),
            ("SLA targets", SlaTarget.objects.count(), ""),
            (
                "service requests",
                Ticket.objects.count(),
                ", ".join(
                    f"{n} {state}"
                    for state, n in Ticket.objects.values_list("state")
                    .annotate(n=Count("id"))
                    .order_by("state")
                ),
            ),
        ]
        created = sum(self.created.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} rows created by this run)."
                if created
                else "Demo data already present; nothing changed."
            )
        )
        for label, count, detail in rows:
            line = f"  {label:<16}{count:>6}"
            if self.created[label]:
                line += f"  (+{self.created[label]} new)"
            if detail:
                line += f"  {detail}"
            self.stdout.write(line)
        logins = ", ".join(DEMO_USERS)
        self.stdout.write(f"  Demo logins (password {DEMO_PASSWORD}): {logins}")
