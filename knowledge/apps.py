from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self):
        # --- suggest: panels on the tickets app's pages (tickets.slots) ----------------------
        from . import suggest, templates_use

        suggest.register_panels()
        templates_use.register_panels()
        # --- end suggest -----------------------------------------------------------------------
