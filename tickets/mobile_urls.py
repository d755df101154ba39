"""The engineer's phone pages, mounted at /m/."""

from django.urls import path

from .views import mobile

app_name = "mobile"
urlpatterns = [
    path("", mobile.job_list, name="jobs"),
    path("jobs/<int:pk>/", mobile.job_detail, name="job"),
    path("jobs/<int:pk>/visit/", mobile.job_visit, name="visit"),
    path("jobs/<int:pk>/correct/", mobile.job_correct, name="correct"),
    path("jobs/<int:pk>/depart/", mobile.job_depart, name="depart"),
    path("jobs/<int:pk>/<slug:action>/", mobile.job_act, name="act"),
]
