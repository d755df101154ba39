from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self):
        from . import signals
        from .resources import register_kinds
        from .views.articles import register_panels

        # Processed requests' text for "similar requests"; the search vocabulary kept current.
        signals.connect()
        # "Make a draft article" on the page of a request whose work is done (tickets.slots).
        register_panels()
        # Articles and fault codes on the master-data import / export page (customers).
        register_kinds()
