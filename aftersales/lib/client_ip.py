"""The client's address, the one thing rate limits and login lock-outs count by.

Any client can send an X-Forwarded-For header, so it is read only as far as our own proxies
wrote it: with TRUSTED_PROXY_COUNT = N, each of the N proxies in front of Django appended the
address it was connected from, and the Nth entry from the right is the client as our outermost
proxy saw it (entries further left are whatever the client sent). With no proxy (N = 0), or
when the header is shorter than that (the request did not come through the proxies), the
address is the connection's own, REMOTE_ADDR.

django-ratelimit (RATELIMIT_IP_META_KEY) and django-axes (AXES_CLIENT_IP_CALLABLE) both call
`client_ip`; nothing else reads the address.
"""

import ipaddress

from django.conf import settings


def client_ip(request):
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(hops) < proxies:
        return remote
    try:
        # Normalised, so that one address is one key however a proxy spelled it.
        return str(ipaddress.ip_address(hops[-proxies].strip()))
    except ValueError:  # a proxy that writes something else is misconfigured: count the peer
        return remote
