"""The customer's pages, at the site's root: no login, rate limited."""

from django.urls import path

from .views import public

urlpatterns = [
    path("t/<str:token>/", public.ticket_public, name="ticket_public"),
]
