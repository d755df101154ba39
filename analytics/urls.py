from django.urls import path

from .views import drill, overview

app_name = "analytics"

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("requests/", drill.RequestsView.as_view(), name="requests"),
]
# The self-assessment: imported after the reports, so that its tab comes after theirs.
from . import scorecard_urls  # noqa: E402

urlpatterns += scorecard_urls.urlpatterns
