"""Sessions end when a person is away (idle timeout) and, whatever they do, after a working
day (absolute timeout): a phone left signed in on a van's seat does not stay a key (ASVS V3.3).

Idle: each session's expiry is moved forward at most every SESSION_REFRESH_SECONDS, not on every
request (one session write per few minutes, not one per page). Absolute: the sign-in time is
kept in the session; past SESSION_ABSOLUTE_HOURS the person signs in again. Expired sessions are
deleted by a daily timer (aftersales.tasks.clear_sessions).
"""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"


@receiver(user_logged_in)
def remember_sign_in(sender, request, user, **kwargs):
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[SEEN_AT] = now


class SessionTimeouts:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session, now = request.session, int(time.time())
            signed_in = session.get(SIGNED_IN_AT, now)
            if now - signed_in > settings.SESSION_ABSOLUTE_HOURS * 3600:
                logout(request)
                return redirect_to_login(request.get_full_path())
            if now - session.get(SEEN_AT, 0) > settings.SESSION_REFRESH_SECONDS:
                session[SEEN_AT] = now  # saved: its expiry moves SESSION_COOKIE_AGE ahead
                session.setdefault(SIGNED_IN_AT, now)
        return self.get_response(request)
