"""Who may open which page: every view names what it needs here; no hidden-button security."""

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Notification
from .roles import Role


def is_administrator(user):
    return user.is_authenticated and user.has_role(Role.ADMINISTRATOR)


def require_administrator(user):
    if not is_administrator(user):
        raise PermissionDenied


class AdministratorRequiredMixin(LoginRequiredMixin):
    """Organisation pages (users, roles, service points, engineers) are for administrators."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_administrator(request.user)
        return super().dispatch(request, *args, **kwargs)


class PermissionMixin(PermissionRequiredMixin):
    """Login first (redirect), then the model permission (403), as Django's mixin does."""

    raise_exception = False

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            raise PermissionDenied
        return super().handle_no_permission()


def visible_notification(user, pk):
    """One of this person's own notifications; 404 for anyone else's."""
    return get_object_or_404(Notification.objects.for_user(user), pk=pk)
