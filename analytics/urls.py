from django.urls import path

from .views import drill, engineers, overview

app_name = "analytics"

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("requests/", drill.RequestsView.as_view(), name="requests"),
    path("engineers/", engineers.EngineersView.as_view(), name="engineers"),
    path("engineers/weights/", engineers.WeightsView.as_view(), name="engineer_weights"),
    path("mine/", engineers.MineView.as_view(), name="mine"),
]
