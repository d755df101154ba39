"""factory_boy factories for the project's models.

Values are built from sequences so they look Chinese, stay unique where the model needs it, and
never depend on a network or on Faker's random state.
"""

import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from aftersales.models import EngineerProfile, ProductLine, Region, ServicePoint, User
from aftersales.roles import Role
from customers.models import (
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

TEST_PASSWORD = "pass12345"

_CITIES = ["上海", "杭州", "南京", "广州", "深圳", "北京", "天津", "成都", "重庆", "武汉"]
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = [
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
]
_TRADE_NAMES = ["明辉", "华瑞", "鑫源", "恒通", "永盛", "金桥", "海纳", "天盛", "宏达", "瑞丰"]
_INDUSTRIES = ["食品", "餐饮管理", "电子科技", "物业管理", "精密机械", "商贸"]

# (response, on-site arrival, resolution) minutes per priority.
DEFAULT_SLA = {
    Priority.URGENT: (30, 240, 480),
    Priority.HIGH: (60, 480, 1440),
    Priority.NORMAL: (120, 1440, 2880),
    Priority.LOW: (480, 2880, 7200),
}


def chinese_name(n):
    return _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n // len(_SURNAMES)) % len(_GIVEN)]


def _today():
    return timezone.localdate()


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:04d}")
    name = factory.Sequence(lambda n: f"{_CITIES[n % len(_CITIES)]}{n}区")
    parent = None


