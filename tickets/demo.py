"""Demo service requests for `seed_demo`: every state of the closed loop, through the services.

Deterministic (a seeded random), and idempotent: problem types are matched by code, and
tickets are added only while the database has none.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from aftersales.demo import SummaryRow
from aftersales.models import ProductLine, User
from aftersales.roles import Role
from customers.models import Customer, Priority

from . import services
from .models import Channel, ProblemType, Revisit, ServiceType, State, Ticket, Visit

# (code, name, the product lines it applies to: aftersales.demo.PRODUCT_LINES; none: every line)
PROBLEM_TYPES = [
    ("NOCOOL", "不制冷 / 不制热", ["AC"]),
    ("LEAK", "漏水", ["WP", "AC"]),
    ("NOISE", "异响 / 振动", []),
    ("NOSTART", "无法启动", []),
    ("ERRCODE", "显示故障代码", []),
    ("FILTER", "滤芯到期 / 水质异常", ["WP"]),
    ("TRAPPED", "电梯困人", ["EL"]),
    ("DOOR", "门机故障", ["EL"]),
    ("ALARM", "控制系统报警", ["EL", "IND", "MED"]),
    ("INSTALL", "新机安装", []),
    ("OTHER", "其他", []),
]
DESCRIPTIONS = [
    "空调开机后不制冷，室外机不转，显示 E4。",
    "净水器底部漏水，已关闭进水阀。",
    "电梯运行时有明显异响，客户要求尽快检查。",
    "设备通电后无法启动，指示灯不亮。",
    "控制面板报警 A12，生产线已停机。",
    "滤芯更换提醒已亮，出水有异味。",
    "电梯门关闭不到位，反复开关。",
    "新购设备需要安装调试。",
    "客户咨询保养周期和收费标准。",
]
# How many demo tickets end in each state.
PLAN = [
    (State.PENDING_ASSIGNMENT, 24),
    (State.SUSPENDED, 4),
    (State.ASSIGNED, 18),
    (State.IN_SERVICE, 8),
    (State.PROCESSED, 14),
    (State.CLOSED, 12),
    (State.VERIFIED, 24),
    (State.LOCKED, 4),
    (State.CANCELLED, 4),
]
WORK = [
    ("更换压缩机启动电容，试机制冷正常。", [("启动电容 35μF", 1)]),
    ("更换进水电磁阀及密封圈，观察 30 分钟无渗漏。", [("电磁阀", 1), ("密封圈", 2)]),
    ("调整门机皮带张紧度，清洁导轨，试运行 20 次正常。", []),
    ("更换 PP 棉与活性炭滤芯，冲洗后水质检测合格。", [("PP 棉滤芯", 1), ("活性炭滤芯", 1)]),
    ("复位控制器，更新参数，报警消除。", []),
]


def seed(out):
    """Write the missing problem types, and the demo tickets while there are none; return the
    summary rows (`out` is not written to: the command prints the summary)."""
    problem_types = 0
    lines = {line.code: line for line in ProductLine.objects.all()}
    for code, name, line_codes in PROBLEM_TYPES:
        problem, new = ProblemType.objects.get_or_create(code=code, defaults={"name": name})
        problem_types += new
        if new:
            problem.product_lines.set([lines[c] for c in line_codes if c in lines])
    tickets = 0 if Ticket.objects.exists() else _seed_tickets(timezone.localdate())
    states = Ticket.objects.values_list("state").annotate(n=Count("id")).order_by("state")
    return [
        SummaryRow("problem types", ProblemType.objects.count(), problem_types),
        SummaryRow(
            "service requests",
            Ticket.objects.count(),
            tickets,
            ", ".join(f"{n} {state}" for state, n in states),
        ),
    ]


def _seed_tickets(today):
    """Create the demo tickets; return how many."""
    created = 0
    rng = random.Random(20261122)
    people = {
        role: list(User.objects.filter(groups__name=role).order_by("username"))
        for role in (Role.DISPATCHER, Role.SERVICE_MANAGER, Role.REVISIT_AGENT, Role.ENGINEER)
    }
    dispatcher = people[Role.DISPATCHER][0]
    manager = people[Role.SERVICE_MANAGER][0]
    agent = people[Role.REVISIT_AGENT][0]
    demo_engineer = User.objects.get(username="engineer")
    engineers = [u for u in people[Role.ENGINEER] if u.pk != demo_engineer.pk]
    problems = list(ProblemType.objects.prefetch_related("product_lines").order_by("code"))
    customers = Customer.objects.prefetch_related("contacts", "equipment__product_model")
    customers = list(customers.order_by("code")[:120])
    now = timezone.now()

    for state, count in PLAN:
        for i in range(count):
            customer = rng.choice(customers)
            units = list(customer.equipment.all())
            contact = next((c for c in customer.contacts.all() if c.is_primary), None)
            # The demo engineer gets every third job, so their phone pages have work.
            engineer = demo_engineer if i % 3 == 0 else rng.choice(engineers)
            unit = rng.choice(units) if units else None
            ticket = Ticket(
                customer=customer,
                contact=contact,
                equipment=unit,
                address=customer.address,
                service_type=rng.choice(
                    [ServiceType.REPAIR] * 5 + [ServiceType.MAINTENANCE, ServiceType.INSTALLATION]
                ),
                problem_type=rng.choice(_fitting(problems, unit)),
                priority=rng.choice(
                    [Priority.URGENT] + [Priority.HIGH] * 2 + [Priority.NORMAL] * 4 + [Priority.LOW]
                ),
                channel=rng.choice([Channel.PHONE] * 4 + [Channel.WECHAT, Channel.QR]),
                description=rng.choice(DESCRIPTIONS),
                requested_date=today + timedelta(days=rng.randint(0, 6)) if i % 2 else None,
                created_at=now - timedelta(minutes=rng.randint(30, 60 * 72)),
            )
            ticket = services.enter_ticket(ticket, dispatcher)
            _bring_to(state, ticket, rng, dispatcher, manager, agent, engineer)
            created += 1
    return created


def _fitting(problems, unit):
    """The problem types a unit of this one's product line may have (all of them: no unit)."""
    if unit is None:
        return problems
    fitting = []
    for problem in problems:
        lines = {line.pk for line in problem.product_lines.all()}
        if not lines or unit.product_model.line_id in lines:
            fitting.append(problem)
    return fitting


