"""Demo service requests for `seed_demo`: 90 days of a service department's history, lived
through the real services under a controlled clock.

Every request has a story (entered, assigned, accepted, checked in, visited, revisited, closed,
verified; now and then declined, suspended, sent back, not resolved, called back twice) whose
steps are spaced by working time: requests come in on working days in office hours, and each
step follows the one before by a realistic gap (a response within its SLA target most of the
time, a visit of 30 to 180 minutes, a revisit call within a day, 核销 a few days later). All
the stories run in one time line: each step is taken by `services` with the clock
(time-machine) set to its moment, so every row, log entry, SLA clock, notification and
`auto_now` field carries the simulated time, and the SLA timer (`timers.every_minute`) runs at
each moment a warning or a breach falls due, as beat would have. Nothing is later than now and
nothing falls outside the business calendar's hours; the requests still open are the recent
ones, so the desk looks like today's.

Deterministic (a seeded random; the dates move with the day the command runs) and idempotent:
problem types are matched by code, and requests are added only while the database has none.
"""

import heapq
import logging
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.conf import settings
from django.db.models import F, Min, Q
from django.utils import timezone

from aftersales.deadlines import statutory_calendar
from aftersales.demo import SummaryRow
from aftersales.lib.business_time import working_time_between
from aftersales.models import Delivery, EngineerProfile, Notification, ProductLine, User
from aftersales.roles import Role
from customers.models import Customer, Equipment, Priority, ServiceAgreement

from . import intake, services, sla, timers
from .models import Channel, ChargeType, Intake, ProblemType, Revisit, ServiceType, State, Ticket

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
WORK = [
    ("更换压缩机启动电容，试机制冷正常。", [("启动电容 35μF", 1)]),
    ("更换进水电磁阀及密封圈，观察 30 分钟无渗漏。", [("电磁阀", 1), ("密封圈", 2)]),
    ("调整门机皮带张紧度，清洁导轨，试运行 20 次正常。", []),
    ("更换 PP 棉与活性炭滤芯，冲洗后水质检测合格。", [("PP 棉滤芯", 1), ("活性炭滤芯", 1)]),
    ("复位控制器，更新参数，报警消除。", []),
]
UNRESOLVED = ["缺少专用备件，需厂家支持", "主板故障，需返厂检测", "客户现场停电，无法试机"]
DECLINES = ["当天已排满，无法前往", "不熟悉该型号，建议改派"]
SUSPENDS = ["客户出差，约定下周再联系", "客户要求延后上门", "等待客户确认报价"]
CANCELS = ["客户已自行解决，撤回报修", "重复报修，已合并到另一工单"]
REVISIT_COMMENTS = ["师傅很专业", "响应及时", "", "", "维修后运行正常"]
SEND_BACKS = ["工时与现场记录不符，请核对", "配件数量有误，请更正"]

# Where the history starts: this many days before today.
HISTORY_DAYS = 89
# How many demo requests end in each state, and when they were entered: between this many
# working days before now (the most recent first). The open ones are recent, as a desk's are.
PLAN = [
    (State.PENDING_ASSIGNMENT, 20, (0, 0.5)),
    (State.SUSPENDED, 4, (2, 10)),
    (State.ASSIGNED, 18, (0.05, 2)),
    (State.IN_SERVICE, 8, (0.3, 2)),
    (State.PROCESSED, 14, (1, 4)),
    (State.CLOSED, 12, (2.5, 8)),
    (State.VERIFIED, 84, (6, None)),  # None: from the first day of the history
    (State.LOCKED, 4, (4, 25)),
    (State.CANCELLED, 8, (0.5, None)),
]
MINUTE = 60
HOUR = 60 * MINUTE
# A working day of the statutory calendar (09:00–12:00, 13:00–18:00), for spacing only.
WORKDAY = 8 * HOUR
LABOUR_RATE = Decimal(180)  # CNY an hour
FREE_UNDER_AGREEMENT = {
    ServiceAgreement.Charging.ANNUAL_FEE,
    ServiceAgreement.Charging.WARRANTY_FREE,
}