class UserFactory(DjangoModelFactory):
    """A user; `roles=[Role.DISPATCHER, ...]` puts them in those role groups."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = factory.Sequence(lambda n: chinese_name(n)[0])
    first_name = factory.Sequence(lambda n: chinese_name(n)[1:])
    display_name = factory.LazyAttribute(lambda o: f"{o.last_name}{o.first_name}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or TEST_PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        if not create or not extracted:
            return
        groups = [Group.objects.get_or_create(name=str(Role(role)))[0] for role in extracted]
        obj.groups.add(*groups)
        obj.__dict__.pop("_role_codes", None)


class ServicePointFactory(DjangoModelFactory):
    class Meta:
        model = ServicePoint
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SP{n:04d}")
    name = factory.Sequence(lambda n: f"{_CITIES[n % len(_CITIES)]}第{n}服务站")
    region = factory.SubFactory(RegionFactory)
    address = factory.Sequence(lambda n: f"{_CITIES[n % len(_CITIES)]}市中山路{n + 1}号")
    phone = factory.Sequence(lambda n: f"021-5{n:07d}")
    is_active = True


class ProductLineFactory(DjangoModelFactory):
    class Meta:
        model = ProductLine
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"PL{n:03d}")
    name = factory.Sequence(lambda n: f"产品线{n}")


class ProductModelFactory(DjangoModelFactory):
    class Meta:
        model = ProductModel
        django_get_or_create = ("code",)

    line = factory.SubFactory(ProductLineFactory)
    code = factory.Sequence(lambda n: f"M{n:04d}")
    name = factory.Sequence(lambda n: f"商用净水设备 {n}型")
    warranty_months = 24


class EngineerProfileFactory(DjangoModelFactory):
    """An engineer; `skills=[line, ...]` sets the product lines they can service."""

    class Meta:
        model = EngineerProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, roles=[Role.ENGINEER])
    employee_no = factory.Sequence(lambda n: f"E{n:05d}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    service_point = factory.SubFactory(ServicePointFactory)
    level = EngineerProfile.Level.INTERMEDIATE
    availability = EngineerProfile.Availability.ON_DUTY

    class Params:
        on_leave = factory.Trait(availability=EngineerProfile.Availability.ON_LEAVE)

    @factory.post_generation
    def skills(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.skills.set(extracted)


class TagFactory(DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"标签{n}")


class CustomerFactory(DjangoModelFactory):
    """A company customer; `tags=[tag, ...]` attaches tags."""

    class Meta:
        model = Customer
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(
        lambda n: (
            f"{_CITIES[n % len(_CITIES)]}{_TRADE_NAMES[n % len(_TRADE_NAMES)]}"
            f"{_INDUSTRIES[n % len(_INDUSTRIES)]}有限公司{n}"
        )
    )
    kind = Customer.Kind.COMPANY
    level = Customer.Level.REGULAR
    region = factory.SubFactory(RegionFactory)
    address = factory.Sequence(lambda n: f"上海市浦东新区张江路{n + 1}号")
    phone = factory.Sequence(lambda n: f"+86216{n % 10**7:07d}")
    notes = ""

    class Params:
        individual = factory.Trait(
            kind=Customer.Kind.INDIVIDUAL,
            name=factory.Sequence(lambda n: f"{_SURNAMES[n % len(_SURNAMES)]}先生"),
        )

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(chinese_name)
    title = "设备主管"
    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    is_primary = False

    class Params:
        primary = factory.Trait(is_primary=True)


class EquipmentFactory(DjangoModelFactory):
    class Meta:
        model = Equipment

    serial_no = factory.Sequence(lambda n: f"SN-2025-{n:06d}")
    product_model = factory.SubFactory(ProductModelFactory)
    customer = factory.SubFactory(CustomerFactory)
    install_address = factory.LazyAttribute(lambda o: o.customer.address)
    purchase_date = factory.LazyFunction(lambda: _today() - timedelta(days=90))
    install_date = factory.LazyAttribute(lambda o: o.purchase_date + timedelta(days=3))
    # The model's own rule: the model's warranty months from purchase (else installation).
    warranty_end = factory.LazyAttribute(
        lambda o: Equipment(
            product_model=o.product_model,
            purchase_date=o.purchase_date,
            install_date=o.install_date,
        ).default_warranty_end()
    )
    status = Equipment.Status.IN_USE


class ServiceAgreementFactory(DjangoModelFactory):
    """An agreement running today with the four SLA targets of `DEFAULT_SLA`.

    `targets=False` creates none; `targets={Priority.URGENT: (15, 60, 240), ...}` overrides some.
    `equipment=[unit, ...]` sets the covered units. Traits: `annual` (annual fee),
    `default_policy` (the single default agreement).
    """

    class Meta:
        model = ServiceAgreement
        django_get_or_create = ("number",)
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"SA-T-{n:05d}")
    name = factory.LazyAttribute(
        lambda o: f"{o.customer.name} 维保合同" if o.customer else "服务政策"
    )
    customer = factory.SubFactory(CustomerFactory)
    type = ServiceAgreement.Type.MAINTENANCE
    start_date = factory.LazyFunction(lambda: _today() - timedelta(days=30))
    end_date = factory.LazyAttribute(
        lambda o: o.start_date + relativedelta(years=1) - timedelta(days=1)
    )
    service_items = "每季度巡检一次"
    terms = "按次收费，配件另计。"
    charging_method = ServiceAgreement.Charging.PER_VISIT
    annual_fee = None
    is_default = False

    class Params:
        annual = factory.Trait(
            charging_method=ServiceAgreement.Charging.ANNUAL_FEE,
            annual_fee=Decimal("12000.00"),
        )
        default_policy = factory.Trait(
            number="DEFAULT", name="标准服务政策", customer=None, is_default=True
        )

    @factory.post_generation
    def targets(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        minutes = {**DEFAULT_SLA, **(extracted or {})}
        SlaTarget.objects.bulk_create(
            [
                SlaTarget(
                    agreement=obj,
                    priority=priority,
                    response_minutes=response,
                    arrival_minutes=arrival,
                    resolution_minutes=resolution,
                )
                for priority, (response, arrival, resolution) in minutes.items()
            ],
            ignore_conflicts=True,
        )

    @factory.post_generation
    def equipment(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.equipment.set(extracted)


class SlaTargetFactory(DjangoModelFactory):
    class Meta:
        model = SlaTarget
        django_get_or_create = ("agreement", "priority")

    agreement = factory.SubFactory(ServiceAgreementFactory, targets=False)
    priority = Priority.NORMAL
    response_minutes = 120
    arrival_minutes = 480
    resolution_minutes = 1440


class MaintenancePlanFactory(DjangoModelFactory):
    """A quarterly maintenance plan on a unit, next due in 20 days, carried out by a service
    point; `equipment=None, agreement=...` makes it an agreement's."""

    class Meta:
        model = MaintenancePlan

    name = factory.Sequence(lambda n: f"季度保养 {n}")
    kind = MaintenancePlan.Kind.MAINTENANCE
    equipment = factory.SubFactory(EquipmentFactory)
    agreement = None
    interval_months = 3
    next_date = factory.LazyFunction(lambda: _today() + timedelta(days=20))
    lead_days = 7
    service_point = factory.SubFactory(ServicePointFactory)


