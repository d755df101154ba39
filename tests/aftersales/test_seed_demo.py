import ast
from datetime import timedelta
from importlib import import_module
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from aftersales.demo import DEMO_PASSWORD
from aftersales.lib.business_time import add_working_time
from aftersales.models import Delivery, EngineerProfile, User
from aftersales.registry import demo_seeders, project_app_labels
from aftersales.roles import Role
from customers.models import Customer, Equipment, ServiceAgreement
from tickets import sla
from tickets.models import Revisit, State, Ticket, TicketTransition, Visit

# Each demo login and the role (auth group) it must have.
DEMO_LOGINS = {
    "admin": Role.ADMINISTRATOR,
    "dispatcher": Role.DISPATCHER,
    "engineer": Role.ENGINEER,
    "svcmanager": Role.SERVICE_MANAGER,
    "revisit": Role.REVISIT_AGENT,
    "parts": Role.PARTS_CLERK,
    "finance": Role.FINANCE,
    "complaints": Role.COMPLAINT_HANDLER,
    "manager": Role.MANAGER,
}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back after the module's tests.

    Each test runs in its own savepoint within it, so a second seed in one test stays there.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def table_counts():
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


pytestmark = pytest.mark.django_db


def test_seed_creates_engineers_with_skills_at_service_points(seeded):
    engineers = EngineerProfile.objects.annotate(skill_count=Count("skills"))
    assert engineers.count() >= 15
    assert engineers.filter(user__groups__name=Role.ENGINEER).count() == engineers.count()
    assert not engineers.filter(Q(skill_count=0) | Q(skill_count__gt=3)).exists()
    assert engineers.values("service_point__region").distinct().count() >= 5
    assert engineers.filter(availability=EngineerProfile.Availability.ON_LEAVE).exists()


def test_seed_creates_customers_each_with_one_primary_contact(seeded):
    customers = Customer.objects.annotate(
        primaries=Count("contacts", filter=Q(contacts__is_primary=True))
    )
    assert customers.count() >= 200
    assert not customers.exclude(primaries=1).exists()
    assert {Customer.Kind.COMPANY, Customer.Kind.INDIVIDUAL} <= set(
        customers.values_list("kind", flat=True)
    )


def test_seed_creates_equipment_across_product_lines(seeded):
    assert Equipment.objects.count() >= 1000
    lines = set(Equipment.objects.values_list("product_model__line__code", flat=True))
    assert lines == {"WP", "AC", "EL", "IND", "MED"}
    unit = Equipment.objects.exclude(purchase_date=None).select_related("product_model").first()
    assert unit.warranty_end == unit.default_warranty_end()


def test_seed_creates_agreements_of_every_charging_method_with_four_targets(seeded):
    agreements = ServiceAgreement.objects.annotate(target_count=Count("targets"))
    assert set(agreements.values_list("charging_method", flat=True)) == set(
        ServiceAgreement.Charging.values
    )
    assert not agreements.exclude(target_count=4).exists()
    assert not agreements.filter(
        charging_method=ServiceAgreement.Charging.ANNUAL_FEE, annual_fee=None
    ).exists()
    default = ServiceAgreement.objects.get(is_default=True)
    assert (default.number, default.customer) == ("DEFAULT", None)


def test_seed_creates_one_login_per_role_with_the_demo_password(seeded):
    for username, role in DEMO_LOGINS.items():
        user = User.objects.get(username=username)
        # authenticate() needs a request because of django-axes; the password itself is the point.
        assert user.check_password(DEMO_PASSWORD), username
        assert user.is_active
        assert user.display_name
        assert role.value in user.role_codes, username
    assert User.objects.get(username="admin").is_superuser
    assert EngineerProfile.objects.filter(user__username="engineer").exists()
    assert {role.value for role in DEMO_LOGINS.values()} == set(Role.values)


def test_seed_gives_problem_types_their_product_lines(seeded):
    from tickets.models import ProblemType, Ticket

    def lines(code):
        return set(ProblemType.objects.get(code=code).product_lines.values_list("code", flat=True))

    assert lines("TRAPPED") == {"EL"}  # 电梯困人: elevators only
    assert lines("FILTER") == {"WP"}
    assert lines("ALARM") == {"EL", "IND", "MED"}
    assert lines("NOSTART") == set()  # every line
    tickets = Ticket.objects.exclude(equipment=None).exclude(problem_type=None)
    tickets = tickets.select_related("problem_type", "equipment__product_model")
    assert tickets.count() > 50
    for ticket in tickets:
        assert ticket.problem_type.applies_to(ticket.equipment.product_model.line_id), ticket


def test_seed_twice_changes_nothing(seeded):
    before = table_counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert table_counts() == before
    assert "nothing changed" in out.getvalue()
    # The same calm summary: what the tables hold, not what this run added.
    assert out.getvalue().splitlines()[1:] == seeded.splitlines()[1:]


def test_seed_summary_is_one_line_per_app(seeded):
    lines = seeded.splitlines()
    assert lines[0].startswith("Demo data ready (")
    apps = [app for app, _seed in demo_seeders()]
    assert [line.split()[0] for line in lines[1:-1]] == apps
    tickets = next(line for line in lines if line.split()[0] == "tickets")
    assert "service requests (since " in tickets
    assert "(+" not in seeded
    assert lines[-1].startswith(f"  Demo logins (password {DEMO_PASSWORD})")


# The history (`tickets.demo`): 90 days of a department's work, in working hours.


