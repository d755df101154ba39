import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
application = get_wsgi_application()

# Load the URL configuration now, then move everything loaded so far out of the garbage
# collector's sight: it would otherwise walk these ~100,000 long-lived objects again and again
# while serving pages (a full collection in the middle of a request costs milliseconds).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
gc.collect()
gc.freeze()
