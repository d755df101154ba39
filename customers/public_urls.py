"""The customer's pages, at the site's root: no login, rate limited."""

from django.urls import path

from . import views

urlpatterns = [
    path("q/<str:token>/", views.public_equipment, name="qr_landing"),
]
