"""What the knowledge app brings to the whole (read by `aftersales.registry`)."""

from django.urls import include, path

URLS = [
    # --- suggest (suggestions, feedback; branch `suggest`) -----------------------------------
    # Until knowledge/urls.py includes knowledge.suggest_urls: mounted here in the "knowledge"
    # namespace. Drop this entry when merging with the app's own URLs.
    path("knowledge/", include(("knowledge.suggest_urls", "knowledge"))),
    # --- end suggest ---------------------------------------------------------------------------
]
