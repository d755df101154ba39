from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Heartbeat, User


@transaction.atomic
def save_user(user, data, roles, password=None):
    """Save a user (None: a new one) with `data` (field name → cleaned value), and set their
    role groups to exactly `roles` (role codes)."""
    user = user if user is not None else User()
    for name, value in data.items():
        setattr(user, name, value)
    if password:
        user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


@transaction.atomic
def set_role_permissions(group, permissions):
    group.permissions.set(permissions)


def record_heartbeat(name):
    """Count one run of a periodic job; safe when two workers run it at once."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(last_run=now, runs=F("runs") + 1)
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"last_run": now, "runs": 1})
