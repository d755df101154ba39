"""The customer's pages, at the site's root: no login, rate limited."""

from django.urls import path

from . import views

urlpatterns = [
    path("t/<str:token>/", views.ticket_public, name="ticket_public"),
]
