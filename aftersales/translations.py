"""Texts of Django and django-filter that reach our pages but that their own catalogues do not
translate into zh_Hans: django-filter ships zh_CN only, and Django 6.1's newest texts are not
translated yet. Named here so that `makemessages` keeps them in our catalogue, which Django
reads before theirs (LOCALE_PATHS); nothing imports this module."""

from django.utils.translation import gettext_noop

BORROWED = [
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL
    # django_filters: OrderingFilter, CSV and range fields, the date-range choices.
    gettext_noop("%s (descending)"),
    gettext_noop("Multiple values may be separated by commas."),
    gettext_noop("Range query expects two values."),
    gettext_noop("Select a lookup."),
    gettext_noop("Yesterday"),
    gettext_noop("Past 7 days"),
    gettext_noop("This month"),
    gettext_noop("This year"),
]