def seed(out):
    """Write the missing problem types, and the demo history while there are no requests;
    return the summary rows (`out` is not written to: the command prints the summary)."""
    problem_types = 0
    lines = {line.code: line for line in ProductLine.objects.all()}
    for code, name, line_codes in PROBLEM_TYPES:
        problem, new = ProblemType.objects.get_or_create(code=code, defaults={"name": name})
        problem_types += new
        if new:
            problem.product_lines.set([lines[c] for c in line_codes if c in lines])
    tickets = 0 if Ticket.objects.exists() else _History(timezone.now()).run()
    first = Ticket.objects.aggregate(first=Min("created_at"))["first"]
    since = f"since {timezone.localdate(first):%Y-%m-%d}" if first else ""
    return [
        SummaryRow("problem types", ProblemType.objects.count(), problem_types),
        SummaryRow("service requests", Ticket.objects.count(), tickets, since),
        SummaryRow(
            "portal requests to match",
            Intake.objects.filter(status=Intake.Status.WAITING).count(),
            0,
        ),
    ]


def _customer_doors():
    """What customers sent themselves lately: two faults reported from the units' QR
    codes, and a portal request naming no unit we know (it waits on the desk to be matched)."""
    units = (
        Equipment.objects.filter(tickets__isnull=True)
        .select_related("customer", "product_model")
        .order_by("serial_no")[:2]
    )
    reports = [
        ("刘女士", "13761234501", "设备运行时噪音很大，偶尔报警 E2", "morning"),
        ("陈工", "13761234502", "开机后显示屏不亮，指示灯闪烁", "afternoon"),
    ]
    entered = 0
    for unit, (name, mobile, text, window) in zip(units, reports, strict=False):
        intake.report_fault(
            unit,
            channel=Channel.QR,
            contact_name=name,
            mobile=mobile,
            description=text,
            requested_date=timezone.localdate() + timedelta(days=1),
            requested_window=window,
        )
        entered += 1
    intake.portal_request(
        "13761234503",
        serial_no="",
        contact_name="周先生",
        description="店里的冷柜不制冷，温度显示 12℃，序列号找不到",
        company="杭州周记餐饮",
        product="商用冷柜",
        address="杭州市西湖区文三路 88 号",
    )
    return entered


class _Timeline:
    """The working time of the history as a line of seconds: 0 is the opening of its first
    working day, `end` is now (or the last closing time before it, at night and on days off)."""

    def __init__(self, cal, now):
        self.cal = cal
        today = timezone.localdate(now)
        self.days = []  # (date, offset of its opening, its working intervals)
        offset = 0
        day = today - timedelta(days=HISTORY_DAYS)
        while day <= today:
            if hours := cal.hours_on(day):
                self.days.append((day, offset, hours))
                offset += cal.total_on(day)
            day += timedelta(days=1)
        self.openings = [opening for _day, opening, _hours in self.days]
        self.end = int(working_time_between(cal, self.moment(0), now).total_seconds())
        if self.end and self.moment(self.end) > now:
            # At night before a working day, `end` is that day's opening (in the future): the
            # history ends a second before the last closing time instead.
            self.end -= 1

    def moment(self, offset):
        """The wall-clock moment `offset` working seconds into the history. The end of an
        interval is the start of the next one: only the day's closing time ends a day."""
        index = max(bisect_right(self.openings, offset) - 1, 0)
        day, opening, hours = self.days[index]
        left = offset - opening
        for start, end in hours:
            if left < end - start or (start, end) == hours[-1]:
                midnight = datetime.combine(day, time(), tzinfo=self.cal.tz)
                return midnight + timedelta(seconds=start + left)
            left -= end - start
        raise AssertionError("not reached")

    def fit(self, offset, length):
        """`offset`, or the start of the next working interval when the one of `offset` has
        less than `length` seconds left."""
        index = max(bisect_right(self.openings, offset) - 1, 0)
        _day, opening, hours = self.days[index]
        left = offset - opening
        for start, end in hours:
            if left < end - start:
                rest = end - start - left
                return offset if rest >= length else offset + rest
            left -= end - start
        return offset

    def opening(self, offset, later):
        """The opening of the working day `later` working days after the one of `offset`."""
        index = max(bisect_right(self.openings, offset) - 1, 0)
        return self.openings[min(index + later, len(self.openings) - 1)]


@dataclass
class _Cast:
    """The people of the history."""

    dispatcher: User
    manager: User
    agent: User
    demo_engineer: User
    demo_skills: set
    # (user, city region id, parent region id, product line codes, on leave)
    engineers: list
    # {agreement id: its charging method}
    charging: dict