# --- Service requests -----------------------------------------------------------------------------


class ProblemTypeFactory(DjangoModelFactory):
    """A problem type; `product_lines=[line, ...]` limits it to those lines (none: every line)."""

    class Meta:
        model = "tickets.ProblemType"
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"故障类型{n}")

    @factory.post_generation
    def product_lines(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.product_lines.set(extracted)


def enter_ticket(actor, **fields):
    """A ticket entered through the service (number, log row and counters as in real life)."""
    from tickets.models import Ticket
    from tickets.services import enter_ticket as enter

    if "customer" not in fields:
        fields["customer"] = CustomerFactory()
    fields.setdefault("description", "设备不制冷，显示故障代码 E4")
    return enter(Ticket(**fields), actor)


def queued_tickets(n, state, dispatcher, **fields):
    """The numbers of `n` tickets entered, then put in `state` directly (for the pages that only
    list them: no visits, no log rows), in their queue's order: the longest waiting first."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets.models import State, Ticket

    stamp = {State.LOCKED: "locked_at", State.CLOSED: "closed_at", State.PROCESSED: "processed_at"}
    start = timezone.now() - timedelta(days=2)
    numbers = []
    for i in range(n):
        ticket = enter_ticket(dispatcher, **fields)
        Ticket.objects.filter(pk=ticket.pk).update(
            state=state, **{stamp[state]: start + timedelta(minutes=i)}
        )
        numbers.append(ticket.number)
    return numbers


def ticket_in_state(state, *, dispatcher, engineer, **fields):
    """A ticket brought to `state` through the real transitions (for tests of later steps).

    `state` is one of: pending_assignment, suspended, assigned, in_service, processed, closed,
    verified, locked, cancelled. Roles needed on the way are created when missing.
    """
    from tickets import services
    from tickets.models import Revisit, State

    def someone(role):
        user = UserFactory(username=f"{role}-auto-{User.objects.count()}")
        user.groups.add(Group.objects.get(name=Role(role).value))
        return user

    t = enter_ticket(dispatcher, **fields)
    if state == State.PENDING_ASSIGNMENT:
        return t
    if state == State.SUSPENDED:
        return services.perform(t, "suspend", dispatcher, reason="客户出差，下周再约")
    if state == State.CANCELLED:
        return services.perform(t, "cancel", dispatcher, reason="客户撤回")
    t = services.perform(t, "assign", dispatcher, engineer=engineer)
    if state == State.ASSIGNED:
        return t
    if state == State.LOCKED:
        for _round in range(2):
            if t.state != State.ASSIGNED:
                t = services.perform(t, "assign", dispatcher, engineer=engineer)
            t = services.check_in(t, engineer)
            t = services.perform(t, "not_resolved", engineer, reason="缺少备件")
        return t
    t = services.check_in(t, engineer)
    if state == State.IN_SERVICE:
        return t
    from tickets.models import Visit

    Visit.objects.filter(ticket=t, result="").update(
        work_done="更换压缩机电容", labour_hours="1.5", labour_fee="200", travel_fee="50"
    )
    t = services.perform(t, "resolve", engineer, then=_close_visit)
    if state == State.PROCESSED:
        return t
    agent = someone(Role.REVISIT_AGENT)
    t = services.record_revisit(
        t, agent, version=None, outcome=Revisit.Outcome.SATISFIED, score=5, comment="很满意"
    )
    if state == State.CLOSED:
        return t
    return services.perform(t, "verify", someone(Role.SERVICE_MANAGER))


def _close_visit(ticket):
    from django.utils import timezone

    ticket.visits.filter(result="").update(result="resolved", finished_at=timezone.now())


# --- The JSON API ---------------------------------------------------------------------------------


_api_keys = itertools.count(1)


def api_key(*scopes, name=None):
    """(ApiKey, the whole key) issued through the service; `scopes` default to every scope."""
    from aftersales import apikeys

    scopes = scopes or tuple(apikeys.scope_labels())
    name = name or f"对接系统 {next(_api_keys)}"
    return apikeys.issue_key(name=name, note="", scopes=list(scopes), actor=None)
