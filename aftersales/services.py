from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Heartbeat


@transaction.atomic
def save_user(form, password=None):
    """Save a user form and set the user's role groups to exactly the chosen roles."""
    user = form.save(commit=False)
    if password:
        user.set_password(password)
    user.save()
    groups = Group.objects.filter(name__in=form.cleaned_data["roles"])
    user.groups.set(groups)
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
