"""Changes that make cached facts stale (aftersales.caching); connected by AftersalesConfig."""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save

from .caching import forget, forget_auth_facts
from .models import EngineerProfile, ServicePoint, User

# The cache entries of the select boxes that list engineers, service points or problem types
# (tickets.filters.short_lists, tickets.views, tickets.forms).
PEOPLE_CHOICES = ("desk-choices:*", "desk-selects:*", "engineer-choices:*")


def _user_saved(sender, instance, update_fields=None, **kwargs):
    if update_fields and set(update_fields) <= {"last_login"}:
        return  # a login changes nobody's permissions
    forget_auth_facts()
    forget(*PEOPLE_CHOICES)


def _auth_changed(sender, **kwargs):
    forget_auth_facts()
    forget(*PEOPLE_CHOICES)


def _people_changed(sender, **kwargs):
    forget(*PEOPLE_CHOICES)


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
