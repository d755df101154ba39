"""Demo knowledge for `seed_demo`: fault codes per product line, the synonym list, repair
templates and a handful of articles (published ones, one in review, a draft).

Articles are written through `knowledge.services` (revisions, log, search columns) as the
demo's service manager, engineer and dispatcher. `demo_articles()` is the one source of the
articles' content: the search work's corpus (knowledge.corpus) can take its place there.

Idempotent: fault codes, synonyms and templates are matched by their natural keys; articles are
written only while there are none.
"""

from decimal import Decimal

from aftersales.demo import SummaryRow
from aftersales.models import ProductLine, User
from customers.models import ProductModel
from tickets.models import ProblemType, ServiceType

from . import services
from .corpus import load_corpus
from .models import Article, ArticleRevision, FaultCode, RepairTemplate, State, Synonym

# line code -> [(code, meaning)]
FAULT_CODES = {
    "AC": [
        ("E1", "室内温度传感器故障"),
        ("E2", "室内盘管温度传感器故障"),
        ("E4", "室外机通信故障"),
        ("E6", "压缩机过流保护"),
        ("F1", "室外环境温度传感器故障"),
        ("P4", "压缩机排气温度过高"),
    ],
    "WP": [
        ("E1", "进水压力不足"),
        ("E2", "漏水保护"),
        ("E3", "制水超时"),
        ("F1", "滤芯寿命到期"),
    ],
    "EL": [
        ("E30", "门锁回路断开"),
        ("E35", "平层感应器故障"),
        ("E41", "安全回路断开"),
        ("E51", "变频器过热"),
    ],
    "IND": [
        ("A12", "主轴过载报警"),
        ("A21", "冷却液液位低"),
        ("AL03", "排气温度过高"),
    ],
    "MED": [
        ("W01", "透析液电导度异常"),
        ("W07", "静脉压超限"),
    ],
}

SYNONYMS = [
    ("漏水", "渗水 滴水 跑水 冒水"),
    ("不制冷", "不冷 制冷差 不凉 冷气不足"),
    ("不出水", "没水 出水小 无水"),
    ("异响", "噪音 杂音 响声大 嗡嗡响"),
    ("无法启动", "开不了机 不开机 启动不了 不通电"),
    ("困人", "关人 被困"),
]

# (name, service type, line code or "", steps, parts, hours)
REPAIR_TEMPLATES = [
    (
        "空调压缩机启动电容更换",
        ServiceType.REPAIR,
        "AC",
        "\n".join(
            [
                "断电并确认电容放电",
                "拆下外机顶盖，更换启动电容",
                "上电试机 15 分钟，测量运行电流",
                "清理现场，向客户说明",
            ]
        ),
        "启动电容 35μF × 1",
        Decimal("1.0"),
    ),
    (
        "净水器滤芯年度更换",
        ServiceType.MAINTENANCE,
        "WP",
        "\n".join(
            [
                "关闭进水阀，泄压",
                "更换 PP 棉、活性炭、RO 膜（按到期情况）",
                "冲洗 10 分钟，检测 TDS",
                "复位滤芯寿命提醒",
            ]
        ),
        "PP 棉滤芯 × 1\n活性炭滤芯 × 1",
        Decimal("0.5"),
    ),
    (
        "电梯门机例行保养",
        ServiceType.MAINTENANCE,
        "EL",
        "检查门刀、门球间隙\n清洁地坎与导轨\n调整门机皮带张紧度\n开关门试运行 20 次",
        "",
        Decimal("1.5"),
    ),
]


