from django.urls import path

from .views import drill, overview

app_name = "analytics"

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("requests/", drill.RequestsView.as_view(), name="requests"),
]
