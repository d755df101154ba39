"""The customer's pages, at the site's root: no login, rate limited."""

from django.urls import path

from .views import public, report

urlpatterns = [
    path("t/<str:token>/", public.ticket_public, name="ticket_public"),
    # The electronic service report: web version, PDF, and the web version's photos.
    path("t/<str:token>/report/", report.public_report, name="ticket_report"),
    path("t/<str:token>/report.pdf", report.public_report_pdf, name="ticket_report_pdf"),
    path("t/<str:token>/report/<path:name>", report.public_report_file, name="ticket_report_file"),
]
