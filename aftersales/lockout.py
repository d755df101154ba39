"""Login lock-out (django-axes, settings.AXES_HANDLER): by username + address, and by address.

Axes locks a username + address pair after AXES_FAILURE_LIMIT failures, which does not slow one
address trying one password on many accounts (password spraying). Axes has one limit for all its
lock-out parameters, and a whole office behind one NAT address must not be locked out by a few
typos, so the address gets a limit of its own, much higher: LOGIN_ADDRESS_FAILURE_LIMIT failures
over all usernames, counted from the rows axes already keeps (AccessAttempt, in the database:
incremented atomically under a row lock, and still counting when Redis is down), within the same
cool-off (AXES_COOLOFF_TIME).
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None):
        """The username + address pair's failures, raised to axes's limit when the address
        alone has reached its own (so that axes locks, and its page answers)."""
        failures = super().get_failures(request, credentials)
        if address_failures(request) < settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return failures
        # The lock-out page says that the address, not the account, is locked.
        request.login_address_locked = True
        return max(failures, get_failure_limit(request, credentials))


def address_failures(request):
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
