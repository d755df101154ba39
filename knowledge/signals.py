"""What keeps search current (connected in KnowledgeConfig.ready):

- a visit recorded on a request that is processed after it (tickets.hooks.visit_recorded, sent
  inside finish_visit's / correct_visit's transaction) writes its TicketText;
- a change to a source of the segmenter's vocabulary (product models, fault codes, synonyms,
  repair templates) bumps the vocabulary version, so every process reloads its dictionary.
"""

from django.db.models.signals import post_delete, post_save

from tickets.hooks import visit_recorded

from . import search


def index_visit_ticket(sender, visit, **kwargs):
    from tickets.models import Ticket

    ticket = (
        Ticket.objects.select_related("problem_type", "product")
        .prefetch_related("visits")
        .get(pk=visit.ticket_id)
    )
    search.index_ticket(ticket)


def vocabulary_changed(sender, **kwargs):
    search.vocabulary_changed()


def connect():
    from customers.models import ProductModel

    from .models import FaultCode, RepairTemplate, Synonym

    visit_recorded.connect(index_visit_ticket, dispatch_uid="knowledge.index_visit_ticket")
    for model in (ProductModel, FaultCode, Synonym, RepairTemplate):
        for signal in (post_save, post_delete):
            signal.connect(
                vocabulary_changed, sender=model, dispatch_uid=f"knowledge.vocabulary.{model}"
            )
