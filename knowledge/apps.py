from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self):
        from . import signals, suggest, templates_use
        from .resources import register_kinds
        from .views.articles import register_panels

        # Processed requests' text for "similar requests"; the search vocabulary kept current.
        signals.connect()
        # On the tickets app's pages (tickets.slots): "make a draft article" once the work is
        # done, suggested articles and similar requests, repair templates on the visit record.
        register_panels()
        suggest.register_panels()
        templates_use.register_panels()
        # Articles and fault codes on the master-data import / export page (customers).
        register_kinds()