def demo_articles():
    """The demo articles' content: dicts with line (code), problem (problem type code), models
    (model codes), codes (fault codes), state (where the article ends) and author (username)."""
    return [
        {
            "line": "AC",
            "problem": "NOCOOL",
            "models": ["AC35", "AC72"],
            "codes": ["E4"],
            "title": "空调不制冷且显示 E4：室外机通信故障",
            "symptom": "开机后室内机送风但不制冷，室外机不转，面板显示 E4。",
            "cause": "室内外机通信线接触不良或被老鼠咬断；少数为室外主板通信电路损坏。",
            "solution": "\n".join(
                [
                    "断电后检查室内外机接线端子，紧固通信线",
                    "用万用表测量通信线通断，损坏则更换",
                    "上电观察室外机指示灯，仍报 E4 则更换室外主板",
                    "试机 15 分钟确认制冷正常",
                ]
            ),
            "parts": "通信线 5m\n室外主板（必要时）",
            "tools": "万用表\n螺丝刀套装",
            "hours": "1.5",
            "state": State.PUBLISHED,
            "author": "svcmanager",
        },
        {
            "line": "AC",
            "problem": "NOCOOL",
            "models": ["AC35"],
            "codes": [],
            "title": "挂机制冷差：压缩机启动电容失效",
            "symptom": "空调制冷效果差，外机有嗡嗡声但压缩机不启动。",
            "cause": "压缩机启动电容容量衰减。",
            "solution": "\n".join(
                [
                    "断电并对电容放电",
                    "测量电容容量，低于标称 80% 即更换",
                    "更换后测量压缩机运行电流",
                    "试机确认出风温度",
                ]
            ),
            "parts": "启动电容 35μF",
            "tools": "电容表\n钳形电流表",
            "hours": "1.0",
            "state": State.PUBLISHED,
            "author": "engineer",
        },
        {
            "line": "WP",
            "problem": "LEAK",
            "models": ["WP300", "WP500"],
            "codes": ["E2"],
            "title": "净水器底部漏水并报 E2",
            "symptom": "机器底部漏水，漏水保护动作，面板显示 E2，停止制水。",
            "cause": "进水电磁阀或快接头密封圈老化。",
            "solution": "\n".join(
                [
                    "关闭进水阀并断电",
                    "擦干底盘，找到渗水位置",
                    "更换进水电磁阀或快接头密封圈",
                    "复位漏水保护，通水观察 30 分钟无渗漏",
                ]
            ),
            "parts": "进水电磁阀\n密封圈 × 2",
            "tools": "扳手\n干毛巾",
            "hours": "1.0",
            "state": State.PUBLISHED,
            "author": "svcmanager",
        },
        {
            "line": "WP",
            "problem": "FILTER",
            "models": ["WP300"],
            "codes": ["F1"],
            "title": "出水有异味：滤芯到期更换",
            "symptom": "滤芯提醒灯亮，出水有异味，出水量变小。",
            "cause": "PP 棉与活性炭滤芯超期使用。",
            "solution": "\n".join(
                [
                    "关闭进水阀泄压",
                    "更换 PP 棉与活性炭滤芯",
                    "冲洗 10 分钟后检测 TDS",
                    "复位滤芯寿命",
                ]
            ),
            "parts": "PP 棉滤芯\n活性炭滤芯",
            "tools": "滤瓶扳手\nTDS 笔",
            "hours": "0.5",
            "state": State.PUBLISHED,
            "author": "engineer",
        },
        {
            "line": "EL",
            "problem": "DOOR",
            "models": ["EL1000"],
            "codes": ["E30"],
            "title": "电梯门关不到位，报 E30 门锁回路断开",
            "symptom": "电梯门关闭不到位，反复开关门，控制柜显示 E30。",
            "cause": "门刀与门球间隙过大，或门锁触点氧化。",
            "solution": "\n".join(
                [
                    "将电梯置于检修状态",
                    "调整门刀与门球间隙至标准范围",
                    "清洁并检查门锁触点",
                    "开关门试运行 20 次",
                ]
            ),
            "parts": "",
            "tools": "塞尺\n触点清洁剂",
            "hours": "2.0",
            "state": State.PUBLISHED,
            "author": "svcmanager",
        },
        {
            "line": "IND",
            "problem": "ALARM",
            "models": ["IND37"],
            "codes": ["AL03"],
            "title": "空压机报 AL03 排气温度过高",
            "symptom": "空压机运行一段时间后停机，控制器报警 AL03。",
            "cause": "油冷却器脏堵或润滑油不足。",
            "solution": "\n".join(
                [
                    "停机泄压",
                    "检查油位，不足则补油",
                    "清洗油冷却器翅片",
                    "开机运行 30 分钟观察排气温度",
                ]
            ),
            "parts": "螺杆空压机油 5L",
            "tools": "高压清洗机",
            "hours": "2.5",
            "state": State.PUBLISHED,
            "author": "svcmanager",
        },
        {
            "line": "AC",
            "problem": "NOISE",
            "models": ["AC72"],
            "codes": [],
            "title": "柜机运行异响：风机叶轮松动",
            "symptom": "柜机运行时有明显异响和振动。",
            "cause": "室内风机叶轮紧固螺钉松动。",
            "solution": "断电拆下面板\n紧固风机叶轮螺钉\n检查电机轴承\n试机确认异响消除",
            "parts": "",
            "tools": "内六角扳手",
            "hours": "1.0",
            "state": State.REVIEW,
            "author": "engineer",
        },
        {
            "line": "EL",
            "problem": "TRAPPED",
            "models": [],
            "codes": ["E41"],
            "title": "电梯困人应急处置（草稿）",
            "symptom": "电梯停在两层之间，轿厢内有人被困，报 E41。",
            "cause": "",
            "solution": "安抚被困人员，确认人数\n切断主电源\n手动盘车至平层\n打开厅门救出被困人员",
            "parts": "",
            "tools": "盘车手轮\n厅门钥匙",
            "hours": "",
            "state": State.DRAFT,
            "author": "dispatcher",
        },
    ]


