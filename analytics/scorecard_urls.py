"""The self-assessment's pages, inside the "analytics" namespace (analytics/urls.py adds them)."""

from django.urls import path

from .views import scorecard

urlpatterns = [
    path("scorecard/", scorecard.assessment_list, name="scorecard"),
    path("scorecard/new/", scorecard.assessment_new, name="scorecard_new"),
    path("scorecard/items/", scorecard.item_list, name="scorecard_items"),
    path("scorecard/<int:pk>/", scorecard.assessment_detail, name="scorecard_detail"),
    path("scorecard/<int:pk>/edit/", scorecard.assessment_edit, name="scorecard_edit"),
    path("scorecard/<int:pk>/finalize/", scorecard.assessment_finalize, name="scorecard_finalize"),
    path("scorecard/<int:pk>/delete/", scorecard.assessment_delete, name="scorecard_delete"),
    path("scorecard/files/<int:pk>/", scorecard.evidence_file, name="scorecard_file"),
]
