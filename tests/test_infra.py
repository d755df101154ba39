"""The project's settings, test set-up and translation catalogue."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Variables that would change the defaults under test; the subprocesses below start without them.
CONFIG_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "VAR_DIR",
    "TIME_ZONE",
    "EMAIL_URL",
    "SITE_URL",
    "TRUSTED_PROXY_COUNT",
}


def run_settings(code, **env):
    """Run `code` in a fresh interpreter with only `env` as the project's configuration."""
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    clean |= {"DJANGO_SETTINGS_MODULE": "aftersales.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_chinese_language_and_shanghai_time_by_default():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE


def test_pytest_env_configures_settings_before_django_loads_them():
    assert settings.AXES_ENABLED is False
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.STORAGES["staticfiles"]["BACKEND"].endswith("StaticFilesStorage")
    assert os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] == "true"


def test_secret_key_is_required_when_debug_is_off():
    # An empty SECRET_KEY in the environment also keeps a developer's .env file from setting one.
    result = run_settings("import django; django.setup()", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_embedded_defaults_need_no_server():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE']); print(s.DATABASES['default']['NAME']); "
        "print(s.CELERY_BROKER_URL); print(s.CACHES['default']['BACKEND'])"
    )
    result = run_settings(code, DEBUG="1", SECRET_KEY="")
    assert result.returncode == 0, result.stderr
    engine, name, broker, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(BASE_DIR / "var" / "db.sqlite3")
    assert broker.startswith("filesystem://")
    assert cache == "django.core.cache.backends.filebased.FileBasedCache"


def test_database_and_redis_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE']); print(s.CELERY_BROKER_URL); "
        "print(s.CACHES['default']['BACKEND'])"
    )
    result = run_settings(
        code,
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://app@db.example.com:5432/aftersales",
        REDIS_URL="redis://cache.example.com:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache.example.com:6379/0",
        "aftersales.caching.RedisCache",
    ]


def test_email_url_configures_the_default_mailer():
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps(s.MAILERS['default']))"
    )
    result = run_settings(
        code, DEBUG="1", EMAIL_URL="smtp+tls://service%40example.com:pw@smtp.example.com:587"
    )
    assert result.returncode == 0, result.stderr
    mailer = json.loads(result.stdout.splitlines()[-1])
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "smtp.example.com",
        "port": 587,
        "username": "service@example.com",
        "password": "pw",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 30,
    }


# --- Translations ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue():
    if not CATALOGUE.exists():
        pytest.fail(f"{CATALOGUE.relative_to(BASE_DIR)} is missing: run `make messages`")
    return polib.pofile(str(CATALOGUE))


def test_zh_hans_catalogue_is_complete(catalogue):
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy (check, then remove the fuzzy flag): {fuzzy[:20]}"


PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}")


def test_zh_hans_translations_keep_their_placeholders(catalogue):
    wrong = []
    for entry in catalogue.translated_entries():
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        wrong += [
            entry.msgid for text in translations if sorted(PLACEHOLDER.findall(text)) != wanted
        ]
    assert not wrong, f"placeholders differ from the English text: {wrong}"


def test_zh_hans_compiled_catalogue_matches_the_po_file(catalogue):
    mo_path = CATALOGUE.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path.relative_to(BASE_DIR)} is missing: run `make messages`"
    compiled = {(entry.msgctxt, entry.msgid): entry for entry in polib.mofile(str(mo_path))}
    stale = []
    for entry in catalogue.translated_entries():
        mo_entry = compiled.get((entry.msgctxt, entry.msgid))
        if mo_entry is None:
            stale.append(entry.msgid)
        elif entry.msgid_plural:
            if {int(k): v for k, v in mo_entry.msgstr_plural.items()} != {
                int(k): v for k, v in entry.msgstr_plural.items()
            }:
                stale.append(entry.msgid)
        elif mo_entry.msgstr != entry.msgstr:
            stale.append(entry.msgid)
    assert not stale, f"django.mo is older than django.po ({len(stale)}): run `make messages`"


def test_the_libraries_texts_read_in_chinese_too():
    """Django's newest texts and django-filter's (which ships zh_CN only) come from ours."""
    from django.db.models.fields import BLANK_CHOICE_LABEL
    from django.utils import translation
    from django_filters.filters import OrderingFilter

    with translation.override("zh-hans"):
        assert str(BLANK_CHOICE_LABEL) == "- 请选择 -"
        assert str(OrderingFilter.descending_fmt) % "编号" == "编号（降序）"


# --- Test set-up -------------------------------------------------------------------------------


@pytest.mark.parametrize("run", [1, 2])
@pytest.mark.django_db(transaction=True)
def test_role_groups_survive_transactional_tests(run, dispatcher):
    # A transactional test empties every table when it ends; conftest reloads the migrated
    # data before the next one. Run twice so that the second run follows the first's flush.
    from django.contrib.auth.models import Group

    from aftersales.roles import Role

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert dispatcher.has_perm("customers.add_customer")