class _History:
    def __init__(self, now):
        self.now = now
        self.rng = random.Random(20261122)
        calendar = sla.default_calendar()
        cal = calendar.calendar if calendar else statutory_calendar()
        self.line = _Timeline(cal, now)
        # The earliest moment the every-minute timer may find something to do (None: never).
        self.timer_due = None

    def run(self):
        """Live every story in one time line; return how many requests were entered."""
        cast = self._cast()
        customers = list(
            Customer.objects.prefetch_related(
                "contacts", "equipment__product_model__line"
            ).select_related("region")
        )
        customers.sort(key=lambda c: c.code)
        problems = list(ProblemType.objects.prefetch_related("product_lines").order_by("code"))
        stories = []
        for final, count, window in PLAN:
            for index, entered in enumerate(self._entry_times(count, window)):
                stories.append(_Story(self, cast, final, index, entered, customers, problems))
        stories.sort(key=lambda story: story.w)
        queue = []
        for seq, story in enumerate(stories):
            steps = story.steps()
            queue.append((next(steps), seq, steps))
        heapq.heapify(queue)
        # The timer's one log line per run belongs to a live demo, not to its history.
        timer_log = logging.getLogger(timers.__name__)
        level = timer_log.level
        timer_log.setLevel(logging.WARNING)
        try:
            with time_machine.travel(self.line.moment(0), tick=False) as clock:
                while queue:
                    offset, seq, steps = heapq.heappop(queue)
                    moment = self.line.moment(offset)
                    self._run_timers(clock, moment)
                    clock.move_to(moment)
                    following = next(steps, None)
                    if following is not None:
                        heapq.heappush(queue, (following, seq, steps))
                    self._expect(stories[seq].ticket)
                # Half an hour before the end, in working time like the rest of the history.
                clock.move_to(self.line.moment(self.line.end - 30 * MINUTE))
                entered = _customer_doors()
                self._run_timers(clock, self.line.moment(self.line.end))
        finally:
            timer_log.setLevel(level)
        self._settle_messages()
        return len(stories) + entered

    def _expect(self, ticket):
        """Note when the timer will next have something to do for `ticket` (its next warning
        or due time, its revisit's due time), so the table is asked only then."""
        moments = [self.timer_due, ticket.sla_check_at]
        if ticket.state == State.PROCESSED and ticket.revisit_overdue_at is None:
            moments.append(ticket.revisit_due)
        self.timer_due = min((m for m in moments if m is not None), default=None)

    def _entry_times(self, count, window):
        """`count` entry offsets spread evenly over `window` (working days before the end, the
        most recent first): one in each equal slice, at random within it."""
        recent, oldest = window
        hi = self.line.end - recent * WORKDAY
        lo = 0 if oldest is None else max(self.line.end - oldest * WORKDAY, 0)
        width = (hi - lo) / count
        return [int(lo + (k + self.rng.random()) * width) for k in range(count)]

    def _run_timers(self, clock, moment):
        """Run the every-minute timer at each moment before `moment` when a warning, a breach
        or an overdue revisit fell due, as beat would have."""
        if self.timer_due is None or self.timer_due > moment:
            return
        while True:
            due = Ticket.objects.aggregate(
                check=Min("sla_check_at"),
                revisit=Min(
                    "revisit_due",
                    filter=Q(state=State.PROCESSED, revisit_overdue_at__isnull=True),
                ),
            )
            self.timer_due = min((m for m in due.values() if m is not None), default=None)
            if self.timer_due is None or self.timer_due > moment:
                return
            at = self.timer_due
            clock.move_to(at)
            timers.every_minute(at)

    def _cast(self):
        def first(role):
            return User.objects.filter(groups__name=role).order_by("username").first()

        demo_engineer = User.objects.get(username="engineer")
        engineers = []
        profiles = EngineerProfile.objects.select_related("user", "service_point__region")
        for p in profiles.prefetch_related("skills").order_by("employee_no"):
            region = p.service_point.region
            skills = {line.code for line in p.skills.all()}
            on_leave = p.availability == EngineerProfile.Availability.ON_LEAVE
            if p.user_id == demo_engineer.pk:
                demo_skills = skills
                continue
            engineers.append((p.user, region.pk, region.parent_id or region.pk, skills, on_leave))
        return _Cast(
            dispatcher=first(Role.DISPATCHER),
            manager=first(Role.SERVICE_MANAGER),
            agent=first(Role.REVISIT_AGENT),
            demo_engineer=demo_engineer,
            demo_skills=demo_skills,
            engineers=engineers,
            charging=dict(ServiceAgreement.objects.values_list("pk", "charging_method")),
        )

    def _settle_messages(self):
        """The history's messages went out at their time, and all but the last two days' were
        read: its outbox rows are sent (nothing is mailed again now)."""
        Delivery.objects.filter(status=Delivery.Status.PENDING, created_at__lt=self.now).update(
            status=Delivery.Status.SENT, attempts=1, sent_at=F("created_at")
        )
        read_before = self.line.moment(max(self.line.end - 2 * WORKDAY, 0))
        Notification.objects.filter(created_at__lt=read_before, read_at=None).update(
            read_at=F("created_at")
        )


