"""The knowledge base's pages where the work happens: suggestions while a request is typed, for a
request, and feedback on an article from a request. Included by the knowledge app's URLs
(namespace "knowledge"), under /knowledge/."""

from django.urls import path

from . import feedback, suggest

urlpatterns = [
    path("suggest/", suggest.suggest, name="suggest"),
    path("suggest/ticket/<int:pk>/", suggest.ticket_suggestions, name="ticket_suggestions"),
    path("<int:pk>/feedback/<int:ticket_pk>/", feedback.give_feedback, name="feedback"),
]
