"""The customer's pages, at the site's root: no login, rate limited (tickets.views.portal and
tickets.views.public)."""

from django.urls import path

from .views import portal, public, rating, report

urlpatterns = [
    path("q/<str:token>/", portal.unit_report, name="qr_landing"),
    path("q/<str:token>/add/", portal.unit_add, name="qr_add"),
    path("report/", portal.portal, name="portal"),
    path("report/code/", portal.portal_code, name="portal_code"),
    path("track/", portal.track, name="track"),
    path("track/code/", portal.track_code, name="track_code"),
    path("t/<str:token>/", public.ticket_public, name="ticket_public"),
    path("t/<str:token>/rate/", rating.ticket_rate, name="ticket_rate"),
    # The electronic service report: web version, PDF, and the web version's photos.
    path("t/<str:token>/report/", report.public_report, name="ticket_report"),
    path("t/<str:token>/report.pdf", report.public_report_pdf, name="ticket_report_pdf"),
    path("t/<str:token>/report/<path:name>", report.public_report_file, name="ticket_report_file"),
]
