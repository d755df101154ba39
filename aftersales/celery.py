import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
# Every Celery option lives in settings.py under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def create_broker_folders(sender, source, **kwargs):
    """Create the embedded file-system broker's folders.

    kombu's filesystem transport raises on a missing folder instead of creating it. The
    configuration is loaded lazily, on first use, by a worker, beat and every producer
    (`task.delay()` in a web process) alike, so this runs before any of them touches the broker,
    and after Django's settings are loaded.
    """
    if not str(source.broker_url or "").startswith("filesystem://"):
        return
    options = source.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if folder := options.get(key):
            Path(folder).mkdir(parents=True, exist_ok=True)


@beat_init.connect
def heartbeat_at_start(sender, **kwargs):
    """Beat's first run of a 60 s schedule comes a minute after start; show life at once."""
    app.send_task("aftersales.tasks.heartbeat")
