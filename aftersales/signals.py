"""Changes that make cached facts stale (aftersales.caching); connected by AftersalesConfig.

And the hooks the core offers to the apps (which it must not import; they import it).
Receivers are connected in their AppConfig.ready():

calendar_changed(calendar_id, actor_id)
    A business calendar's working time changed (its hours, holidays or make-up days): sent
    inside the transaction that saves it (`aftersales.calendars`; `actor_id` None: the system).
    Receivers only schedule their work for after the commit, as for
    `customers.signals.agreement_terms_changed`: the tickets app re-plans the SLA clocks of the
    open requests that count in it.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal

from . import registry
from .caching import forget, forget_auth_facts
from .models import EngineerProfile, ServicePoint, User

calendar_changed = Signal()


def _forget_people_caches():
    # The apps' cache entries built from people (their plugin.py: PEOPLE_CACHES), such as
    # select boxes that list engineers or service points.
    forget(*registry.people_caches())


def _user_saved(sender, instance, update_fields=None, **kwargs):
    if update_fields and set(update_fields) <= {"last_login", "language"}:
        return  # a login or a language choice changes nobody's permissions
    forget_auth_facts()
    _forget_people_caches()


def _auth_changed(sender, **kwargs):
    forget_auth_facts()
    _forget_people_caches()


def _people_changed(sender, **kwargs):
    _forget_people_caches()


def connect():
    post_save.connect(_user_saved, sender=User, dispatch_uid="caching-user-saved")
    post_delete.connect(_auth_changed, sender=User, dispatch_uid="caching-user-deleted")
    for model in (Group, Permission):
        post_save.connect(_auth_changed, sender=model, dispatch_uid=f"caching-{model.__name__}-s")
        post_delete.connect(_auth_changed, sender=model, dispatch_uid=f"caching-{model.__name__}-d")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            _auth_changed, sender=through, dispatch_uid=f"caching-{through.__name__}"
        )
    for model in (EngineerProfile, ServicePoint):
        post_save.connect(_people_changed, sender=model, dispatch_uid=f"caching-{model.__name__}-s")
        post_delete.connect(
            _people_changed, sender=model, dispatch_uid=f"caching-{model.__name__}-d"
        )
