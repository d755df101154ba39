from django.urls import path

from .views import desk as views
from .views import intake, queues, report

app_name = "tickets"
urlpatterns = [
    path("", views.TicketListView.as_view(), name="list"),
    path("new/", views.ticket_create, name="create"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/act/<str:action>/", views.ticket_act, name="act"),
    path("<int:pk>/revisit/", views.ticket_revisit, name="revisit"),
    path("<int:pk>/priority/", views.ticket_priority, name="priority"),
    path("<int:pk>/send-tracking/", views.ticket_send_tracking, name="send_tracking"),
    path("<int:pk>/work-order/", views.work_order, name="work_order"),
    path("<int:pk>/report/", report.staff_report, name="report"),
    path("<int:pk>/report.pdf", report.staff_report_pdf, name="report_pdf"),
    path("revisits/", queues.RevisitQueueView.as_view(), name="revisit_queue"),
    path("manager/", queues.manager_queues, name="manager_queues"),
    path("intake/", intake.IntakeListView.as_view(), name="intake_list"),
    path("intake/<int:pk>/", intake.intake_detail, name="intake_detail"),
    path("intake/<int:pk>/reject/", intake.intake_reject, name="intake_reject"),
]