def seed(out):
    lines = {line.code: line for line in ProductLine.objects.all()}
    created_codes = 0
    for line_code, codes in FAULT_CODES.items():
        if line_code not in lines:
            continue
        for code, meaning in codes:
            _obj, new = FaultCode.objects.get_or_create(
                product_line=lines[line_code], code=code, defaults={"meaning": meaning}
            )
            created_codes += new
    created_synonyms = 0
    for word, variants in SYNONYMS:
        _obj, new = Synonym.objects.get_or_create(word=word, defaults={"variants": variants})
        created_synonyms += new
    created_templates = 0
    for name, service_type, line_code, steps, parts, hours in REPAIR_TEMPLATES:
        _obj, new = RepairTemplate.objects.get_or_create(
            name=name,
            defaults={
                "service_type": service_type,
                "product_line": lines.get(line_code),
                "steps": steps,
                "parts": parts,
                "labour_hours": hours,
            },
        )
        created_templates += new
    created_articles = 0 if Article.objects.exists() else _articles(lines)
    created_articles += _corpus(lines)
    return [
        SummaryRow("fault codes", FaultCode.objects.count(), created_codes),
        SummaryRow("synonyms", Synonym.objects.count(), created_synonyms),
        SummaryRow("repair templates", RepairTemplate.objects.count(), created_templates),
        SummaryRow("knowledge articles", Article.objects.count(), created_articles),
    ]


def _articles(lines):
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["svcmanager", "engineer", "dispatcher"])
    }
    reviewer = users.get("svcmanager")
    if reviewer is None:
        return 0
    problems = {p.code: p for p in ProblemType.objects.all()}
    models_ = {m.code: m for m in ProductModel.objects.all()}
    created = 0
    for item in demo_articles():
        line = lines.get(item["line"])
        author = users.get(item["author"], reviewer)
        article = Article(
            title=item["title"],
            symptom=item["symptom"],
            cause=item["cause"],
            solution=item["solution"],
            parts=item["parts"],
            tools=item["tools"],
            labour_hours=Decimal(item["hours"]) if item["hours"] else None,
            product_line=line,
            problem_type=problems.get(item["problem"]),
        )
        codes = FaultCode.objects.filter(product_line=line, code__in=item["codes"]) if line else []
        saved = services.save_article(
            article,
            author,
            fault_codes=list(codes),
            product_models=[models_[c] for c in item["models"] if c in models_],
        )
        if item["state"] in (State.REVIEW, State.PUBLISHED):
            saved = services.perform(saved, "submit", author)
        if item["state"] == State.PUBLISHED:
            services.perform(saved, "publish", reviewer)
        created += 1
    return created


def _corpus(lines):
    """The search corpus's published articles (knowledge/data/corpus.json), each with its first
    version as the pages expect (the corpus loader writes the articles only)."""
    reviewer = User.objects.filter(username="svcmanager").first()
    if reviewer is None:
        return 0
    models = {m.code: m for m in ProductModel.objects.all()}
    created = load_corpus(reviewer, lines, models)["articles"]
    unversioned = Article.objects.filter(revisions__isnull=True).prefetch_related(
        "fault_codes", "product_models"
    )
    ArticleRevision.objects.bulk_create(
        ArticleRevision(
            article=article,
            number=article.version,
            data=services.revision_data(
                article,
                [code.pk for code in article.fault_codes.all()],
                [model.pk for model in article.product_models.all()],
            ),
            author=reviewer,
        )
        for article in unversioned
    )
    return created
