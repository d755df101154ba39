from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Service tickets")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from aftersales.caching import forget
        from aftersales.signals import PEOPLE_CHOICES
        from customers.signals import agreement_terms_changed

        from . import tasks
        from .models import ProblemType

        def problem_types_changed(sender, **kwargs):
            forget(*PEOPLE_CHOICES)

        post_save.connect(problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
        post_delete.connect(
            problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt"
        )

        def replan_after_agreement_edit(sender, agreement_id, actor_id=None, **kwargs):
            # Sent inside the edit's transaction: the re-plan runs after its commit (it must
            # read the new targets, and nothing is re-planned for an edit that rolled back).
            tasks.replan_agreement.delay_on_commit(agreement_id, actor_id)

        # weak=False: a signal holds a weak reference by default, and nothing else keeps this
        # inner function alive once ready() returns.
        agreement_terms_changed.connect(
            replan_after_agreement_edit, weak=False, dispatch_uid="tickets-replan-agreement"
        )
