"""The customer's pages, at the site's root: no login, rate limited."""

from django.urls import path

from .views import public, rating

urlpatterns = [
    path("t/<str:token>/", public.ticket_public, name="ticket_public"),
    path("t/<str:token>/rate/", rating.ticket_rate, name="ticket_rate"),
]