class _Story:
    """One request's life. `steps()` is a generator: it yields the working offset of its next
    step, and takes that step when the history resumes it with the clock set there."""

    def __init__(self, history, cast, final, index, entered, customers, problems):
        self.line = history.line
        self.today = timezone.localdate(history.now)
        self.cast = cast
        self.final = final
        self.index = index
        self.w = self.entered = entered
        self.end = self.line.end
        self.rng = rng = random.Random(history.rng.random())
        self.recent = final not in (State.VERIFIED, State.CANCELLED)

        self.customer = rng.choice(customers)
        day = timezone.localdate(self.line.moment(entered))
        units = [
            u
            for u in self.customer.equipment.all()
            if u.status not in (Equipment.Status.SCRAPPED, Equipment.Status.IN_STOCK)
            and u.install_date is not None
            and u.install_date < day
        ]
        self.unit = rng.choice(units) if units else None
        self.service_type = rng.choice(
            [ServiceType.REPAIR] * 6 + [ServiceType.MAINTENANCE, ServiceType.INSPECTION]
        )
        self.problem = rng.choice(_fitting(problems, self.unit))
        self.priority = rng.choice(
            [Priority.URGENT] + [Priority.HIGH] * 2 + [Priority.NORMAL] * 5 + [Priority.LOW]
        )
        self.channel = rng.choice([Channel.PHONE] * 5 + [Channel.WECHAT, Channel.QR])
        self.description = rng.choice(DESCRIPTIONS)
        self.engineer = self._pick_engineer()

        # The twists of the story, where the final state leaves room for them.
        done = final in (State.VERIFIED, State.CLOSED)
        self.declined = rng.random() < 0.06 and final != State.PENDING_ASSIGNMENT
        self.paused = rng.random() < 0.06 and (done or final == State.PROCESSED)
        self.second_round = rng.random() < 0.08 and (done or final == State.PROCESSED)
        self.unreachable = rng.random() < 0.12 and done
        self.sent_back = rng.random() < 0.08 and done
        # A day the customer asked for, on single-visit stories only: a timer would lock a
        # request still waiting after its date.
        self.requested = None  # the offset of that day's opening, when visited then
        self.requested_date = None
        if rng.random() < 0.3 and not (self.second_round or self.paused or self.declined):
            if final in (State.PENDING_ASSIGNMENT, State.ASSIGNED):
                self.requested_date = self.today + timedelta(days=rng.randint(0, 5))
            elif final in (State.PROCESSED, State.CLOSED, State.VERIFIED):
                opening = self.line.opening(entered, rng.randint(1, 3))
                if opening > entered + 2 * HOUR:
                    self.requested = opening
                    self.requested_date = timezone.localdate(self.line.moment(opening))

    def _pick_engineer(self, other_than=None):
        """An engineer near the customer who knows the unit's product line; the demo login
        gets every third job they can do, so their phone pages have work and history."""
        line = self.unit.product_model.line.code if self.unit else None
        demo = self.cast.demo_engineer
        if (
            self.index % 3 == 0
            and other_than != demo
            and (line in self.cast.demo_skills or not line)
        ):
            return demo
        region = self.customer.region
        city = region.pk if region else None
        parent = (region.parent_id or region.pk) if region else None
        nearness = [lambda e: e[1] == city, lambda e: e[2] == parent, lambda e: True]
        for near in nearness:
            found = [
                e[0]
                for e in self.cast.engineers
                if e[0] != other_than
                and not (self.recent and e[4])
                and (line is None or line in e[3])
                and near(e)
            ]
            if found:
                return self.rng.choice(found)
        return demo

    # Spacing ----------------------------------------------------------------------------------

    def after(self, gap, left=1):
        """Move on by `gap` working seconds, leaving room for `left` steps (this one included)
        before the end: a story entered late in the history is told faster."""
        room = (self.end - self.w) / left
        self.w = min(self.w + max(int(min(gap, room)), MINUTE), self.end)
        return self.w

    def minutes(self, lo, hi):
        return self.rng.uniform(lo, hi) * MINUTE

    def toward(self, target, share, fallback):
        """The gap to a moment that uses `share` (lo, hi) of the target's time since entry: in
        time mostly, late now and then, as a real department's SLA report shows. `fallback`
        when the target is met already or has no time."""
        ticket = self.ticket
        due = getattr(ticket, f"{target}_due")
        if due is None or getattr(ticket, f"{target}_met_at") is not None:
            return fallback
        # (The demo's agreements name no calendar: every clock counts in the history's.)
        budget = working_time_between(self.line.cal, ticket.created_at, due).total_seconds()
        lo, hi = (1.05, 1.6) if self.rng.random() < 0.1 else share
        return max(budget * self.rng.uniform(lo, hi) - (self.w - self.entered), 3 * MINUTE)

    # The story --------------------------------------------------------------------------------

    def steps(self):
        yield self.w
        self._enter()
        final = self.final
        if final == State.PENDING_ASSIGNMENT:
            return
        if final == State.SUSPENDED or self.paused:
            yield self.after(self.minutes(5, 90), 6)
            self._do("suspend", self.cast.dispatcher, reason=self.rng.choice(SUSPENDS))
            if final == State.SUSPENDED:
                return
            yield self.after(self.rng.uniform(0.5, 3) * WORKDAY, 6)
            self._do("resume", self.cast.dispatcher)
        if final == State.CANCELLED:
            yield self.after(self.minutes(10, 600))
            self._do("cancel", self.cast.dispatcher, reason=self.rng.choice(CANCELS))
            return
        yield from self._assign(left=6)
        if final == State.ASSIGNED:
            if self.rng.random() < 0.5:
                yield self.after(self.minutes(2, 45))
                self._do("accept", self.engineer)
            return
        if final == State.LOCKED:
            yield from self._visit(resolved=False, left=4)
            yield from self._assign(left=3)
            yield from self._visit(resolved=False, left=2)
            return
        if self.second_round:
            yield from self._visit(resolved=False, left=6)
            yield from self._assign(left=5)
        yield from self._visit(resolved=True, left=4, finish=final != State.IN_SERVICE)
        if final in (State.IN_SERVICE, State.PROCESSED):
            return
        yield from self._revisit()
        if self.sent_back:
            yield self.after(self.rng.uniform(0.5, 2) * WORKDAY, 3)
            self._do("send_back", self.cast.manager, reason=self.rng.choice(SEND_BACKS))
            if final == State.CLOSED and self.rng.random() < 0.5:
                return  # the engineer's correction is still to come
            yield self.after(self.minutes(30, 400), 2)
            self.ticket = services.correct_visit(
                self.ticket,
                self.engineer,
                version=None,
                record={"labour_hours": self.hours + Decimal("0.5")},
                parts=self.parts,
            )
        if final == State.CLOSED:
            return
        # 核销: the service manager goes through the closed requests every few days.
        yield self.after(self.rng.uniform(0.3, 4) * WORKDAY)
        self._do("verify", self.cast.manager)

    def _do(self, action, actor, **kwargs):
        self.ticket = services.perform(self.ticket, action, actor, **kwargs)

    def _enter(self):
        contact = next((c for c in self.customer.contacts.all() if c.is_primary), None)
        ticket = Ticket(
            customer=self.customer,
            contact=contact,
            equipment=self.unit,
            address=self.customer.address,
            service_type=self.service_type,
            problem_type=self.problem,
            priority=self.priority,
            channel=self.channel,
            description=self.description,
            requested_date=self.requested_date,
            created_at=timezone.now(),
        )
        self.ticket = services.enter_ticket(ticket, self.cast.dispatcher)

    def _assign(self, left):
        # The dispatcher answers within the response time, most of the time; a customer's day
        # is always given to an engineer before it comes.
        gap = self.toward("response", (0.1, 0.75), self.minutes(20, 240))
        if self.requested is not None:
            gap = min(gap, self.requested - HOUR - self.w)
        yield self.after(gap, left)
        self._do("assign", self.cast.dispatcher, engineer=self.engineer)
        if self.declined:
            self.declined = False
            yield self.after(self.minutes(5, 60), left)
            self._do("decline", self.engineer, reason=self.rng.choice(DECLINES))
            self.engineer = self._pick_engineer(other_than=self.engineer)
            yield self.after(self.minutes(5, 40), left)
            self._do("assign", self.cast.dispatcher, engineer=self.engineer)

    def _visit(self, resolved, left, finish=True):
        if self.rng.random() < 0.7:
            yield self.after(self.minutes(2, 45), left)
            self._do("accept", self.engineer)
        if self.requested is not None and self.requested > self.w:
            # Some time on the day the customer asked for.
            self.after(self.requested - self.w + self.minutes(0, 300), left)
        elif not finish:
            # On site now: arrived a little while before the end of the history.
            self.after(self.end - self.w - self.minutes(10, 150), left)
        else:
            fallback = self.rng.uniform(0.2, 1.5) * WORKDAY
            self.after(self.toward("arrival", (0.3, 0.9), fallback), left)
        on_site = self.minutes(30, 180)
        if finish:
            # A visit is one stretch of work: it starts when there is time for it before the
            # lunch break or the evening.
            self.w = min(self.line.fit(self.w, on_site), self.end)
        yield self.w
        self.ticket = services.check_in(self.ticket, self.engineer)
        if not finish:
            return
        arrived = self.w
        yield self.after(on_site, left - 1)
        # Labour hours as an engineer writes them: the time on site, by the half hour.
        self.hours = Decimal(max(round((self.w - arrived) / (HOUR / 2)), 1)) / 2
        work, parts = self.rng.choice(WORK)
        self.parts = parts if resolved else []
        self.ticket = services.finish_visit(
            self.ticket,
            self.engineer,
            version=None,
            record=self._record(work if resolved else "", self.hours),
            parts=self.parts,
            photos=[],
            signature=None,
            resolved=resolved,
            reason="" if resolved else self.rng.choice(UNRESOLVED),
        )
        if not resolved:
            # The next round goes to another engineer, some hours later.
            self.engineer = self._pick_engineer(other_than=self.engineer)
            self.after(self.rng.uniform(0.3, 1.5) * WORKDAY, left)

    def _record(self, work, hours):
        charging = self.cast.charging.get(self.ticket.agreement_id)
        unit = self.unit
        if unit is not None and unit.warranty_end and unit.warranty_end >= timezone.localdate():
            return {"work_done": work, "labour_hours": hours, "charge": ChargeType.WARRANTY}
        if charging in FREE_UNDER_AGREEMENT:
            return {"work_done": work, "labour_hours": hours, "charge": ChargeType.AGREEMENT}
        return {
            "work_done": work,
            "labour_hours": hours,
            "charge": ChargeType.CHARGED,
            "labour_fee": LABOUR_RATE * hours,
            "travel_fee": Decimal(self.rng.choice([30, 50, 80])),
        }

    def _revisit(self):
        agent = self.cast.agent
        if self.unreachable:
            yield self.after(self.minutes(30, 240), 4)
            self.ticket = services.record_revisit(
                self.ticket,
                agent,
                version=None,
                outcome=Revisit.Outcome.UNREACHABLE,
                comment="电话无人接听，稍后再拨",
            )
        # Within the revisit time mostly (a day or so), now and then after it.
        within = settings.REVISIT_WITHIN_HOURS * HOUR
        late = self.rng.random() < 0.08
        gap = within * self.rng.uniform(1.05, 1.3) if late else self.minutes(40, 900)
        yield self.after(gap, 3)
        self.ticket = services.record_revisit(
            self.ticket,
            agent,
            version=None,
            outcome=Revisit.Outcome.SATISFIED,
            score=self.rng.choice([3, 4, 4, 5, 5, 5]),
            comment=self.rng.choice(REVISIT_COMMENTS),
        )


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
