from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("Organisation")

    def ready(self):
        from . import checks, registry, sessions, signals  # noqa: F401 (checks, sessions: receivers)
        from .celery import app as celery_app

        signals.connect()
        # Beat's timers are the apps' (their plugin.py); a site may add its own in settings.
        celery_app.conf.beat_schedule = {
            **registry.beat_schedule(),
            **getattr(settings, "CELERY_BEAT_SCHEDULE", {}),
        }
