"""The apps stand on each other in one direction: the core (aftersales) imports no app, and
each app imports only the apps below it. An upward dependency makes every new module cut
through the core again (issue 8), so it fails here and in CI.

import-linter checks the Python imports (the contracts in pyproject.toml). It cannot see
references written as strings: model relations ("customers.Equipment"), migration
dependencies and URL includes — those are checked here from Django's own registries.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

BASE_DIR = Path(settings.BASE_DIR)

# Each app and the apps it may depend on (lower layers). Later apps plug into tickets through
# its hooks (parts consumption on a visit, knowledge's fragment on the ticket pages), so
# tickets never depends on them.
BELOW = {
    "aftersales": set(),
    "customers": {"aftersales"},
    "tickets": {"aftersales", "customers"},
    "knowledge": {"aftersales", "customers", "tickets"},
    "parts": {"aftersales", "customers", "tickets"},
    "complaints": {"aftersales", "customers", "tickets"},
    "analytics": {"aftersales", "customers", "tickets", "knowledge", "parts", "complaints"},
}
OURS = set(BELOW)


def test_every_app_of_the_project_has_its_place_in_the_layers():
    own = {
        config.label for config in apps.get_app_configs() if Path(config.path).parent == BASE_DIR
    }
    assert own == OURS


def test_python_imports_keep_the_layers():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("label", sorted(OURS))
def test_model_relations_point_down(label):
    upward = []
    for model in apps.get_app_config(label).get_models():
        for field in model._meta.get_fields():
            # Reverse relations are the other model's fields; generic relations point at the
            # core's generic models (a notification about anything).
            if field.auto_created or not field.is_relation or field.related_model is None:
                continue
            target = field.related_model._meta.app_label
            if target in OURS and target != label and target not in BELOW[label]:
                upward.append(f"{model.__name__}.{field.name} → {field.related_model._meta.label}")
    assert not upward


@pytest.mark.parametrize("label", sorted(OURS))
def test_migrations_depend_only_on_lower_apps(label):
    loader = MigrationLoader(None, ignore_no_migrations=True)
    upward = [
        f"{name} needs {dep_app}.{dep_name}"
        for (app, name), migration in loader.disk_migrations.items()
        if app == label
        for dep_app, dep_name in migration.dependencies
        if dep_app in OURS and dep_app != label and dep_app not in BELOW[label]
    ]
    assert not upward


def _strings(path):
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.parametrize("label", sorted(OURS))
def test_no_string_reference_reaches_up(label):
    """Dotted paths, model labels, permissions and URL names of a higher app ("tickets.urls",
    "tickets.Ticket", "tickets.view_ticket", "tickets:list") are upward references too."""
    higher = OURS - BELOW[label] - {label}
    upward = []
    for path in (BASE_DIR / label).rglob("*.py"):
        for text in _strings(path):
            head = text.split(".")[0].split(":")[0]
            if head in higher and text != head and " " not in text:
                upward.append(f"{path.relative_to(BASE_DIR)}: {text!r}")
    assert not upward


# In templates: {% url 'tickets:list' %}, {% include "tickets/_state.html" %}, perms.tickets.x
_TEMPLATE_REFERENCE = re.compile(
    r"""\{%\s*url\s+['"](\w+):|\{%\s*(?:include|extends)\s+['"](\w+)/|perms\.(\w+)\."""
)


def _template_layer(path):
    """The app a template belongs to: its folder under templates/, the core for the rest
    (base.html, includes/, registration/, error pages)."""
    top = path.relative_to(BASE_DIR / "templates").parts[0]
    return top if top in OURS else "aftersales"


def test_templates_reach_no_higher_app():
    upward = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        label = _template_layer(path)
        higher = OURS - BELOW[label] - {label}
        for match in _TEMPLATE_REFERENCE.finditer(path.read_text(encoding="utf-8")):
            named = next(group for group in match.groups() if group)
            if named in higher or (named == "mobile" and "tickets" in higher):
                upward.append(f"{path.relative_to(BASE_DIR)}: {match.group(0)}")
    assert not upward