def _bring_to(state, t, rng, dispatcher, manager, agent, engineer):
    perform = services.perform
    if state == State.SUSPENDED:
        perform(t, "suspend", dispatcher, reason="客户出差，约定下周再联系")
        return
    if state == State.CANCELLED:
        perform(t, "cancel", dispatcher, reason="客户已自行解决，撤回报修")
        return
    if state == State.PENDING_ASSIGNMENT:
        return
    t = perform(t, "assign", dispatcher, engineer=engineer)
    if state == State.LOCKED:
        for _round in range(2):
            if t.state != State.ASSIGNED:
                t = perform(t, "assign", dispatcher, engineer=engineer)
            t = services.check_in(t, engineer)
            t = perform(t, "not_resolved", engineer, reason="缺少专用备件，需厂家支持")
        return
    if state == State.ASSIGNED:
        if rng.random() < 0.5:
            perform(t, "accept", engineer)
        return
    t = services.check_in(t, engineer)
    if state == State.IN_SERVICE:
        return
    t = perform(t, "resolve", engineer, then=lambda ticket: _record_visit(ticket, rng))
    if state == State.PROCESSED:
        return
    t = services.record_revisit(
        t,
        agent,
        version=None,
        outcome=Revisit.Outcome.SATISFIED,
        score=rng.choice([4, 5, 5]),
        comment=rng.choice(["师傅很专业", "响应及时", ""]),
    )
    if state == State.CLOSED:
        return
    perform(t, "verify", manager)


def _record_visit(ticket, rng):
    visit = ticket.visits.filter(result=Visit.Result.OPEN).last()
    work, parts = rng.choice(WORK)
    visit.work_done = work
    visit.result = Visit.Result.RESOLVED
    visit.finished_at = timezone.now()
    visit.labour_hours = Decimal(rng.choice(["0.5", "1.0", "1.5", "2.0", "3.0"]))
    in_warranty = ticket.equipment is not None and ticket.equipment.warranty_status == "in"
    visit.charge = "warranty" if in_warranty else "charged"
    visit.labour_fee = Decimal("0") if in_warranty else Decimal(rng.choice([120, 180, 260]))
    visit.travel_fee = Decimal("0") if in_warranty else Decimal(rng.choice([30, 50, 80]))
    visit.save()
    for name, qty in parts:
        visit.parts.create(name=name, quantity=qty)
