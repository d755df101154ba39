"""The customer's pages, at the site's root: no login, rate limited."""

from django.urls import path

from .views import public

urlpatterns = [
    path("q/<str:token>/", public.public_equipment, name="qr_landing"),
]
