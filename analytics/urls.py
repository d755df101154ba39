from django.urls import path

from . import scorecard_urls
from .views import agreements, drill, engineers, overview, problems, services, sla

app_name = "analytics"

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("requests/", drill.RequestsView.as_view(), name="requests"),
    path("problems/", problems.ProblemsView.as_view(), name="problems"),
    path("agreements/", agreements.AgreementsView.as_view(), name="agreements"),
    path("services/", services.ServicesView.as_view(), name="services"),
    path("sla/", sla.SlaView.as_view(), name="sla"),
    path("engineers/", engineers.EngineersView.as_view(), name="engineers"),
    path("engineers/weights/", engineers.WeightsView.as_view(), name="engineer_weights"),
    path("mine/", engineers.MineView.as_view(), name="mine"),
]
# The GB/T 27922 self-assessment.
urlpatterns += scorecard_urls.urlpatterns
