from django.urls import re_path

from .views import files

# Under MEDIA_URL, before Django's DEBUG file serving: these files are never served plainly.
urlpatterns = [
    re_path(
        r"^media/(?P<name>(?:visits|signatures|customer-photos)/[\w./-]+)$",
        files.visit_file,
        name="visit_file",
    ),
]
