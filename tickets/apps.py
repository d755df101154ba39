from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Service tickets")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from aftersales.caching import forget
        from aftersales.signals import PEOPLE_CHOICES

        from .models import ProblemType

        def problem_types_changed(sender, **kwargs):
            forget(*PEOPLE_CHOICES)

        post_save.connect(problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
        post_delete.connect(
            problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt"
        )