@pytest.fixture
def calendar(seeded):
    return sla.default_calendar().calendar


def in_hours(cal, moment):
    # A closing time (12:00, 18:00) counts: a deadline that uses up an interval ends there.
    return cal.is_working(moment) or cal.is_working(moment - timedelta(seconds=1))


def all_moments():
    """Every time the history wrote, with what it is, for messages."""
    moments = []
    for pk, at, action in TicketTransition.objects.values_list("ticket_id", "at", "action"):
        moments.append((at, f"ticket {pk} {action}"))
    for pk, start, end in Visit.objects.values_list("ticket_id", "checked_in_at", "finished_at"):
        moments.append((start, f"ticket {pk} check-in"))
        if end:
            moments.append((end, f"ticket {pk} visit end"))
    for pk, at in Revisit.objects.values_list("ticket_id", "at"):
        moments.append((at, f"ticket {pk} revisit"))
    fields = ["created_at", "updated_at", "assigned_at", "accepted_at", "checked_in_at"]
    fields += ["processed_at", "closed_at", "verified_at", "locked_at", "cancelled_at"]
    fields += [f"{t}_{part}" for t in sla.TARGETS for part in ("met_at", "breached_at")]
    for row in Ticket.objects.values("pk", *fields):
        moments += [(row[f], f"ticket {row['pk']} {f}") for f in fields if row[f]]
    return moments


def test_history_has_nothing_in_the_future(calendar):
    now = timezone.now()
    assert not [what for at, what in all_moments() if at > now]


def test_history_happens_in_working_hours(calendar):
    outside = [
        f"{what} at {timezone.localtime(at):%a %Y-%m-%d %H:%M}"
        for at, what in all_moments()
        if not in_hours(calendar, at)
    ]
    assert not outside


def test_history_spreads_over_the_last_90_days(calendar):
    today = timezone.localdate()
    window = [today - timedelta(days=n) for n in range(90)]
    working = [day for day in window if calendar.hours_on(day)]
    days = {timezone.localdate(at) for at in TicketTransition.objects.values_list("at", flat=True)}
    assert min(days) >= window[-1]
    # Every working day of the period has something (a window with long holidays has fewer
    # than 60 working days).
    assert len(days & set(window)) >= min(60, len(working))


def test_each_requests_events_are_in_order(calendar):
    last = {}
    for pk, at in TicketTransition.objects.order_by("ticket_id", "id").values_list(
        "ticket_id", "at"
    ):
        assert at >= last.get(pk, at), pk
        last[pk] = at
    order = ["created_at", "assigned_at", "checked_in_at", "processed_at", "closed_at"]
    for row in Ticket.objects.values("pk", *order, "verified_at"):
        times = [row[f] for f in [*order, "verified_at"] if row[f]]
        assert times == sorted(times), row["pk"]


def test_visits_last_half_an_hour_to_three_hours(calendar):
    visits = Visit.objects.exclude(finished_at=None)
    assert visits.count() > 50
    for start, end, hours in visits.values_list("checked_in_at", "finished_at", "labour_hours"):
        assert timedelta(minutes=30) <= end - start <= timedelta(hours=3)
        assert timezone.localdate(start) == timezone.localdate(end)
        assert hours > 0


def test_sla_due_times_count_from_entry_in_the_calendar(calendar):
    tickets = Ticket.objects.exclude(response_due=None).select_related("agreement")
    assert tickets.count() > 100
    for ticket in tickets.prefetch_related("agreement__targets"):
        budgets = sla.budgets(ticket.agreement, ticket.priority)
        for target, budget in budgets.items():
            due = add_working_time(calendar, ticket.created_at, budget + ticket.sla_paused)
            assert getattr(ticket, f"{target}_due") == due, (ticket.pk, target)


def test_history_meets_most_sla_targets_and_misses_some(calendar):
    margins = Ticket.objects.exclude(response_margin=None).values_list("response_margin", flat=True)
    late = sum(margin < timedelta(0) for margin in margins)
    assert 0 < late < len(margins) * 0.3
    assert Ticket.objects.exclude(response_breached_at=None).exists()


def test_open_requests_are_recent_and_finished_ones_older(calendar):
    today = timezone.localdate()
    assert set(Ticket.objects.values_list("state", flat=True)) == set(State.values)
    waiting = Ticket.objects.filter(state=State.PENDING_ASSIGNMENT)
    oldest = min(waiting.values_list("created_at", flat=True))
    assert timezone.localdate(oldest) >= today - timedelta(days=5)
    # No open request waits for a customer's date gone by (a timer would lock it at once).
    open_ = Ticket.objects.filter(state__in=[State.PENDING_ASSIGNMENT, State.ASSIGNED])
    assert not open_.filter(requested_date__lt=today).exists()
    verified = Ticket.objects.filter(state=State.VERIFIED).values_list("created_at", flat=True)
    assert timezone.localdate(min(verified)) <= today - timedelta(days=60)


def test_history_messages_are_sent_not_queued_again(calendar):
    assert Delivery.objects.exists()
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING).exists()


def imported_packages(module_name):
    """The top-level packages a module imports (absolute imports; relative ones stay inside)."""
    tree = ast.parse(Path(import_module(module_name).__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize(
    "module_name", ["aftersales.management.commands.seed_demo", "aftersales.demo"]
)
def test_core_demo_modules_import_no_app(module_name):
    apps_imported = imported_packages(module_name) & set(project_app_labels())
    assert apps_imported <= {"aftersales"}
