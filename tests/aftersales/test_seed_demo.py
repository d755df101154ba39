import ast
from importlib import import_module
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q

from aftersales.demo import DEMO_PASSWORD
from aftersales.models import EngineerProfile, User
from aftersales.registry import project_app_labels
from aftersales.roles import Role
from customers.models import Customer, Equipment, ServiceAgreement

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


def test_seed_summary_has_a_line_for_every_table_written(seeded):
    assert "Demo data ready (" in seeded
    for label in ("regions", "product models", "maintenance plans", "service requests"):
        assert f"  {label} " in seeded, label
    assert f"Demo logins (password {DEMO_PASSWORD})" in seeded


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
