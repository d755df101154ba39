"""The customer's pages, at the site's root: no login, rate limited (tickets.views.portal and
tickets.views.public)."""

from django.urls import path

from .views import portal, public, rating

urlpatterns = [
    path("q/<str:token>/", portal.unit_report, name="qr_landing"),
    path("q/<str:token>/add/", portal.unit_add, name="qr_add"),
    path("report/", portal.portal, name="portal"),
    path("report/code/", portal.portal_code, name="portal_code"),
    path("track/", portal.track, name="track"),
    path("track/code/", portal.track_code, name="track_code"),
    path("t/<str:token>/", public.ticket_public, name="ticket_public"),
    path("t/<str:token>/rate/", rating.ticket_rate, name="ticket_rate"),
]
